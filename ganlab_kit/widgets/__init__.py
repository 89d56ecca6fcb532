"""Widgets for live labs: shared pieces and the labs built from them.

Shared by every lab:

* :mod:`.refresh`  -- :class:`ViewRefresher`, redraws views at a fixed fps from its own thread;
* :mod:`.controls` -- :class:`TransportBar` (play/pause, step, reset, slow motion, status)
  and :func:`bind_value` (refuse bad hyperparameters at the control);
* :mod:`.charts`   -- :class:`LineChart`, a canvas line chart of metric histories;
* :mod:`.shadow`   -- :class:`ShadowModules`, copies of networks refreshed in place under
  the session lock, so views draw outside it and training never waits;
* :mod:`.hyper_controls` -- :class:`HyperControls`, one control per field of any run's
  hyperparameter dataclass (from its ``hyper_field`` metadata);
* :mod:`.image_grid` -- :func:`to_grid` / :func:`png_bytes`, image batches as one picture;
* :mod:`.snapshot` -- :class:`LabDisplay`, how a lab shows itself: the live widget and a PNG
  of it in one output (static readers of a committed notebook see the picture), or the PNG
  alone without a front end;
* :mod:`.run_views` -- :func:`visual_rows` (a run's visuals in the rows of its optional
  ``visual_layout``) and :func:`chart_keys` (its metrics on few-line charts of one scale each).

The labs: :mod:`.image_lab` (:class:`ImageLab`, any :class:`~ganlab_kit.train.run.Run`),
:mod:`.latent_explorer` (:class:`LatentExplorer`, any run with ``sample(z)``),
:mod:`.checkpoint_compare` (:class:`CheckpointCompare`, saved checkpoints side by side; a view
that trains nothing: ``show()`` and ``figure()`` only), and the 2-D
GAN lab in :mod:`.lab2d` (with its canvas in :mod:`.field_view`). Every lab offers
``live=`` (None: ask :func:`~ganlab_kit.runtime.frontend_attached`), ``show()``,
``train(steps)``, ``wait()``, ``reset()`` and ``close()``.
Import the submodule you need; this package imports nothing heavy by itself.
"""
