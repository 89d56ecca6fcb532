"""How a lab shows any run: its visuals in rows, its metrics on a few charts.

Shared by :mod:`.image_lab` and :mod:`.checkpoint_compare`, and knowing only the Run
protocol's vocabulary (``d_loss``, ``g_loss``, ``*_loss``, ``d_real`` / ``d_fake``) and a
run's optional ``visual_layout`` (rows of visual names)::

    visual_rows(["real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B"], run.visual_layout)
    # -> [["real_A", "fake_B", "rec_A"], ["real_B", "fake_A", "rec_B"]]
    chart_keys(session.history[-1])
    # -> {"losses": [...], "objective": ["g_loss"], "reconstruction": [...], "probabilities": [...]}
    # (and "constraints": [...] while a CycleGAN's culture constraints are on)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ..train.run import CONSTRAINT_LOSSES, D_FAKE, D_LOSS, D_REAL, G_LOSS

CHART_TITLES = {
    "losses": "adversarial losses",
    "objective": "G's whole objective (weighted sum)",
    "reconstruction": "reconstruction (unweighted)",
    "constraints": "culture constraints (unweighted)",
    "probabilities": "D(x) and D(G(z))",
}


def chart_keys(metrics: dict[str, Any]) -> dict[str, list[str]]:
    """Which metrics go on which chart; a chart with no metric is left out.

    Few lines per chart, and lines of one scale on each (readable on a projector):

    * ``"losses"``: the game. ``d_loss``, the generator's adversarial term, then each
      discriminator's own loss (``d_<name>_loss``: CycleGAN's ``d_A_loss``, ``d_B_loss``).
      The adversarial term is ``adversarial_loss`` when the run reports it, else ``g_loss``;
    * ``"objective"``: ``g_loss`` when ``adversarial_loss`` stood in for it above. It is then
      the generator's whole objective, a weighted sum whose scale the weights set
      (pix2pix: ``adversarial + 100 * l1``), which would flatten every other line;
    * ``"reconstruction"``: every other ``*_loss``, unweighted distances between images
      (``cycle_loss``, ``identity_loss``, ``l1_loss``);
    * ``"constraints"``: the culture constraints a run reports while their weight is on
      (``blank_space_loss``, ``brush_edge_loss``, ``ink_diffusion_loss``), unweighted: what
      a style asks of the translation, kept apart from the distances to a target image;
    * ``"probabilities"``: ``d_real`` and ``d_fake``.
    """
    adversarial = "adversarial_loss" if "adversarial_loss" in metrics else G_LOSS
    losses = [k for k in (D_LOSS, adversarial) if k in metrics]
    losses += sorted(k for k in metrics if k.startswith("d_") and k.endswith("_loss") and k not in losses)
    objective = [G_LOSS] if adversarial != G_LOSS and G_LOSS in metrics else []
    constraints = [k for k in CONSTRAINT_LOSSES if k in metrics]
    taken = set(losses) | set(objective) | set(constraints)
    reconstruction = sorted(k for k in metrics if k.endswith("_loss") and k not in taken)
    probabilities = [k for k in (D_REAL, D_FAKE) if k in metrics]
    groups = (
        ("losses", losses),
        ("objective", objective),
        ("reconstruction", reconstruction),
        ("constraints", constraints),
        ("probabilities", probabilities),
    )
    return {name: keys for name, keys in groups if keys}


def visual_rows(names: Sequence[str], layout: Sequence[Sequence[str]] | None = None) -> list[list[str]]:
    """The visuals' names in rows: the rows of ``layout`` (a run's ``visual_layout``), names
    the run does not return dropped, then any name the layout leaves out in a last row.
    No layout: one row, in the order of ``run.visuals()`` (it wraps on a narrow screen)."""
    names = list(names)
    if layout is None:
        return [names] if names else []
    if isinstance(layout, str) or any(isinstance(row, str) or not isinstance(row, Sequence) for row in layout):
        raise ValueError(
            "visual_layout must be rows of visual names, e.g. (('real_A', 'fake_B', 'rec_A'), "
            f"('real_B', 'fake_A', 'rec_B')); got {layout!r}"
        )
    rows, placed = [], set()
    for row in layout:
        kept = [name for name in row if name in names and name not in placed]
        placed.update(kept)
        if kept:
            rows.append(kept)
    rest = [name for name in names if name not in placed]
    return rows + ([rest] if rest else [])


def grid_class(name: str) -> str:
    """The stable CSS class of a visual's grid: ``ganlab-grid-fake_B`` (browser tests find it)."""
    return "ganlab-grid-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def caption_label(text: str) -> widgets.Label:
    """A grid's caption: the visual's name, bold and large enough for a projector."""
    return widgets.Label(value=text, style={"font_size": "15px", "font_weight": "bold"})
