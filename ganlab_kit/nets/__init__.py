"""Network architectures. Each module holds one family, readable top to bottom."""

from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, build_dcgan, dcgan_init_

__all__ = ["DCGANConfig", "DCGANDiscriminator", "DCGANGenerator", "build_dcgan", "dcgan_init_"]
