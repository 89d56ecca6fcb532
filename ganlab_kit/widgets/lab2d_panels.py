"""The 2-D lab's control panels: data, model, training, layers.

Each control is bound with :func:`~ganlab_kit.widgets.controls.bind_value`, so a bad
value (negative learning rate, zero neurons, an empty drawing) is refused at the
control with a message and the control goes back to its previous value. Accepted
values go to the lab, which applies training hyperparameters at the next step and
resets the networks (saying so) when the architecture changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ..losses import LOSS_KINDS
from ..toy2d.data import BUILTIN_KINDS, NOISE_KINDS
from ..toy2d.models import ACTIVATIONS
from ..toy2d.steps import OPTIMIZERS
from .controls import bind_value
from .field_view import LAYERS

if TYPE_CHECKING:  # pragma: no cover
    from .lab2d import GanLab2D

DRAWN = "drawn"
_STYLE = {"description_width": "150px"}
_LAYOUT = widgets.Layout(width="280px")


def _int(description: str, value: int) -> widgets.IntText:
    return widgets.IntText(value=value, description=description, style=_STYLE, layout=_LAYOUT)


def _float(description: str, value: float) -> widgets.FloatText:
    return widgets.FloatText(value=value, description=description, style=_STYLE, layout=_LAYOUT)


def _choice(description: str, options, value) -> widgets.Dropdown:
    return widgets.Dropdown(options=list(options), value=value, description=description, style=_STYLE, layout=_LAYOUT)


class LabPanels:
    """Builds the controls for ``lab`` and wires each one to it (see the module docstring)."""

    def __init__(self, lab: GanLab2D) -> None:
        self.lab = lab
        bar = lab.bar
        model, train = lab.run.model_config, lab.run.next_hyper

        # ---- data
        self.distribution = _choice(
            "distribution",
            BUILTIN_KINDS + (DRAWN,),
            lab.run.distribution.name if lab.run.distribution.name in BUILTIN_KINDS else DRAWN,
        )
        self.draw = widgets.ToggleButton(
            description="Draw points", icon="pencil", tooltip="click or drag on the plane to add points"
        )
        self.clear_drawing = widgets.Button(description="Clear drawing", icon="eraser")
        self.use_drawing = widgets.Button(description="Train on drawing", icon="check")
        self.pretrained = widgets.Button(
            description="Load pretrained",
            icon="download",
            tooltip="start from the shipped trained model of this distribution",
        )
        bind_value(self.distribution, lab.set_distribution, self._check_distribution, bar)
        self.draw.observe(lambda change: setattr(lab.field.widget, "drawing", bool(change["new"])), names="value")
        self.clear_drawing.on_click(bar.handler(lab.field.clear_drawing))
        self.use_drawing.on_click(bar.handler(self._use_drawing))
        self.pretrained.on_click(bar.handler(lambda: lab.load_pretrained(self.distribution.value)))

        # ---- model (architecture: a change resets the networks)
        self.noise_kind = _choice("noise", NOISE_KINDS, model.noise.kind)
        self.noise_dim = _int("noise dimensions", model.noise.dim)
        self.generator_layers = _int("G hidden layers", model.generator_layers)
        self.generator_neurons = _int("G neurons / layer", model.generator_neurons)
        self.discriminator_layers = _int("D hidden layers", model.discriminator_layers)
        self.discriminator_neurons = _int("D neurons / layer", model.discriminator_neurons)
        self.activation = _choice("activation", ACTIVATIONS, model.activation)
        self.spectral_norm = widgets.Checkbox(value=model.spectral_norm, description="spectral norm on D", style=_STYLE)
        self.seed = _int("seed", lab.run.seed)
        for name in (
            "generator_layers",
            "generator_neurons",
            "discriminator_layers",
            "discriminator_neurons",
            "activation",
            "spectral_norm",
        ):
            bind_value(getattr(self, name), self._architecture_setter(name), None, bar)
        bind_value(
            self.noise_kind,
            lambda v: lab.change_architecture(
                replace(lab.run.model_config, noise=replace(lab.run.model_config.noise, kind=v))
            ),
            None,
            bar,
        )
        bind_value(
            self.noise_dim,
            lambda v: lab.change_architecture(
                replace(lab.run.model_config, noise=replace(lab.run.model_config.noise, dim=v))
            ),
            None,
            bar,
        )
        bind_value(self.seed, lambda v: lab.reset(seed=v), lambda v: None if v >= 0 else "seed must be >= 0", bar)

        # ---- training (applied at the next step, no reset)
        self.loss = _choice("loss", LOSS_KINDS, train.loss)
        self.optimizer = _choice("optimizer", OPTIMIZERS, train.optimizer)
        self.discriminator_lr = _float("D learning rate", train.discriminator_lr)
        self.generator_lr = _float("G learning rate", train.generator_lr)
        self.discriminator_steps = _int("D steps per G step", train.discriminator_steps)
        self.batch_size = _int("batch size", train.batch_size)
        self.gradient_penalty = _float("gradient penalty λ", train.gradient_penalty)
        self.r1 = _float("R1 γ", train.r1)
        for name in (
            "loss",
            "optimizer",
            "discriminator_lr",
            "generator_lr",
            "discriminator_steps",
            "batch_size",
            "gradient_penalty",
            "r1",
        ):
            bind_value(getattr(self, name), self._training_setter(name), None, bar)

        # ---- layers
        self.layers = {
            name: widgets.Checkbox(value=True, description=name, indent=False, layout=widgets.Layout(width="95px"))
            for name in LAYERS
        }
        for name, box in self.layers.items():
            box.observe(lambda change, name=name: lab.set_layer(name, change["new"]), names="value")

        data_box = widgets.VBox(
            [self.distribution, widgets.HBox([self.draw, self.clear_drawing, self.use_drawing]), self.pretrained]
        )
        model_box = widgets.VBox(
            [
                self.noise_kind,
                self.noise_dim,
                self.generator_layers,
                self.generator_neurons,
                self.discriminator_layers,
                self.discriminator_neurons,
                self.activation,
                self.spectral_norm,
                self.seed,
            ]
        )
        train_box = widgets.VBox(
            [
                self.loss,
                self.optimizer,
                self.discriminator_lr,
                self.generator_lr,
                self.discriminator_steps,
                self.batch_size,
                self.gradient_penalty,
                self.r1,
            ]
        )
        self.widget = widgets.Tab(children=[train_box, model_box, data_box])
        for index, title in enumerate(("training", "model (resets)", "data")):
            self.widget.set_title(index, title)
        self.layer_row = widgets.HBox([widgets.Label("layers:"), *self.layers.values()])

    def _architecture_setter(self, name: str):
        return lambda value: self.lab.change_architecture(replace(self.lab.run.model_config, **{name: value}))

    def _training_setter(self, name: str):
        return lambda value: self.lab.set_hyper(**{name: value})

    def _check_distribution(self, value: str) -> str | None:
        if value == DRAWN and not self.lab.field.drawn:
            return "the drawing is empty: press 'Draw points', click or drag on the plane, then choose 'drawn'"
        return None

    def _use_drawing(self) -> None:
        if self.distribution.value == DRAWN:
            self.lab.set_distribution(DRAWN)  # refresh with the new points
        else:
            self.distribution.value = DRAWN  # goes through the check above
