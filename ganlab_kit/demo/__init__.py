"""Classroom demos: the labs as Voilà apps with named presets (``ganlab-kit demo NAME``).

* :mod:`.presets` -- the 2-D lab's presets (typed dataclasses, measured) and how they are applied;
* :mod:`.apps`    -- the demo pages (title, projector-sized controls, preset row, the live lab);
* :mod:`.command` -- the ``demo`` sub-command: writes the demo notebook and serves it with Voilà.

Importing this package imports no widgets: the command-line part works without the lab extra.
"""
