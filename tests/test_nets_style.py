"""The style-transfer networks: the papers' layer lists, parameter counts, shapes, init, errors."""

import pytest
import torch
from torch import nn

from ganlab_kit.nets import (
    PatchDiscriminator,
    PatchDiscriminatorConfig,
    ResnetGenerator,
    ResnetGeneratorConfig,
    UnetGenerator,
    UnetGeneratorConfig,
    parameter_count,
    receptive_field,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---- counts from the reference layer lists, written out by hand (junyanz/pytorch-CycleGAN-and-pix2pix)
def conv(k, cin, cout, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


def reference_resnet(blocks, w=64, c=3):
    # c7s1-w, d2w, d4w, blocks x R4w (two 3x3 convs), u2w, uw, c7s1-3; every conv has a bias (instance norm)
    return (
        conv(7, c, w)
        + conv(3, w, 2 * w)
        + conv(3, 2 * w, 4 * w)
        + blocks * 2 * conv(3, 4 * w, 4 * w)
        + conv(3, 4 * w, 2 * w)
        + conv(3, 2 * w, w)
        + conv(7, w, c)
    )


def reference_unet_256(w=64, c=3):
    # outermost: down conv (no bias), up convT 2w -> 3 with bias; hidden blocks: conv + BN(inner), convT + BN(outer)
    total = conv(4, c, w, bias=False) + conv(4, 2 * w, c)
    for outer, inner in [(w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w)] + [(8 * w, 8 * w)] * 3:
        total += conv(4, outer, inner, bias=False) + 2 * inner + conv(4, 2 * inner, outer, bias=False) + 2 * outer
    # innermost: conv (no norm: the map is 1x1), convT 8w -> 8w + BN
    return total + conv(4, 8 * w, 8 * w, bias=False) + conv(4, 8 * w, 8 * w, bias=False) + 2 * 8 * w


def reference_patchgan(c=3, w=64, batch=False):
    hidden = [(w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w)]
    extra = sum(2 * out if batch else out for _, out in hidden)  # BN scale + shift, or the conv's bias
    return conv(4, c, w) + sum(conv(4, i, o, bias=False) for i, o in hidden) + extra + conv(4, 8 * w, 1)


def test_parameter_counts_at_the_papers_sizes_on_the_meta_device():
    with torch.device("meta"):  # shapes only: no 200 MB of weights
        resnet9, resnet6 = ResnetGenerator(), ResnetGenerator(blocks=6)
        unet = UnetGenerator()
        patch_instance = PatchDiscriminator()
        patch_batch = PatchDiscriminator(norm="batch")
        patch_pix2pix = PatchDiscriminator(in_channels=6, norm="batch")
    assert all(p.is_meta for p in unet.parameters())
    assert parameter_count(resnet9) == reference_resnet(9) == 11_378_179
    assert parameter_count(resnet6) == reference_resnet(6) == 7_837_699
    # 54,413,955: the reference unet_256's layers as listed above (its print says "54.414 M")
    assert parameter_count(unet) == reference_unet_256() == 54_413_955
    assert parameter_count(patch_instance) == reference_patchgan() == 2_764_737
    assert parameter_count(patch_batch) == reference_patchgan(batch=True) == 2_765_633
    assert parameter_count(patch_pix2pix) == reference_patchgan(c=6, batch=True) == 2_768_705


def test_shapes_at_256_px_on_the_meta_device():
    with torch.device("meta"):
        image = torch.empty(2, 3, 256, 256)
        assert ResnetGenerator()(image).shape == (2, 3, 256, 256)
        assert UnetGenerator()(image).shape == (2, 3, 256, 256)
        assert PatchDiscriminator()(image).shape == (2, 1, 30, 30)  # the 70x70 PatchGAN's 30x30 map
        assert PatchDiscriminator(in_channels=6, norm="batch")(torch.empty(1, 6, 256, 256)).shape == (1, 1, 30, 30)
        assert UnetGenerator(downs=7)(torch.empty(1, 3, 128, 128)).shape == (1, 3, 128, 128)


def test_receptive_fields_are_the_papers_patch_sizes():
    with torch.device("meta"):
        assert receptive_field(PatchDiscriminator()) == 70
        assert receptive_field(PatchDiscriminator(layers=1)) == 16
        assert receptive_field(PatchDiscriminator(layers=5)) == 286


def test_layer_lists_follow_the_papers():
    with torch.device("meta"):
        resnet, unet = ResnetGenerator(), UnetGenerator()
        patch_batch = PatchDiscriminator(norm="batch")
    kinds = {type(m) for m in resnet.modules()}
    assert nn.ReflectionPad2d in kinds and nn.InstanceNorm2d in kinds and nn.BatchNorm2d not in kinds
    assert len(resnet.blocks) == 9
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in resnet.modules()) == 2  # 2 down, 2 up
    # U-Net: no norm on the first encoder layer nor on the 1x1 bottleneck; dropout in 3 decoder stages
    assert not any(isinstance(m, nn.BatchNorm2d) for m in unet.encoder[0]) and not any(
        isinstance(m, nn.BatchNorm2d) for m in unet.encoder[-1]
    )
    dropouts = [m for m in unet.modules() if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 3 and all(m.p == 0.5 for m in dropouts)
    assert [i for i, stage in enumerate(unet.decoder) if any(isinstance(m, nn.Dropout) for m in stage)] == [1, 2, 3]
    assert not any(isinstance(m, nn.Dropout) for m in UnetGenerator(downs=5, width=2).modules())  # 32 px: none left
    assert isinstance(unet.decoder[-1][-1], nn.Tanh) and isinstance(resnet.decoder[-1], nn.Tanh)
    # PatchGAN with batch norm: hidden convs drop their bias; the first and last keep it
    convs = [m for m in patch_batch.modules() if isinstance(m, nn.Conv2d)]
    assert [c.bias is not None for c in convs] == [True, False, False, False, True]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ResnetGenerator(width=4, blocks=2, seed=0),
        lambda: UnetGenerator(width=4, downs=5, seed=0),
    ],
)
def test_tiny_generators_keep_the_shape_and_range(make):
    generator = make()
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    out = generator(images)
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1.0


def test_tiny_discriminator_and_channel_counts():
    d = PatchDiscriminator(in_channels=6, width=4, layers=3, norm="batch", seed=0)
    assert d(torch.randn(2, 6, 32, 32)).shape == (2, 1, 2, 2)  # 32 -> 16 -> 8 -> 4 -> 3 -> 2
    assert ResnetGenerator(in_channels=1, out_channels=3, width=4, blocks=1)(torch.randn(1, 1, 16, 16)).shape == (
        1,
        3,
        16,
        16,
    )


def test_init_is_normal_002_and_repeatable():
    a = UnetGenerator(width=16, downs=5, seed=3)
    b = UnetGenerator(width=16, downs=5, seed=3)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    weights = torch.cat([m.weight.flatten() for m in a.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(weights.mean().item()) < 1e-3 and weights.std().item() == pytest.approx(0.02, rel=0.03)
    gammas = torch.cat([m.weight for m in a.modules() if isinstance(m, nn.BatchNorm2d)])
    assert gammas.mean().item() == pytest.approx(1.0, abs=0.01)
    biases = [m.bias for m in ResnetGenerator(width=4, blocks=1, seed=0).modules() if isinstance(m, nn.Conv2d)]
    assert all(float(b.detach().abs().max()) == 0.0 for b in biases)


def test_configs_describe_themselves_for_checkpoints():
    assert ResnetGeneratorConfig().to_dict() == {
        "architecture": "resnet_generator",
        "in_channels": 3,
        "out_channels": 3,
        "width": 64,
        "blocks": 9,
    }
    assert UnetGeneratorConfig().to_dict()["architecture"] == "unet_generator"
    assert PatchDiscriminatorConfig(norm="batch").to_dict()["norm"] == "batch"
    assert ResnetGenerator.from_config(ResnetGeneratorConfig(width=2, blocks=1)).config == ResnetGeneratorConfig(
        width=2, blocks=1
    )


def test_bad_sizes_and_settings_are_named():
    with pytest.raises(ValueError, match="multiples of 32"):
        UnetGenerator(width=2, downs=5)(torch.randn(1, 3, 48, 48))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        ResnetGenerator(width=2, blocks=1)(torch.randn(1, 4, 32, 32))
    with pytest.raises(ValueError, match="multiples of 4"):
        ResnetGenerator(width=2, blocks=1)(torch.randn(1, 3, 30, 30))
    with pytest.raises(ValueError, match=r"\(B, 6, H, W\)"):
        PatchDiscriminator(in_channels=6, width=2)(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match="norm must be one of instance, batch"):
        PatchDiscriminatorConfig(norm="layer")
    with pytest.raises(ValueError, match="downs must be an int >= 5"):
        UnetGeneratorConfig(downs=3)
    with pytest.raises(ValueError, match="blocks"):
        ResnetGeneratorConfig(blocks=-1)


def test_resize_upsampling_keeps_the_weights_count_and_removes_the_checkerboard():
    paper = ResnetGenerator(width=4, blocks=1, seed=0)
    resize = ResnetGenerator(width=4, blocks=1, upsample="resize", seed=0)
    assert parameter_count(resize) == parameter_count(paper)
    assert resize(torch.rand(2, 3, 16, 16) * 2 - 1).shape == (2, 3, 16, 16)

    # One upsampling layer of each kind, all weights 1, on a constant input: a stride-2 transposed 3x3 conv sums
    # 1, 2 or 4 input pixels into an output pixel depending on its position (the checkerboard); the resize then
    # conv sums 9 everywhere away from the border.
    ones = torch.ones(1, 1, 8, 8)
    transposed = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)
    nn.init.ones_(transposed.weight)
    inner = transposed(ones)[0, 0, 2:-2, 2:-2]
    assert set(inner.unique().tolist()) == {1.0, 2.0, 4.0}
    up = next(m for m in resize.decoder if isinstance(m, nn.Upsample))
    conv = nn.Conv2d(1, 1, 3, bias=False)
    nn.init.ones_(conv.weight)
    assert set(conv(up(ones))[0, 0].unique().tolist()) == {9.0}

    # the paper's generator describes itself as before (older checkpoints still match); the resize one says so
    assert "upsample" not in paper.config.to_dict()
    assert resize.config.to_dict()["upsample"] == "resize"
    assert ResnetGenerator.from_config(resize.config).config.upsample == "resize"
    with pytest.raises(ValueError, match="upsample must be one of 'transpose', 'resize'"):
        ResnetGeneratorConfig(upsample="bilinear")
