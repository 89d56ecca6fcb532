"""Stylise your own photo with the shipped multi-style generator.

    from ganlab_kit.styles import stylise
    generator = stylise.load_style_generator()            # pretrained/style_generator.safetensors
    photo = stylise.read_upload(open("me.jpg", "rb").read())  # (1, 3, H, W) in [-1, 1], checked
    paintings = stylise.stylise(generator, photo, "ink_wash")         # one style
    mixed = stylise.stylise(generator, photo, {"ink_wash": 0.5, "ukiyoe": 0.5})  # a mix

Uploads are checked before anything runs: not an image, a file over 20 MB, more than 40
megapixels, or smaller than 32 px each give :class:`UploadError` with a message saying
what was wrong. Greyscale, palette, 16-bit and RGBA images are converted (transparent
areas onto white) and :func:`read_upload` says so in ``notes``.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..nets.conditional import ConditionalStyleGenerator, StyleGeneratorConfig, style_code

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
GENERATOR_FILE = "style_generator.safetensors"
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 32


class UploadError(ValueError):
    """An upload that cannot be stylised; the message says why."""


@dataclass
class Upload:
    """A checked photo: ``image`` (1, 3, H, W) in [-1, 1] at ``size`` px on its short side
    (a multiple of 4), what the file was, and what was converted."""

    image: torch.Tensor
    original_size: tuple[int, int]
    notes: list[str] = field(default_factory=list)


def read_upload(data: bytes, size: int = 256) -> Upload:
    """Decode and check an uploaded file's bytes; resize so the short side is ``size``."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise UploadError("the upload is empty")
    if len(data) > MAX_BYTES:
        raise UploadError(f"the file is {len(data) / 1e6:.1f} MB; uploads up to {MAX_BYTES // 1024 // 1024} MB")
    try:
        with warnings.catch_warnings():  # the size is checked here, before decoding, with a clearer message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(bytes(data)))
        with opened:
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise UploadError(
                    f"the image is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
                    f"at most {MAX_PIXELS // 1_000_000} megapixels"
                )
            opened.load()
            image, notes = _to_rgb(opened)
    except UnidentifiedImageError as exc:
        raise UploadError("this file is not an image PIL can read (JPEG, PNG, WebP, BMP, GIF, TIFF...)") from exc
    except Image.DecompressionBombError as exc:
        raise UploadError(f"the image is too large to decode safely: {exc}") from exc
    except OSError as exc:
        raise UploadError(f"the image file is damaged or truncated: {exc}") from exc
    if min(width, height) < MIN_SIDE:
        raise UploadError(f"the image is {width}x{height}; each side must be at least {MIN_SIDE} px")
    scale = size / min(width, height)
    new_w, new_h = (max(4, round(width * scale / 4) * 4), max(4, round(height * scale / 4) * 4))
    image = image.resize((new_w, new_h), Image.Resampling.LANCZOS)
    if (new_w, new_h) != (width, height):
        notes.append(f"resized from {width}x{height} to {new_w}x{new_h}")
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0  # (H, W, 3) in [-1, 1]
    return Upload(torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous(), (width, height), notes)


def _to_rgb(image):
    """RGB (:func:`~ganlab_kit.styles.photos.image_to_rgb_array`), saying what was converted."""
    from PIL import Image

    from .photos import image_to_rgb_array

    mode = image.mode
    notes = {
        "L": "greyscale photo: the three colour channels are copies of its grey level",
        "1": "black-and-white image converted to RGB",
        "P": "palette image converted to RGB",
        "RGBA": "transparent areas put onto white (the alpha channel is dropped)",
        "LA": "greyscale with transparency: put onto white",
        "PA": "palette with transparency: put onto white",
        "CMYK": "CMYK converted to RGB",
    }
    said = []
    if mode.startswith("I;16") or mode in ("I", "F"):
        said.append(f"{mode} greyscale (16-bit or wider) scaled to 8 bits")
    elif mode == "P" and "transparency" in image.info:
        said.append(notes["PA"])
    elif mode in notes:
        said.append(notes[mode])
    elif mode != "RGB":
        said.append(f"{mode} converted to RGB")
    return Image.fromarray(image_to_rgb_array(image), "RGB"), said


def load_style_generator(path: str | Path | None = None, device: str | torch.device = "cpu"):
    """The multi-style generator shipped in the package (or the one at ``path``), in eval mode.

    Loaded with safetensors (no code runs from the file); the config travels in the file's
    metadata, so a file of another architecture builds the right net or fails clearly.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path) if path is not None else PRETRAINED_DIR / GENERATOR_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no style generator at {path}; make one with: python scripts/make_style_generator.py")
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if "config" not in metadata:
        raise ValueError(f"{path.name} is not a style generator file (no config in its metadata)")
    config = StyleGeneratorConfig.from_dict(json.loads(metadata["config"]))
    generator = ConditionalStyleGenerator(config, seed=None)
    weights = load_file(str(path))
    try:
        missing, unexpected = generator.load_state_dict(weights, strict=False)
    except RuntimeError as exc:  # shapes differ: weights of another width / style count
        raise ValueError(
            f"{path.name}: its weights do not fit the {config} its metadata names: "
            f"{str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else exc}"
        ) from exc
    if missing or unexpected:
        raise ValueError(f"{path.name} does not fit a {config}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return generator.to(device).eval()


def save_style_generator(generator: ConditionalStyleGenerator, path: str | Path, info: dict | None = None) -> Path:
    """Weights as safetensors with the config (and ``info``) in the metadata, written atomically."""
    from safetensors.torch import save

    from ..runtime import atomic_write

    metadata = {"config": json.dumps(generator.config.to_dict())}
    if info:
        metadata["info"] = json.dumps(info)
    tensors = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    return atomic_write(Path(path), save(tensors, metadata=metadata))


@torch.no_grad()
def stylise(generator: ConditionalStyleGenerator, photos: torch.Tensor, style: str | dict[str, float]) -> torch.Tensor:
    """Paint ``photos`` (B, 3, H, W) in [-1, 1] in one style or a mix; (B, 3, H, W) in [-1, 1] on the CPU.

    Sides that are not multiples of 4 are padded by reflection and cropped back.
    """
    device = next(generator.parameters()).device
    code = style_code(generator.styles, style, batch=photos.shape[0]).to(device)
    multiple = 2**generator.config.downs
    h, w = photos.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    x = photos.to(device)
    if pad_h or pad_w:
        x = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
    return generator(x, code)[..., :h, :w].float().cpu()
