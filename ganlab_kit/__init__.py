"""ganlab_kit: a Jupyter teaching kit for GANs and GAN-based image style transfer.

Data flows one way: data -> nets + losses -> training steps -> session -> views.
"""

from .runtime import fast_mode, pick, pick_device, seed_everything

__version__ = "0.1.0"
__all__ = ["fast_mode", "pick", "pick_device", "seed_everything", "__version__"]
