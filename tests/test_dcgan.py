"""DCGAN networks and the image training step."""

import pytest
import torch

from ganlab_kit.data import digits
from ganlab_kit.losses import LOSS_KINDS
from ganlab_kit.nets.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, build_dcgan
from ganlab_kit.train.dcgan import DCGANHyper, DCGANRun, DCGANRunConfig, dcgan_step
from ganlab_kit.train.run import Run


def tiny(size=16, channels=1, **kw):
    return DCGANConfig(image_size=size, channels=channels, latent_dim=8, generator_width=4, discriminator_width=4, **kw)


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_at_each_size(size, channels):
    config = tiny(size, channels)
    generator, discriminator = build_dcgan(config, seed=0)
    images = generator(torch.randn(3, config.latent_dim))
    assert images.shape == (3, channels, size, size)
    assert images.abs().max() <= 1.0  # tanh output
    assert discriminator(images).shape == (3, 1)
    # one stride-2 block per doubling from 4x4: 2 at 16, 3 at 32, 4 at 64
    strided = [m for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose2d) and m.stride == (2, 2)]
    assert len(strided) == {16: 2, 32: 3, 64: 4}[size] == config.num_blocks


def test_paper_layout_at_64():
    config = DCGANConfig(image_size=64, channels=3, latent_dim=100, generator_width=128, discriminator_width=128)
    generator = DCGANGenerator(config)
    first = generator.net[0]
    assert (first.in_channels, first.out_channels) == (100, 1024)  # the paper's 4x4x1024 projection
    # no batch norm on the generator output or the discriminator input layer
    assert isinstance(generator.net[-1], torch.nn.Tanh) and isinstance(generator.net[-2], torch.nn.ConvTranspose2d)
    discriminator = DCGANDiscriminator(config)
    assert isinstance(discriminator.body[1], torch.nn.LeakyReLU)


def test_bad_sizes_and_inputs_are_named():
    with pytest.raises(ValueError, match="16, 32, 64"):
        DCGANConfig(image_size=48)
    generator, discriminator = build_dcgan(tiny(16))
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        generator(torch.randn(2, 9))
    with pytest.raises(ValueError, match=r"\(B, 1, 16, 16\)"):
        discriminator(torch.randn(2, 1, 32, 32))


def test_init_statistics():
    # wide enough that the sample statistics are tight
    config = DCGANConfig(image_size=32, channels=3, latent_dim=64, generator_width=64, discriminator_width=64)
    generator, discriminator = build_dcgan(config, seed=1)
    conv_weights = torch.cat(
        [
            m.weight.flatten()
            for net in (generator, discriminator)
            for m in net.modules()
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))
        ]
    )
    assert abs(conv_weights.mean().item()) < 1e-3
    assert conv_weights.std().item() == pytest.approx(0.02, rel=0.02)
    gammas = torch.cat(
        [m.weight for net in (generator, discriminator) for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    )
    betas = torch.cat(
        [m.bias for net in (generator, discriminator) for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    )
    assert gammas.numel() > 500
    assert gammas.mean().item() == pytest.approx(1.0, abs=0.005)
    assert gammas.std().item() == pytest.approx(0.02, rel=0.15)
    assert torch.all(betas == 0)
    # seeded init is repeatable, different seeds differ
    again, _ = build_dcgan(config, seed=1)
    other, _ = build_dcgan(config, seed=2)
    assert torch.equal(generator.net[0].weight, again.net[0].weight)
    assert not torch.equal(generator.net[0].weight, other.net[0].weight)


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_step_every_loss_kind_updates_both_nets(kind):
    torch.manual_seed(0)
    config = tiny(16, discriminator_batch_norm=(kind != "wasserstein"))
    generator, discriminator = build_dcgan(config, seed=0)
    g_opt = torch.optim.Adam(generator.parameters(), 1e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), 1e-3, betas=(0.5, 0.999))
    g_before = [p.clone() for p in generator.parameters()]
    d_before = [p.clone() for p in discriminator.parameters()]
    real = torch.rand(8, 1, 16, 16) * 2 - 1
    metrics = dcgan_step(generator, discriminator, g_opt, d_opt, real, DCGANHyper(loss=kind))
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty"}
    # detached 0-d tensors (no host sync in the step), all finite
    assert all(
        isinstance(v, torch.Tensor) and v.dim() == 0 and not v.requires_grad and torch.isfinite(v)
        for v in metrics.values()
    )
    assert 0 < metrics["d_real"] < 1 and 0 < metrics["d_fake"] < 1
    assert (metrics["gradient_penalty"] > 0) == (kind == "wasserstein")
    assert all(not torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))
    # D's parameters are trainable again after the generator's update froze them
    assert all(p.requires_grad for p in discriminator.parameters())


def test_step_losses_match_the_loss_functions():
    """The reported d_loss is discriminator_loss on the logits the step saw (recomputed here)."""
    from ganlab_kit.losses import discriminator_loss

    config = tiny(16)
    generator, discriminator = build_dcgan(config, seed=0)
    g_opt = torch.optim.SGD(generator.parameters(), lr=0.0)
    d_opt = torch.optim.SGD(discriminator.parameters(), lr=0.0)  # lr 0: nets unchanged by the step
    real = torch.rand(8, 1, 16, 16) * 2 - 1
    noise = torch.Generator().manual_seed(5)
    metrics = dcgan_step(generator, discriminator, g_opt, d_opt, real, DCGANHyper(loss="lsgan"), noise_generator=noise)
    z = torch.randn(8, config.latent_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = discriminator_loss(discriminator(real), discriminator(generator(z)), "lsgan")
    assert metrics["d_loss"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_step_rejects_unknown_loss_kind():
    generator, discriminator = build_dcgan(tiny(16))
    opt = torch.optim.SGD(generator.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="hinge"):
        dcgan_step(generator, discriminator, opt, opt, torch.zeros(2, 1, 16, 16), DCGANHyper(loss="bce"))


def test_run_lr_and_kind_changes_take_effect_next_step():
    data = digits(16)
    run = DCGANRun(DCGANRunConfig(model=tiny(16), batch_size=8), data)
    assert isinstance(run, Run)
    run.step()
    run.set_hyper(generator_lr=1e-3, discriminator_lr=5e-4, loss="hinge")
    lrs = lambda: tuple(run.optimizers[name].param_groups[0]["lr"] for name in ("generator", "discriminator"))
    assert lrs() == (2e-4, 2e-4) and run.hyper.loss == "non_saturating"  # pending until the next step
    metrics = run.step()
    assert lrs() == (1e-3, 5e-4) and run.hyper.loss == "hinge"
    assert metrics["g_loss"] < 0.5  # hinge's -E[t_fake] near 0, not non-saturating's ~0.7
    with pytest.raises(ValueError, match="generator_lr"):
        run.set_hyper(generator_lr=0.0)
    with pytest.raises(ValueError, match="loss"):
        run.set_hyper(loss="bce")
    assert run.next_hyper.loss == "hinge"  # a refused change leaves the pending one alone


def test_samples_leave_batch_norm_statistics_alone():
    run = DCGANRun(DCGANRunConfig(model=tiny(16), batch_size=8, num_fixed_noise=6), digits(16))
    run.step()
    before = {k: v.clone() for k, v in run.generator.state_dict().items()}
    images = run.sample()
    assert images.shape == (6, 1, 16, 16)
    assert all(torch.equal(before[k], v) for k, v in run.generator.state_dict().items())
    assert torch.equal(images, run.sample())  # fixed noise -> same grid


def test_run_refuses_data_of_the_wrong_shape():
    with pytest.raises(ValueError, match="image_size=32"):
        DCGANRun(DCGANRunConfig(model=tiny(32)), digits(16))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.gpu
def test_gpu_step_with_channels_last_and_autocast():
    run = DCGANRun(
        DCGANRunConfig(model=tiny(32), batch_size=8, precision="bf16", channels_last=True), digits(32), device="cuda"
    )
    assert run.generator.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    metrics = run.step()
    assert all(torch.isfinite(v) for v in metrics.values())


def test_visuals_use_the_given_generator_in_eval_mode():
    run = DCGANRun(DCGANRunConfig(model=tiny(16), batch_size=8, num_fixed_noise=4), digits(16))
    assert run.visual_modules == ("generator",)
    import copy

    shadow = copy.deepcopy(run.generator)
    run.step()  # the run's generator moves on; the shadow does not
    samples = run.visuals({"generator": shadow})["samples"]
    assert samples.shape == (4, 1, 16, 16) and samples.device.type == "cpu"
    assert shadow.training  # put back in train mode
    assert torch.equal(run.visuals()["samples"], run.sample())
    assert not torch.equal(samples, run.sample())


def test_generator_layers_are_the_generators_stack():
    from ganlab_kit.nets.dcgan import generator_layers

    config = tiny(32)
    layers = generator_layers(config)
    generator = DCGANGenerator(config)
    assert [type(m) for m in layers] == [type(m) for m in generator.net]
    x, sides = torch.zeros(2, 8, 1, 1), []
    for layer in layers:
        x = layer(x)
        if isinstance(layer, torch.nn.ConvTranspose2d):
            sides.append(tuple(x.shape[1:]))
    assert sides == [(16, 4, 4), (8, 8, 8), (4, 16, 16), (1, 32, 32)]


def test_peek_inputs_leaves_the_next_step_unchanged():
    make = lambda: DCGANRun(DCGANRunConfig(model=tiny(16), batch_size=8), digits(16))
    peeked, plain = make(), make()
    real, z = peeked.peek_inputs()
    assert real.shape == (8, 1, 16, 16) and z.shape == (8, 8)
    assert [float(v) for v in peeked.step().values()] == [float(v) for v in plain.step().values()]
    real_next, z_next = peeked.peek_inputs()
    assert not torch.equal(real, real_next) and not torch.equal(z, z_next)  # the step did use them


def test_hand_written_step_equals_the_runs_step():
    """Notebook 04 writes the step out with the kit's losses and shows it equals DCGANRun.step."""
    import copy

    from ganlab_kit.losses import discriminator_loss, generator_loss

    run = DCGANRun(DCGANRunConfig(model=tiny(16), batch_size=8), digits(16))
    generator, discriminator = copy.deepcopy(run.generator), copy.deepcopy(run.discriminator)
    g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(3):
        real, z = run.peek_inputs()
        fake = generator(z)
        d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = generator_loss(discriminator(fake))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
        run.step()
    mine = {**generator.state_dict(), **{"d." + k: v for k, v in discriminator.state_dict().items()}}
    kits = {**run.generator.state_dict(), **{"d." + k: v for k, v in run.discriminator.state_dict().items()}}
    assert max((mine[k].float() - kits[k].float()).abs().max().item() for k in kits) < 1e-6
