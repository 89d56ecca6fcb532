"""A tiny model that follows the Run protocol (ganlab_kit.train.run), for lab tests.

Two linear layers make (B, 3, 8, 8) images from noise; a linear discriminator scores
them against a fixed "real" batch. The hyperparameters have one of every kind of
control: a choice (loss), two log-scale learning rates, a float weight, an int fixed
for the run (live=False) and a tuple (betas). ``visuals`` returns two entries ("input",
"output") and can be made slow (``visual_gate``) to show that training never waits
for drawing. Importable by the browser test's notebook kernel (tests/ on sys.path).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from ganlab_kit.train.run import PendingHyper, RunState, hyper_field, set_learning_rate


@dataclass
class FakeHyper:
    loss: str = hyper_field(
        "non_saturating", choices=("non_saturating", "wasserstein", "least_squares"), help="adversarial loss"
    )
    generator_lr: float = hyper_field(2e-3, low=1e-6, high=1.0, log=True, help="generator learning rate")
    discriminator_lr: float = hyper_field(2e-3, low=1e-6, high=1.0, log=True, help="discriminator learning rate")
    cycle_weight: float = hyper_field(10.0, low=0.0, high=100.0, help="weight of the cycle loss")
    batch_size: int = hyper_field(8, low=1, live=False, help="fixed by the data stream")
    betas: tuple = hyper_field((0.5, 0.999), low=0.0, high=1.0, help="Adam betas")


class FakeGenerator(nn.Module):
    def __init__(self, latent_dim: int = 4) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(nn.Linear(latent_dim, 16), nn.Tanh(), nn.Linear(16, 3 * 8 * 8))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(z)).reshape(-1, 3, 8, 8)  # (B, 3, 8, 8) in [-1, 1]


class FakeRun(PendingHyper[FakeHyper]):
    visual_modules = ("generator",)

    def __init__(self, hyper: FakeHyper | None = None, seed: int = 0, latent_dim: int = 4) -> None:
        self._hyper = hyper or FakeHyper()
        self._pending_hyper = None
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        self.generator = FakeGenerator(latent_dim)
        self.discriminator = nn.Linear(3 * 8 * 8, 1)
        self._optimizers = {
            "generator": torch.optim.Adam(
                self.generator.parameters(), lr=self._hyper.generator_lr, betas=self._hyper.betas
            ),
            "discriminator": torch.optim.Adam(
                self.discriminator.parameters(), lr=self._hyper.discriminator_lr, betas=self._hyper.betas
            ),
        }
        self.real = torch.rand(16, 3, 8, 8, generator=gen) * 2 - 1
        self.fixed_noise = torch.randn(9, latent_dim, generator=gen)
        self.noise_generator = torch.Generator().manual_seed(seed + 1)
        self.steps_done = 0
        self.visual_gate: threading.Event | None = None  # set: visuals() waits for it
        self.in_visuals = threading.Event()

    @property
    def modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return self._optimizers

    def on_hyper_change(self, old: FakeHyper, new: FakeHyper) -> None:
        set_learning_rate(self._optimizers["generator"], new.generator_lr)
        set_learning_rate(self._optimizers["discriminator"], new.discriminator_lr)

    def step(self) -> dict[str, torch.Tensor]:
        self.apply_pending_hyper()
        hyper = self._hyper
        batch = hyper.batch_size
        real = self.real[:batch].flatten(1)
        z = torch.randn(batch, self.generator.latent_dim, generator=self.noise_generator)
        fake = self.generator(z).flatten(1)
        d_real, d_fake = self.discriminator(real), self.discriminator(fake.detach())
        penalty = torch.zeros(())
        if hyper.loss == "wasserstein":
            d_loss = d_fake.mean() - d_real.mean()
            penalty = (self.discriminator.weight.norm() - 1) ** 2 + 1e-3
            d_loss = d_loss + penalty
        elif hyper.loss == "least_squares":
            d_loss = ((d_real - 1) ** 2).mean() + (d_fake**2).mean()
        else:
            d_loss = nn.functional.softplus(-d_real).mean() + nn.functional.softplus(d_fake).mean()
        self._optimizers["discriminator"].zero_grad()
        d_loss.backward()
        self._optimizers["discriminator"].step()
        adversarial = nn.functional.softplus(-self.discriminator(fake)).mean()
        cycle = (fake - real).abs().mean()
        g_loss = adversarial + hyper.cycle_weight * 0.01 * cycle
        self._optimizers["generator"].zero_grad()
        g_loss.backward()
        self._optimizers["generator"].step()
        self.steps_done += 1
        return {
            "d_loss": d_loss.detach(),
            "g_loss": g_loss.detach(),
            "cycle_loss": cycle.detach(),
            "d_real": torch.sigmoid(d_real).mean().detach(),
            "d_fake": torch.sigmoid(d_fake).mean().detach(),
            "gradient_penalty": penalty.detach(),
        }

    @torch.no_grad()
    def visuals(self, modules: Mapping[str, nn.Module] | None = None) -> dict[str, torch.Tensor]:
        generator = (modules or self.modules)["generator"]
        self.in_visuals.set()
        if self.visual_gate is not None:
            self.visual_gate.wait(10)
        return {"input": self.real[:4].clone(), "output": generator(self.fixed_noise).cpu()}

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z).cpu()

    def architecture(self) -> dict:
        return {"model": "fake", "latent_dim": self.generator.latent_dim}

    def state_dict(self) -> RunState:
        return RunState(
            modules={k: m.state_dict() for k, m in self.modules.items()}, state={"steps_done": self.steps_done}
        )

    def load_state_dict(self, state: RunState) -> None:
        for name, module in self.modules.items():
            module.load_state_dict(state.modules[name])
        self.steps_done = state.state["steps_done"]
