"""Small MLPs for the 2-D lab: a generator z -> (x, y) and a discriminator (x, y) -> logit.

Both are configured by one :class:`ToyModelConfig`. Changing anything in it means new
networks (the lab says so and resets); training hyperparameters live elsewhere
(:class:`~ganlab_kit.toy2d.run.Toy2DHyper`) and change on the fly.

Shapes: generator ``(B, noise_dim) -> (B, 2)``; discriminator ``(B, 2) -> (B, 1)`` raw
logits (``D(x) = sigmoid(logit)``), which every loss in :mod:`ganlab_kit.losses` expects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .data import NoiseConfig

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}


@dataclass
class ToyModelConfig:
    """Architecture of both networks.

    The defaults are chosen to converge (issue 10; measured by
    ``scripts/sweep_lab2d_defaults.py`` with :class:`~ganlab_kit.toy2d.run.Toy2DHyper`'s
    defaults, seeds 0-4): the ring's 8 modes all hit with JS <= 0.2 at step 2000 on 5 of 5
    seeds; on the grid, >= 20 of the 25 modes at step 5000 on 5 of 5 seeds (22-25; seeds 5-9
    too). Wider or deeper nets, or a larger noise, did worse on the grid. GAN Lab's smaller
    nets (2 hidden layers of 32 ReLU units, the former defaults here) found the ring on only
    2 of 5 seeds in 2000 steps:
    the generator has to bend one connected noise plane onto eight separate small blobs, and
    a third layer and twice the width give it the sharp folds that needs. Leaky ReLU keeps a
    gradient flowing through units a confident discriminator would otherwise switch off.
    """

    noise: NoiseConfig = field(default_factory=NoiseConfig)  # 2-D gaussian: the manifold view shows all of it
    generator_layers: int = 3  # hidden layers
    generator_neurons: int = 64  # neurons per hidden layer
    discriminator_layers: int = 3
    discriminator_neurons: int = 64
    activation: str = "leaky_relu"  # slope 0.2 below zero
    spectral_norm: bool = False  # on every discriminator layer (Miyato et al. 2018)

    def validate(self) -> None:
        self.noise.validate()
        for name in ("generator_layers", "discriminator_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0 or value > 8:
                raise ValueError(f"{name} must be an integer between 0 and 8, got {value!r}")
        for name in ("generator_neurons", "discriminator_neurons"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1 or value > 1024:
                raise ValueError(f"{name} must be an integer between 1 and 1024, got {value!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of: {', '.join(ACTIVATIONS)}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ToyModelConfig:
        values = dict(values)
        values["noise"] = NoiseConfig(**values.get("noise", {}))
        return cls(**values)


def mlp(
    in_features: int, out_features: int, layers: int, neurons: int, activation: str, spectral_norm: bool = False
) -> nn.Sequential:
    """``layers`` hidden layers of ``neurons`` units, then a linear output layer."""
    widths = [in_features] + [neurons] * layers + [out_features]
    modules: list[nn.Module] = []
    for i, (width_in, width_out) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(width_in, width_out)
        modules.append(nn.utils.parametrizations.spectral_norm(linear) if spectral_norm else linear)
        if i < len(widths) - 2:  # no activation after the output layer
            modules.append(ACTIVATIONS[activation]())
    return nn.Sequential(*modules)


def build_generator(config: ToyModelConfig) -> nn.Sequential:
    """z ``(B, noise_dim)`` -> point ``(B, 2)``; a plain MLP with a linear output."""
    config.validate()
    return mlp(config.noise.dim, 2, config.generator_layers, config.generator_neurons, config.activation)


def build_discriminator(config: ToyModelConfig) -> nn.Sequential:
    """point ``(B, 2)`` -> logit ``(B, 1)``; spectral norm on every layer when asked."""
    config.validate()
    return mlp(2, 1, config.discriminator_layers, config.discriminator_neurons, config.activation, config.spectral_norm)


def build_models(config: ToyModelConfig, seed: int | None = None) -> tuple[nn.Sequential, nn.Sequential]:
    """Generator and discriminator, initialised from ``seed`` when given (repeatable)."""
    if seed is not None:
        state = torch.random.get_rng_state()
        torch.manual_seed(seed)
    try:
        generator = build_generator(config)
        discriminator = build_discriminator(config)
    finally:
        if seed is not None:
            torch.random.set_rng_state(state)
    return generator, discriminator
