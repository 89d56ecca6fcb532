"""Network architectures. Each module holds one family, readable top to bottom."""

from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, build_dcgan, dcgan_init_
from .init import normal_init_, parameter_count
from .patchgan import PatchDiscriminator, PatchDiscriminatorConfig, receptive_field
from .resnet import ResidualBlock, ResnetGenerator, ResnetGeneratorConfig
from .unet import UnetGenerator, UnetGeneratorConfig

__all__ = [
    "DCGANConfig",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "PatchDiscriminator",
    "PatchDiscriminatorConfig",
    "ResidualBlock",
    "ResnetGenerator",
    "ResnetGeneratorConfig",
    "UnetGenerator",
    "UnetGeneratorConfig",
    "build_dcgan",
    "dcgan_init_",
    "normal_init_",
    "parameter_count",
    "receptive_field",
]
