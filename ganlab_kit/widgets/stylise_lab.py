"""Stylise your own photo: upload it, see it in the three styles, and mix the cultures.

    from ganlab_kit.widgets.stylise_lab import StyliseLab
    StyliseLab().show()

One row shows the photo and its ink-wash, oil and ukiyo-e paintings by the shipped
multi-style generator; below, the **culture-mixing slider** walks ink wash -> oil ->
ukiyo-e, painting with the interpolated style code (every conditional-norm layer's scale
and shift mixed). An upload that cannot be used (not an image, too large, too small,
damaged) leaves the pictures as they were and says why; converted uploads (greyscale,
RGBA...) say what was converted.

Without a front end (nbclient, nbval, a script) :meth:`show` draws the same views as one
static matplotlib figure.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import numpy as np
import torch

from ..nets.conditional import mix_along
from ..runtime import frontend_attached
from ..styles.stylise import Upload, UploadError, load_style_generator, read_upload, stylise
from .image_grid import png_bytes

LABELS = {"ink_wash": "ink wash 水墨", "oil": "oil", "ukiyoe": "ukiyo-e 浮世絵"}  # HTML: browsers have CJK fonts
FIGURE_LABELS = {"ink_wash": "ink wash (shuimo)", "oil": "oil", "ukiyoe": "ukiyo-e"}  # matplotlib's often lack them


def to_picture(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] -> (H, W, 3) floats in [0, 1]."""
    return ((image[0].permute(1, 2, 0).float() + 1) / 2).clamp(0, 1).numpy()


def to_png(image: torch.Tensor, width: int) -> bytes:
    return png_bytes((to_picture(image) * 255).round().astype(np.uint8), width)


def default_photo(size: int = 256) -> Upload:
    """The built-in photo of Chelsea the cat (scikit-image), checked like an upload."""
    from ..styles.photos import builtin_photos

    source = next((p for p in builtin_photos() if p.name == "chelsea"), builtin_photos()[0])
    upload = read_upload(source.path.read_bytes(), size=size)
    upload.notes.insert(0, f"built-in photo: {source.name}")
    return upload


class StyliseLab:
    """The photo in every style, and a slider that mixes them (module docstring)."""

    def __init__(
        self,
        generator=None,
        *,
        size: int = 256,
        photo: Upload | None = None,
        pixels: int = 300,
        live: bool | None = None,
    ) -> None:
        self.generator = generator if generator is not None else load_style_generator()
        self.styles = tuple(self.generator.styles)
        self.size, self.pixels = int(size), int(pixels)
        self.live = frontend_attached() if live is None else bool(live)
        self.photo = photo if photo is not None else default_photo(size)
        self.paintings: dict[str, torch.Tensor] = {}
        self.seconds_per_style = float("nan")

        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload a photo")
        self.message = widgets.HTML(value="")
        self.views = {name: widgets.Image(format="png", width=pixels) for name in ("photo", *self.styles)}
        titles = {"photo": "photo", **{n: LABELS.get(n, n) for n in self.styles}}
        columns = [widgets.VBox([widgets.HTML(f"<b>{titles[n]}</b>"), view]) for n, view in self.views.items()]
        self.slider = widgets.FloatSlider(
            value=0.5,
            min=0.0,
            max=len(self.styles) - 1,
            step=0.05,
            description="mix",
            continuous_update=False,
            readout_format=".2f",
            layout=widgets.Layout(width=f"{max(2 * pixels, 400)}px"),
        )
        self.mix_caption = widgets.HTML(value="")
        self.mix_view = widgets.Image(format="png", width=pixels)
        ends = " ↔ ".join(LABELS.get(n, n) for n in self.styles)
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.upload, self.message]),
                widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap")),
                widgets.HTML(f"<b>culture-mixing slider</b>: {ends}"),
                self.slider,
                widgets.HBox([self.mix_view, self.mix_caption]),
            ]
        )
        self.upload.observe(self._on_upload, names="value")
        self.slider.observe(lambda change: self.show_mix(change["new"]), names="value")
        self.paint_all()
        self.show_mix(self.slider.value)

    # ------------------------------------------------------------ actions
    def use_photo(self, data: bytes) -> list[str]:
        """Check and use an uploaded file's bytes; returns the notes. Raises UploadError,
        leaving the current photo and pictures untouched."""
        self.photo = read_upload(data, size=self.size)
        self.paint_all()
        self.show_mix(self.slider.value)
        return self.photo.notes

    def paint_all(self) -> dict[str, torch.Tensor]:
        start = time.perf_counter()
        self.paintings = {name: stylise(self.generator, self.photo.image, name) for name in self.styles}
        self.seconds_per_style = (time.perf_counter() - start) / len(self.styles)
        self.views["photo"].value = to_png(self.photo.image, self.pixels)
        for name, image in self.paintings.items():
            self.views[name].value = to_png(image, self.pixels)
        h, w = self.photo.image.shape[-2:]
        notes = "; ".join(self.photo.notes)
        self.message.value = (
            f"{w}x{h} px, {self.seconds_per_style:.2f} s per style on "
            f"{next(self.generator.parameters()).device}" + (f" ({notes})" if notes else "")
        )
        return self.paintings

    def mix(self, position: float) -> tuple[dict[str, float], torch.Tensor]:
        weights = mix_along(self.styles, float(position))
        return weights, stylise(self.generator, self.photo.image, weights)

    def show_mix(self, position: float) -> torch.Tensor:
        weights, image = self.mix(position)
        self.mix_view.value = to_png(image, self.pixels)
        self.mix_caption.value = " + ".join(f"{w:.0%} {LABELS.get(n, n)}" for n, w in weights.items() if w > 0)
        return image

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        entry = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        try:
            self.use_photo(bytes(entry["content"]))
        except UploadError as exc:
            self.message.value = f"<span style='color:#b00'>{entry.get('name', 'upload')}: {exc}</span>"

    # ------------------------------------------------------------ display
    def figure(self, mix_steps: int = 5):
        """A static picture: the photo and each style, then the mixing path in ``mix_steps`` stops."""
        import matplotlib.pyplot as plt

        top = [("photo", self.photo.image)] + [(FIGURE_LABELS.get(n, n), self.paintings[n]) for n in self.styles]
        positions = np.linspace(0, len(self.styles) - 1, mix_steps)
        bottom = []
        for position in positions:
            weights, image = self.mix(position)
            bottom.append((" + ".join(f"{w:.0%} {n}" for n, w in weights.items() if w > 0.001), image))
        columns = max(len(top), len(bottom))
        fig, axes = plt.subplots(2, columns, figsize=(3.0 * columns, 6.6), dpi=110)
        for row, items in enumerate((top, bottom)):
            for col in range(columns):
                axis = axes[row, col]
                axis.axis("off")
                if col < len(items):
                    title, image = items[col]
                    axis.imshow(to_picture(image))
                    axis.set_title(title.replace(" + ", "\n+ "), fontsize=12)
        fig.suptitle("the photo in each style (top) and the culture-mixing slider's path (bottom)", fontsize=13)
        fig.tight_layout()
        return fig

    def show(self) -> None:
        """Live: the widget, with a PNG of the same views beside it for readers without widgets
        (:class:`~ganlab_kit.widgets.snapshot.LabDisplay`); without a front end: the PNG alone."""
        from .snapshot import LabDisplay

        self.display = LabDisplay(self.widget, self.figure, lambda: f"StyliseLab({', '.join(self.styles)})")
        self.display.show(self.live)
