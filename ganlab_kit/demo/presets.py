"""Named presets for the classroom demos: the classic demonstrations, one click each.

A preset is a small typed dataclass holding everything the demonstration needs (data, model,
hyperparameters, seed) and one sentence a teacher can say. It is applied through the lab's own
API (:meth:`GanLab2D.reset`, :meth:`GanLab2D.set_distribution`, :meth:`GanLab2D.set_hyper`), then
the lab's controls are set to the same values, so what the class sees on the controls is what
trains.

The 2-D presets were measured with ``scripts/measure_demo_presets.py`` (seeds 0, 1, 2, the lab's
own ``evaluate()`` on 4,000 fresh samples, 2,000 steps or until the lab's mode-collapse alarm);
the numbers are in each preset's description.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

from ..toy2d.models import ToyModelConfig
from ..toy2d.run import Toy2DHyper

if TYPE_CHECKING:  # pragma: no cover
    from ..widgets.lab2d import GanLab2D


@dataclass(frozen=True)
class Lab2DPreset:
    """One demonstration in the 2-D lab: data, networks, training and seed, and what it shows."""

    name: str
    description: str  # one or two sentences the teacher can say, with the measured numbers
    distribution: str = "ring"
    model: ToyModelConfig = field(default_factory=ToyModelConfig)
    hyper: Toy2DHyper = field(default_factory=Toy2DHyper)
    seed: int = 0


COLLAPSE_LR = 0.02  # notebook 02's failure on purpose: both learning rates 20x the defaults

RING = Lab2DPreset(
    "ring that converges",
    "The lab's defaults (3x64 leaky-ReLU nets, Adam 0.001, batch 1024, R1 0.03): the fakes find all 8 modes of "
    "the ring by about step 300, then tighten onto them: at step 2,000 all 8 modes, JS 0.17 (seeds 0, 1 and 2: "
    "JS 0.17, 0.17, 0.15).",
)
# The collapse needs the stabilisers off: with the defaults' R1 and batch of 1024, learning rates of 0.02 do
# not collapse onto a mode or two but smear the fakes along the circle (3-4 of 8 modes, JS about 0.5, no alarm;
# notebook 02 shows both).
STABILISERS_OFF = dict(batch_size=512, r1=0.0)  # R1 off, batch 512: the lab's defaults before the grid fix
MODE_COLLAPSE = Lab2DPreset(
    "mode collapse",
    f"Both learning rates {COLLAPSE_LR}, 20x the defaults, with R1 off and batches of 512: each generator step "
    "throws all the fakes toward the one region the discriminator calls real, and the whole batch jumps from mode "
    "to mode. The lab's mode-collapse alarm stops it at step 1,060 with 2 of 8 modes (seed 0; seed 1: at step "
    "1,470 with 1 mode; seed 2: no alarm, but only 3 of 8 modes at step 2,000).",
    hyper=Toy2DHyper(generator_lr=COLLAPSE_LR, discriminator_lr=COLLAPSE_LR, **STABILISERS_OFF),
)
FIX_LR = 0.002  # the fix: both learning rates 10x smaller than the collapse setting's (2x the defaults)

THE_FIX = Lab2DPreset(
    "the fix that cures it",
    f"One change from 'mode collapse': both learning rates 10x smaller ({COLLAPSE_LR} -> {FIX_LR}). Small steps "
    "let each network follow the other instead of overshooting: all 8 modes, no alarm, JS 0.15 at step 2,000 "
    "(seeds 0, 1 and 2 alike). No single change at 0.02 (R1, more D steps, a slower G, LSGAN, WGAN-GP) kept all "
    "8 modes on any of those seeds, and lowering the rate after the collapse does not undo it: start afresh.",
    hyper=Toy2DHyper(generator_lr=FIX_LR, discriminator_lr=FIX_LR, **STABILISERS_OFF),
)

LAB2D_PRESETS: tuple[Lab2DPreset, ...] = (RING, MODE_COLLAPSE, THE_FIX)


def apply_lab2d_preset(lab: GanLab2D, preset: Lab2DPreset) -> None:
    """Pause ``lab`` and start ``preset`` from step 0: new networks from its model and seed, its
    data and hyperparameters; then the controls show the same values and the bar says what it is."""
    lab.session.pause()
    lab.set_distribution(preset.distribution)
    lab.reset(model_config=replace(preset.model), seed=preset.seed)  # a copy: the lab may change it later
    lab.set_hyper(**{spec.name: getattr(preset.hyper, spec.name) for spec in fields(preset.hyper)})
    lab.run.apply_pending()  # the optimizers get the preset's learning rates now, not at the next step
    _sync_lab2d_controls(lab, preset)
    lab.bar.say(f"preset '{preset.name}': fresh networks, step 0; press Play")
    lab.bar.update()


def _sync_lab2d_controls(lab: GanLab2D, preset: Lab2DPreset) -> None:
    """Show the preset's values on the controls. The lab already holds them, so a control whose
    value changes here re-applies the same value (a no-op in effect)."""
    panels, model, hyper = lab.panels, preset.model, preset.hyper
    values = {
        panels.distribution: preset.distribution,
        panels.noise_kind: model.noise.kind,
        panels.noise_dim: model.noise.dim,
        panels.generator_layers: model.generator_layers,
        panels.generator_neurons: model.generator_neurons,
        panels.discriminator_layers: model.discriminator_layers,
        panels.discriminator_neurons: model.discriminator_neurons,
        panels.activation: model.activation,
        panels.spectral_norm: model.spectral_norm,
        panels.seed: preset.seed,
        panels.loss: hyper.loss,
        panels.optimizer: hyper.optimizer,
        panels.discriminator_lr: hyper.discriminator_lr,
        panels.generator_lr: hyper.generator_lr,
        panels.discriminator_steps: hyper.discriminator_steps,
        panels.batch_size: hyper.batch_size,
        panels.gradient_penalty: hyper.gradient_penalty,
        panels.r1: hyper.r1,
    }
    for control, value in values.items():
        if control.value != value:
            control.value = value
