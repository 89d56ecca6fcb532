"""pix2pix on the Run protocol: learning on renderer pairs, hyperparameters, exact resume, bad input, the image lab."""

import dataclasses

import pytest
import torch
from torch.utils.data import Dataset

from ganlab_kit import data
from ganlab_kit.nets import PatchDiscriminatorConfig, UnetGeneratorConfig
from ganlab_kit.styles import photos, renderers
from ganlab_kit.train.checkpoint import CheckpointMismatch, load_run, save_run
from ganlab_kit.train.pix2pix import Pix2PixHyper, Pix2PixRun, Pix2PixRunConfig, pix2pix_step, translate
from ganlab_kit.train.run import Run, metrics_to_floats

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Pairs(Dataset):
    """Paired items from two tensors (N, C, H, W); sizes may differ on purpose."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __len__(self):
        return len(self.a)

    def __getitem__(self, i):
        return {"A": self.a[i], "B": self.b[i], "index": i}


@pytest.fixture(scope="module")
def ink_pairs():
    """Eight 32 px photo patches and their ink-wash renderings (the renderers' paired data)."""
    loaded = photos.load_photos(photos.builtin_photos()[:2])
    patches = data.photo_patches(loaded, 8, data.PatchConfig(size=32))
    return data.PairedDataset(patches, data.rendered(patches, renderers.ink_wash(), cache=False))


def tiny(size=32, downs=5, **kw):
    kw = {"batch_size": 4, "num_visuals": 3, **kw}
    return Pix2PixRunConfig(
        image_size=size,
        generator=UnetGeneratorConfig(width=8, downs=downs),
        discriminator=PatchDiscriminatorConfig(in_channels=6, width=8, layers=2, norm="batch"),
        **kw,
    )


def synthetic(n=4, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    return Pairs(a, -a)


def test_is_a_run_and_learns_the_renderer_pairs(ink_pairs):
    # 4 of the pairs: with batch 4 every step sees the same images (in a new order)
    subset = torch.utils.data.Subset(ink_pairs, range(4))
    run = Pix2PixRun(tiny(), subset, hyper=Pix2PixHyper(generator_lr=1e-3, discriminator_lr=1e-3))
    assert isinstance(run, Run)
    history = [metrics_to_floats(run.step()) for _ in range(30)]
    assert set(history[0]) == {"d_loss", "g_loss", "d_real", "d_fake", "adversarial_loss", "l1_loss"}
    first = sum(m["l1_loss"] for m in history[:3]) / 3
    last = sum(m["l1_loss"] for m in history[-3:]) / 3
    assert last < 0.8 * first  # the output moved toward the ink-wash target
    assert history[-1]["g_loss"] < history[0]["g_loss"]
    assert run.steps_done == 30
    for m in history:  # g_loss is the whole objective: adversarial + lambda * L1
        assert m["g_loss"] == pytest.approx(m["adversarial_loss"] + 100.0 * m["l1_loss"], rel=1e-5)


def test_visuals_are_the_fixed_held_out_batch_and_change_nothing(ink_pairs):
    held_out = Pairs(ink_pairs.photos.all()[4:], ink_pairs.styled.all()[4:])
    run = Pix2PixRun(tiny(), torch.utils.data.Subset(ink_pairs, range(4)), held_out=held_out)
    before = {k: v.clone() for k, v in run.generator.state_dict().items()}
    shown = run.visuals()
    assert set(shown) == {"input", "output", "target"} and run.visual_modules == ("generator",)
    assert all(v.shape == (3, 3, 32, 32) and v.device.type == "cpu" for v in shown.values())
    assert float(shown["output"].abs().max()) <= 1.0
    # input and target come from held_out, chosen once: each shown input is one of its photos, target its pair
    for source, target in zip(shown["input"], shown["target"], strict=True):
        index = next(i for i in range(len(held_out)) if torch.equal(held_out[i]["A"], source))
        assert torch.equal(held_out[index]["B"], target)
    run.step()
    again = run.visuals()
    assert torch.equal(again["input"], shown["input"]) and not torch.equal(again["output"], shown["output"])
    # visuals on the run's own generator leave its buffers (batch-norm running statistics) and mode alone
    state = {k: v.clone() for k, v in run.generator.state_dict().items()}
    run.visuals()
    assert all(torch.equal(v, run.generator.state_dict()[k]) for k, v in state.items()) and run.generator.training
    assert not all(torch.equal(v, run.generator.state_dict()[k]) for k, v in before.items())
    # a shadow copy gives the same picture
    import copy

    assert torch.equal(run.visuals({"generator": copy.deepcopy(run.generator)})["output"], again["output"])


def test_translate_uses_batch_statistics_and_keeps_buffers():
    run = Pix2PixRun(tiny(), synthetic())
    generator = run.generator
    buffers = {k: v.clone() for k, v in generator.state_dict().items()}
    out = translate(generator, run.visual_source)
    assert out.shape == run.visual_source.shape
    assert all(torch.equal(v, generator.state_dict()[k]) for k, v in buffers.items())
    assert all(getattr(m, "track_running_stats", True) for m in generator.modules())


def test_set_hyper_applies_at_the_next_step_and_the_schedule_decays_to_zero():
    run = Pix2PixRun(tiny(total_steps=4), synthetic(), hyper=Pix2PixHyper(generator_lr=1e-3))
    run.set_hyper(l1_weight=10.0, generator_lr=2e-3, betas=(0.9, 0.99))
    assert run.hyper.l1_weight == 100.0 and run.next_hyper.l1_weight == 10.0
    m = metrics_to_floats(run.step())
    assert run.hyper.l1_weight == 10.0
    assert m["g_loss"] == pytest.approx(m["adversarial_loss"] + 10.0 * m["l1_loss"], rel=1e-5)
    group = run.generator_optimizer.param_groups[0]
    assert group["lr"] == 2e-3 and group["betas"] == (0.9, 0.99)
    lrs = []
    for _ in range(4):
        run.step()
        lrs.append(run.generator_optimizer.param_groups[0]["lr"])
    # steps 1..4 of 4: constant for the first half, then linearly down, zero from total_steps on
    assert lrs == pytest.approx([2e-3, 2e-3, 1e-3, 0.0])
    with pytest.raises(ValueError, match="l1_weight must be at least 0"):
        run.set_hyper(l1_weight=-1.0)
    with pytest.raises(ValueError, match="loss must be one of"):
        run.set_hyper(loss="wasserstein")


def test_step_function_alone_and_lsgan():
    from ganlab_kit.nets import PatchDiscriminator, UnetGenerator

    generator, discriminator = UnetGenerator(width=4, downs=5, seed=0), PatchDiscriminator(6, 4, 2, "batch", seed=1)
    g_opt, d_opt = (torch.optim.Adam(n.parameters(), 1e-3) for n in (generator, discriminator))
    pairs = synthetic(2)
    metrics = pix2pix_step(generator, discriminator, g_opt, d_opt, pairs.a, pairs.b, Pix2PixHyper(loss="lsgan"))
    assert all(v.dim() == 0 and not v.requires_grad for v in metrics.values())
    assert all(p.requires_grad for p in discriminator.parameters())  # unfrozen again


def test_exact_resume_with_dropout(tmp_path):
    # 64 px with downs=6 keeps one dropout stage: its randomness must resume exactly too
    config = tiny(size=64, downs=6)
    run = Pix2PixRun(config, synthetic(8, 64))
    for _ in range(2):
        run.step()
    run.set_hyper(l1_weight=50.0)  # pending when saved: must still apply after loading
    path = save_run(tmp_path / "p2p.safetensors", run)
    expected = [metrics_to_floats(run.step()) for _ in range(3)]
    resumed = Pix2PixRun(config, synthetic(8, 64))
    load_run(path, resumed)
    assert resumed.steps_done == 2 and resumed.next_hyper.l1_weight == 50.0
    assert [metrics_to_floats(resumed.step()) for _ in range(3)] == expected


def test_checkpoint_of_another_direction_or_model_is_refused_and_nothing_changes(tmp_path):
    from ganlab_kit.nets import PatchDiscriminatorConfig as P
    from ganlab_kit.nets import ResnetGeneratorConfig
    from ganlab_kit.train.cyclegan import CycleGANRun, CycleGANRunConfig

    a_to_b = Pix2PixRun(tiny(), synthetic())
    b_to_a = Pix2PixRun(tiny(direction="BtoA"), synthetic())
    path = save_run(tmp_path / "b_to_a.safetensors", b_to_a)
    before = {k: v.clone() for k, v in a_to_b.generator.state_dict().items()}
    with pytest.raises(CheckpointMismatch, match="direction: checkpoint 'BtoA' vs run 'AtoB'"):
        a_to_b.load(path)
    assert all(torch.equal(v, a_to_b.generator.state_dict()[k]) for k, v in before.items())
    cyclegan = CycleGANRun(
        CycleGANRunConfig(
            image_size=32,
            generator=ResnetGeneratorConfig(width=4, blocks=1),
            discriminator=P(3, 4, 2),
            batch_size=2,
            num_visuals=2,
        ),
        data.UnpairedDataset(data.ImageSet("a", synthetic().a), data.ImageSet("b", synthetic().b)),
    )
    cycle_path = save_run(tmp_path / "cyclegan.safetensors", cyclegan)
    with pytest.raises(CheckpointMismatch, match="holds a CYCLEGAN .* this run is a PIX2PIX"):
        a_to_b.load(cycle_path)
    with pytest.raises(CheckpointMismatch, match="holds a PIX2PIX .* this run is a CYCLEGAN"):
        cyclegan.load(path)


def test_bad_input_is_named_before_anything_is_built():
    g = torch.Generator().manual_seed(0)
    rgb32 = torch.rand(4, 3, 32, 32, generator=g)
    with pytest.raises(ValueError, match="the two images of a pair must have one size.*A 32x32 and B 64x64"):
        Pix2PixRun(tiny(), Pairs(rgb32, torch.rand(4, 3, 64, 64)))
    with pytest.raises(ValueError, match=r"A image has 1 channel\(s\) \(greyscale\)"):
        Pix2PixRun(tiny(), Pairs(rgb32[:, :1], rgb32))
    with pytest.raises(ValueError, match=r"B image has 4 channel\(s\) \(RGBA\)"):
        Pix2PixRun(tiny(), Pairs(rgb32, torch.rand(4, 4, 32, 32)))
    with pytest.raises(ValueError, match="64x64 images, but the run is configured for 32x32"):
        Pix2PixRun(tiny(), Pairs(torch.rand(4, 3, 64, 64), torch.rand(4, 3, 64, 64)))
    with pytest.raises(ValueError, match="needs items"):
        Pix2PixRun(tiny(), data.ImageSet("photos", rgb32))
    with pytest.raises(ValueError, match="item 3 of the held-out data"):  # a bad pair inside the picture batch
        bad = Pairs(rgb32, rgb32.clone())
        bad.b = [rgb32[0], rgb32[1], rgb32[2], torch.rand(3, 16, 16)]
        Pix2PixRun(tiny(num_visuals=4), synthetic(), held_out=bad)
    with pytest.raises(ValueError, match="multiples of 256.*use downs=5"):
        Pix2PixRunConfig(image_size=32)
    with pytest.raises(ValueError, match="direction must be one of AtoB, BtoA"):
        tiny(direction="sideways")
    with pytest.raises(ValueError, match="discriminator sees input \\+\\+ output: 6 channels"):
        dataclasses.replace(tiny(), discriminator=PatchDiscriminatorConfig(in_channels=3))


def test_image_lab_shows_the_three_grids():
    from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig

    lab = ImageLab(Pix2PixRun(tiny(), synthetic()), ImageLabConfig(snapshot_every=1), live=False)
    try:
        lab.train(2)
        assert set(lab.snapshots[-1].pictures) == {"input", "output", "target"}
        assert lab.snapshots[-1].step == 2
        assert {"l1_loss", "adversarial_loss", "d_loss", "g_loss"} <= set(lab.session.history[-1])
        assert set(lab.grids) == {"input", "output", "target"}
    finally:
        lab.close()


def test_bf16_and_channels_last_on_the_cpu():
    run = Pix2PixRun(tiny(precision="bf16", channels_last=True), synthetic())
    metrics = metrics_to_floats(run.step())
    assert all(v == v for v in metrics.values())  # finite, computed in float32
    assert run.visuals()["output"].dtype == torch.float32
