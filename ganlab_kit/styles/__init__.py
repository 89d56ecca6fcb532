"""Cultural styles: offline photos, ink-wash / oil / ukiyo-e renderers, style statistics,
and the kit's own style features.

One concept per module:

* ``photos``      photos shipped by installed packages, user folders, careful decoding
* ``filters``     batched blur / edges / Kuwahara / noise / stroke flow / Lab the renderers are built from
* ``inkwash``     Chinese ink wash (水墨)
* ``oil``         Western oil painting
* ``ukiyoe``      Japanese ukiyo-e woodblock prints
* ``renderers``   a renderer as a value (name, function, config)
* ``statistics``  blank space, ink tones, saturation, palette, edges, strokes, texture, content SSIM
* ``fingerprint`` the style-fingerprint chart (a view over ``statistics``)
* ``classifier``  a small style classifier and the feature extractor built on it
* ``perceptual``  Gram-matrix style loss and content loss on any feature extractor
"""

from .inkwash import InkWashConfig, ink_wash_steps, render_ink_wash
from .oil import OilConfig, oil_steps, render_oil
from .photos import PhotoSource, builtin_photos, folder_photos, load_photos, read_image, split_by_source
from .renderers import StyleRenderer, all_styles, ink_wash, oil, ukiyoe
from .statistics import content_ssim, set_statistics, style_statistics
from .ukiyoe import UkiyoeConfig, render_ukiyoe, ukiyoe_steps

__all__ = [
    "InkWashConfig",
    "OilConfig",
    "UkiyoeConfig",
    "PhotoSource",
    "StyleRenderer",
    "content_ssim",
    "all_styles",
    "builtin_photos",
    "folder_photos",
    "ink_wash",
    "ink_wash_steps",
    "load_photos",
    "oil",
    "oil_steps",
    "read_image",
    "render_ink_wash",
    "render_oil",
    "render_ukiyoe",
    "set_statistics",
    "split_by_source",
    "style_statistics",
    "ukiyoe",
    "ukiyoe_steps",
]
