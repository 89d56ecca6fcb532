"""Widgets for live labs: shared pieces and the labs built from them.

Shared by every lab:

* :mod:`.refresh`  -- :class:`ViewRefresher`, redraws views at a fixed fps from its own thread;
* :mod:`.controls` -- :class:`TransportBar` (play/pause, step, reset, slow motion, status)
  and :func:`bind_value` (refuse bad hyperparameters at the control);
* :mod:`.charts`   -- :class:`LineChart`, a canvas line chart of metric histories.

The 2-D GAN lab lives in :mod:`.lab2d` (with its canvas in :mod:`.field_view`).
Import the submodule you need; this package imports nothing heavy by itself.
"""
