"""The 2-D toy GAN: data, small MLPs, training steps, and what the lab draws.

Modules, in the order data flows:

* :mod:`.data`       -- 2-D distributions (line, mixture, ring, grid, moons, spiral, drawn points), noise;
* :mod:`.models`     -- MLP generator and discriminator from a :class:`ToyModelConfig`;
* :mod:`.steps`      -- one D step / one G step (:class:`ToyTrainConfig`: loss, optimizer, lrs, k, GP, R1);
* :mod:`.trainer`    -- :class:`ToyTrainer`, the state of one run, stepped by a TrainingSession;
* :mod:`.fields`     -- D heatmap, generator-gradient arrows, generator manifold;
* :mod:`.divergence` -- KL / JS on a 30 x 30 grid;  :mod:`.coverage` -- mode coverage;
* :mod:`.alarms`     -- guards: collapsing D loss, mode collapse;
* :mod:`.bilinear`   -- the x*y game, simultaneous vs alternating updates;
* :mod:`.io`         -- save / load a toy model (safetensors), shipped pretrained models.
"""

from .data import BUILTIN_KINDS, PLANE, Distribution2D, NoiseConfig, make_distribution, points_distribution
from .models import ToyModelConfig, build_models
from .steps import ToyTrainConfig
from .trainer import ToyTrainer

__all__ = [
    "BUILTIN_KINDS",
    "PLANE",
    "Distribution2D",
    "NoiseConfig",
    "ToyModelConfig",
    "ToyTrainConfig",
    "ToyTrainer",
    "build_models",
    "make_distribution",
    "points_distribution",
]
