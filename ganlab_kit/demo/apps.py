"""The classroom demo apps: one live lab each, a big title, projector-sized controls and a row of
named presets. ``ganlab-kit demo NAME`` serves one with Voilà (:mod:`.command`); in a notebook::

    from ganlab_kit.demo.apps import show_demo
    show_demo("lab2d")

Every app is built by a plain function returning a :class:`DemoApp` (its widget, its lab and its
preset buttons), so the wiring is testable in pytest without a browser: ``app.presets["mode
collapse"].click()``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from .presets import LAB2D_PRESETS, apply_lab2d_preset

# Projector-sized text: the controls' own CSS variables (ipywidgets 8) plus a few direct rules for
# what does not read them (tab titles, dropdown text, the status line). 20 px controls, 48 px title.
PROJECTOR_CSS = """
<style>
.ganlab-demo {
  --jp-widgets-font-size: 20px;
  --jp-widgets-inline-height: 40px;
  --jp-widgets-inline-width: 440px;
  --jp-widgets-inline-width-short: 220px;
  --jp-widgets-inline-label-width: 200px;
  --jp-ui-font-size1: 20px;
  --jp-content-font-size1: 20px;
  font-size: 20px;
}
.ganlab-demo .widget-label, .ganlab-demo .widget-html-content, .ganlab-demo .widget-button,
.ganlab-demo .widget-toggle-button, .ganlab-demo select, .ganlab-demo input, .ganlab-demo .widget-readout,
.ganlab-demo .lm-TabBar-tab, .ganlab-demo .p-TabBar-tab, .ganlab-demo .widget-checkbox label {
  font-size: 20px !important;
}
.ganlab-demo .widget-inline-hbox .widget-label { width: auto !important; min-width: 200px; }
.ganlab-demo .widget-tab .widget-inline-hbox { width: 560px !important; }
.ganlab-demo .widget-tab .widget-inline-hbox input, .ganlab-demo .widget-tab .widget-inline-hbox select {
  min-width: 200px;
}
.ganlab-demo .widget-checkbox { width: auto !important; margin-right: 12px; }
.ganlab-demo .widget-checkbox .widget-label-basic, .ganlab-demo .widget-checkbox .widget-label-basic span {
  overflow: visible; text-overflow: clip; white-space: nowrap;
}
.ganlab-demo .lm-TabBar, .ganlab-demo .p-TabBar { min-height: 40px; }
.ganlab-demo .lm-TabBar-tab, .ganlab-demo .p-TabBar-tab { line-height: 38px; flex-basis: 240px !important; }
.ganlab-demo-title { font-size: 48px; font-weight: 700; line-height: 1.15; margin: 0 0 4px 0; }
.ganlab-demo-subtitle { font-size: 24px; color: #444; margin: 0 0 8px 0; }
.ganlab-demo-presets .widget-button { height: 52px; font-size: 22px !important; font-weight: 600; }
.ganlab-demo-about { font-size: 22px !important; line-height: 1.35; max-width: 1300px; }
.ganlab-demo-chart { zoom: 1.3; }
</style>
"""


@dataclass
class DemoApp:
    """A demo page: ``widget`` (title, presets, lab), ``lab`` (the live lab inside it) and the
    preset buttons by name; ``start`` begins the lab's redraws (called by :meth:`show`)."""

    widget: widgets.Widget
    lab: Any
    presets: dict[str, widgets.Button] = field(default_factory=dict)
    about: widgets.HTML | None = None
    start: Callable[[], None] = lambda: None

    def show(self) -> None:
        from IPython.display import display

        display(self.widget)
        self.start()

    def close(self) -> None:
        self.lab.close()


def page(title: str, subtitle: str, body: widgets.Widget, presets: dict[str, widgets.Button]) -> tuple:
    """The page around a lab: style sheet, title, subtitle, the preset row, what the preset shows."""
    heading = widgets.HTML(
        f'<div class="ganlab-demo-title">{html.escape(title)}</div>'
        f'<div class="ganlab-demo-subtitle">{html.escape(subtitle)}</div>'
    )
    about = widgets.HTML("")
    about.add_class("ganlab-demo-about")
    children: list[widgets.Widget] = [widgets.HTML(PROJECTOR_CSS), heading]
    if presets:
        row = widgets.HBox([widgets.Label("presets:"), *presets.values()], layout=widgets.Layout(flex_flow="row wrap"))
        row.add_class("ganlab-demo-presets")
        children += [row, about]
    children.append(body)
    widget = widgets.VBox(children)
    widget.add_class("ganlab-demo")
    return widget, about


def preset_buttons(names: Sequence[str], on_click: Callable[[str], None]) -> dict[str, widgets.Button]:
    buttons = {}
    for name in names:
        button = widgets.Button(description=name, layout=widgets.Layout(width="auto"), button_style="info")
        button.on_click(lambda _button, name=name: on_click(name))
        buttons[name] = button
    return buttons


def _say_about(about: widgets.HTML, name: str, description: str) -> None:
    about.value = f"<b>{html.escape(name)}</b>: {html.escape(description)}"


# --------------------------------------------------------------------- 2-D lab
def lab2d_app(live: bool | None = None) -> DemoApp:
    """The 2-D lab with the presets of :data:`~ganlab_kit.demo.presets.LAB2D_PRESETS`."""
    from ..widgets.lab2d import GanLab2D, LabConfig

    first = LAB2D_PRESETS[0]
    lab = GanLab2D(
        LabConfig(distribution=first.distribution, model=first.model, hyper=first.hyper, seed=first.seed, live=live)
    )
    lab.field.widget.size = 480  # the plane, a little larger than in a notebook
    for chart in lab.charts.values():
        chart.widget.add_class("ganlab-demo-chart")
    by_name = {preset.name: preset for preset in LAB2D_PRESETS}

    def choose(name: str) -> None:
        try:
            apply_lab2d_preset(lab, by_name[name])
        except Exception as exc:  # shown to the class, never a dead button
            lab.bar.say(f"{name}: {type(exc).__name__}: {exc}", level="error")
            return
        _say_about(about, name, by_name[name].description)
        lab.refresher.draw_now()

    buttons = preset_buttons(list(by_name), choose)
    widget, about = page(
        "GAN Lab: a GAN learning, live",
        "Green: where the discriminator says real. Purple dots: the generator's fakes. Press Play.",
        lab.widget,
        buttons,
    )
    _say_about(about, first.name, first.description)

    def start() -> None:
        if lab.live:
            lab.refresher.start()

    return DemoApp(widget, lab, buttons, about, start)


# ------------------------------------------------------------------- image lab
@dataclass(frozen=True)
class ImagePreset:
    """One DCGAN demonstration: the hyperparameters to set (a fresh run starts from step 0)."""

    name: str
    description: str
    hyper: dict[str, Any]


IMAGE_PRESETS: tuple[ImagePreset, ...] = (
    ImagePreset(
        "DCGAN recipe",
        "The DCGAN paper's recipe (Adam 2e-4 for both networks, beta1 0.5, non-saturating loss). In notebook "
        "04's run with these settings all ten digits were there by step 800 (9.3 effective classes of 10), "
        "9.8 by step 2,000.",
        {"loss": "non_saturating", "generator_lr": 2e-4, "discriminator_lr": 2e-4},
    ),
    ImagePreset(
        "slow discriminator",
        "The discriminator learns 100x slower than the generator (D 1e-5, G 1e-3), so it cannot teach it: "
        "in notebook 04, after 300 steps it rated the fakes more real than real digits (D(G(z)) 0.98 against "
        "D(x) 0.64) and not one sample read as a digit.",
        {"loss": "non_saturating", "generator_lr": 1e-3, "discriminator_lr": 1e-5},
    ),
)


def apply_image_preset(lab, preset: ImagePreset) -> None:
    """Set the lab's hyperparameter controls to ``preset`` (through the run's ``set_hyper``) and start a
    fresh run from step 0 with them (the lab's Reset carries the controls over)."""
    lab.session.pause()
    for name, value in preset.hyper.items():
        lab.hyper_controls.controls[name].value = value
    lab.reset()
    lab.bar.say(f"{preset.name}: fresh networks, step 0")


def image_lab_app(live: bool | None = None) -> DemoApp:
    """A DCGAN on scikit-learn's 1,797 digits (notebook 04's networks and batch; tiny in fast mode) in the image lab."""
    from ..data import digits
    from ..nets.dcgan import DCGANConfig
    from ..runtime import pick
    from ..train.dcgan import DCGANHyper, DCGANRun, DCGANRunConfig
    from ..widgets.image_lab import ImageLab, ImageLabConfig

    size, width = pick(32, 16), pick(32, 8)
    images = digits(size)
    config = DCGANRunConfig(
        model=DCGANConfig(image_size=size, channels=1, latent_dim=32, generator_width=width, discriminator_width=width),
        batch_size=64,
    )

    def make_run() -> DCGANRun:
        return DCGANRun(config, images, hyper=DCGANHyper(loss="non_saturating"))

    lab = ImageLab(make_run(), ImageLabConfig(grid_images=36, pixels=420), make_run=make_run, live=live)
    lab.chart_box.add_class("ganlab-demo-chart")  # its charts are made at the first frame
    by_name = {preset.name: preset for preset in IMAGE_PRESETS}

    def choose(name: str) -> None:
        try:
            apply_image_preset(lab, by_name[name])
        except Exception as exc:
            lab.bar.say(f"{name}: {type(exc).__name__}: {exc}", level="error")
            return
        _say_about(about, name, by_name[name].description)

    buttons = preset_buttons(list(by_name), choose)
    widget, about = page(
        "A DCGAN learns to draw digits",
        "Top: the generator's samples from fixed noise. Press Play and watch noise become digits.",
        lab.widget,
        buttons,
    )
    _say_about(about, IMAGE_PRESETS[0].name, IMAGE_PRESETS[0].description)
    return DemoApp(widget, lab, buttons, about, lab.start_views)


# ---------------------------------------------------------------- stylise lab
@dataclass(frozen=True)
class StylePreset:
    """A position of the culture-mixing slider (0 ink wash, 1 oil, 2 ukiyo-e; between: mixed)."""

    name: str
    description: str
    position: float


STYLE_PRESETS: tuple[StylePreset, ...] = (
    StylePreset("ink wash", "Chinese ink wash: colour drained to ink greys, pale sky left as blank paper.", 0.0),
    StylePreset("oil", "European oil: warmer, more saturated colour (the palette more than the brush strokes).", 1.0),
    StylePreset("ukiyo-e", "Japanese woodblock print: dark key lines along the edges.", 2.0),
    StylePreset(
        "half ink, half oil",
        "Halfway between ink wash and oil: every normalisation layer gets the average of the two styles' "
        "scale and shift. No tradition paints this; the network's in-between is new.",
        0.5,
    ),
)


def stylise_app(live: bool | None = None) -> DemoApp:
    """Stylise-your-photo (the shipped multi-style generator), with a button per culture."""
    from ..widgets.stylise_lab import StyliseLab

    lab = StyliseLab(live=live, pixels=340)
    by_name = {preset.name: preset for preset in STYLE_PRESETS}

    def choose(name: str) -> None:
        lab.slider.value = by_name[name].position  # the slider's own observer repaints the mix
        _say_about(about, name, by_name[name].description)

    buttons = preset_buttons(list(by_name), choose)
    widget, about = page(
        "Stylise your photo: three painting traditions",
        "Upload a photo; one generator paints it in each style. The slider mixes the cultures.",
        lab.widget,
        buttons,
    )
    about.value = "Press a culture to set the mixing slider to it, or drag the slider."
    return DemoApp(widget, lab, buttons, about)


# ------------------------------------------------------------------ registry
# name -> builder; the one-line summaries for ``--list`` are in :mod:`.command` (no widget import).
DEMOS: dict[str, Callable[[bool | None], DemoApp]] = {
    "lab2d": lab2d_app,
    "image": image_lab_app,
    "stylise": stylise_app,
}


def show_demo(name: str, live: bool | None = None) -> DemoApp:
    """Build the demo called ``name`` and display it (what a served demo notebook runs)."""
    if name not in DEMOS:
        raise KeyError(f"no demo named {name!r}; demos: {', '.join(DEMOS)}")
    app = DEMOS[name](live)
    app.show()
    return app
