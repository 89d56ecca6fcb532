"""The 2-D toy GAN: data, small MLPs, training steps, and what the lab draws.

Modules, in the order data flows:

* :mod:`.data`       -- 2-D distributions (line, mixture, ring, grid, moons, spiral, drawn points), noise;
* :mod:`.models`     -- MLP generator and discriminator from a :class:`ToyModelConfig`;
* :mod:`.steps`      -- one D step / one G step (plain functions of nets, optimizer, batch, hyperparameters);
* :mod:`.run`        -- :class:`Toy2DRun` (a Run, stepped by a TrainingSession) and :class:`Toy2DHyper`
  (loss, optimizer, learning rates, betas, k, batch size, GP, R1);
* :mod:`.fields`     -- D heatmap, generator-gradient arrows, generator manifold;
* :mod:`.divergence` -- KL / JS on a 30 x 30 grid;  :mod:`.coverage` -- mode coverage;
* :mod:`.bilinear`   -- the x*y game, simultaneous vs alternating updates;
* :mod:`.io`         -- save / load a 2-D run (the kit's checkpoint format), shipped pretrained models.

The guards (collapsing D loss, mode collapse) live in :mod:`ganlab_kit.train.guards`.
"""

from .data import BUILTIN_KINDS, PLANE, Distribution2D, NoiseConfig, make_distribution, points_distribution
from .models import ToyModelConfig, build_models
from .run import Toy2DHyper, Toy2DRun

__all__ = [
    "BUILTIN_KINDS",
    "PLANE",
    "Distribution2D",
    "NoiseConfig",
    "Toy2DHyper",
    "Toy2DRun",
    "ToyModelConfig",
    "build_models",
    "make_distribution",
    "points_distribution",
]
