"""CycleGAN on the Run protocol: learning on unpaired photos and renderings, update order, pools,
exact resume, the CycleGAN folder layout, bad input, the image lab."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab_kit import data
from ganlab_kit.nets import PatchDiscriminatorConfig, ResnetGeneratorConfig
from ganlab_kit.styles import photos, renderers
from ganlab_kit.train.checkpoint import CheckpointMismatch, load_run, save_run
from ganlab_kit.train.cyclegan import CycleGANHyper, CycleGANRun, CycleGANRunConfig
from ganlab_kit.train.run import Run, metrics_to_floats

pytestmark = pytest.mark.usefixtures("one_torch_thread")

VISUALS = {"real_A", "fake_B", "rec_A", "real_B", "fake_A", "rec_B"}


def tiny(size=32, **kw):
    kw = {"batch_size": 2, "num_visuals": 2, "pool_size": 6, **kw}
    return CycleGANRunConfig(
        image_size=size,
        generator=ResnetGeneratorConfig(width=8, blocks=2),
        discriminator=PatchDiscriminatorConfig(3, 8, 2),
        **kw,
    )


def unpaired(n=4, size=32, seed=0, channels=3):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(n, channels, size, size, generator=g) * 2 - 1
    return data.UnpairedDataset(data.ImageSet("a", a), data.ImageSet("b", (-a).clamp(-1, 1)), seed=seed)


@pytest.fixture(scope="module")
def photos_and_ink():
    """Unpaired 32 px photo patches (domain A) and ink-wash renderings of other patches (domain B)."""
    loaded = photos.load_photos(photos.builtin_photos()[:2])
    domain_a = data.photo_patches(loaded, 4, data.PatchConfig(size=32), seed=0)
    domain_b = data.rendered(
        data.photo_patches(loaded, 4, data.PatchConfig(size=32), seed=5), renderers.ink_wash(), cache=False
    )
    return data.UnpairedDataset(domain_a, domain_b, seed=0)


def test_is_a_run_and_learns_photos_to_ink(photos_and_ink):
    run = CycleGANRun(tiny(batch_size=4), photos_and_ink, hyper=CycleGANHyper(generator_lr=1e-3, discriminator_lr=1e-3))
    assert isinstance(run, Run)
    history = [metrics_to_floats(run.step()) for _ in range(25)]
    assert set(history[0]) == {
        "d_loss",
        "g_loss",
        "d_real",
        "d_fake",
        "d_A_loss",
        "d_B_loss",
        "adversarial_loss",
        "cycle_loss",
        "identity_loss",
    }
    mean = lambda key, part: sum(m[key] for m in part) / len(part)
    assert mean("cycle_loss", history[-3:]) < 0.8 * mean("cycle_loss", history[:3])
    assert mean("g_loss", history[-3:]) < mean("g_loss", history[:3])
    assert mean("d_loss", history[-3:]) < mean("d_loss", history[:3])
    for m in history:  # the whole objective with the paper's weights 10 and 5
        assert m["g_loss"] == pytest.approx(
            m["adversarial_loss"] + 10 * m["cycle_loss"] + 5 * m["identity_loss"], rel=1e-5
        )
        assert m["d_loss"] == pytest.approx((m["d_A_loss"] + m["d_B_loss"]) / 2, rel=1e-6)
    assert len(run.pool_a) == len(run.pool_b) == 6  # filled to pool_size by 25 steps of 4


def test_update_order_is_generators_then_d_a_then_d_b():
    run = CycleGANRun(tiny(), unpaired())
    order = []
    for name, optimizer in run.optimizers.items():
        original = optimizer.step

        def step(*args, _name=name, _original=original, **kwargs):
            order.append(_name)
            return _original(*args, **kwargs)

        optimizer.step = step
    run.step()
    assert order == ["generator", "discriminator_A", "discriminator_B"]
    # one optimizer moves both generators, as the paper's joint G step
    generator_params = {id(p) for group in run.generator_optimizer.param_groups for p in group["params"]}
    assert generator_params == {
        id(p) for name in ("generator_AB", "generator_BA") for p in run.modules[name].parameters()
    }


def test_visuals_are_both_round_trips_of_a_fixed_batch():
    run = CycleGANRun(tiny(), unpaired(6), held_out=unpaired(4, seed=1))
    shown = run.visuals()
    assert set(shown) == VISUALS and run.visual_modules == ("generator_AB", "generator_BA")
    assert all(v.shape == (2, 3, 32, 32) and float(v.abs().max()) <= 1.0 for v in shown.values())
    held = unpaired(4, seed=1)
    assert any(torch.equal(shown["real_A"][0], held[i]["A"]) for i in range(4))
    g_ab, g_ba = run.modules["generator_AB"], run.modules["generator_BA"]
    with torch.no_grad():
        assert torch.allclose(shown["fake_B"], g_ab(shown["real_A"]), atol=1e-6)
        assert torch.allclose(shown["rec_A"], g_ba(shown["fake_B"]), atol=1e-6)
        assert torch.allclose(shown["rec_B"], g_ab(g_ba(shown["real_B"])), atol=1e-5)
    run.step()
    again = run.visuals()
    assert torch.equal(again["real_A"], shown["real_A"]) and not torch.equal(again["fake_B"], shown["fake_B"])


def test_set_hyper_identity_off_and_the_schedule():
    run = CycleGANRun(tiny(total_steps=2), unpaired())
    run.set_hyper(identity_weight=0.0, cycle_weight=3.0, discriminator_lr=1e-3)
    assert run.hyper.identity_weight == 5.0
    m = metrics_to_floats(run.step())
    assert m["identity_loss"] == 0.0
    assert m["g_loss"] == pytest.approx(m["adversarial_loss"] + 3.0 * m["cycle_loss"], rel=1e-5)
    assert run.discriminator_b_optimizer.param_groups[0]["lr"] == 1e-3  # step 0 of 2: full rate
    run.step()
    assert run.discriminator_a_optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)  # step 1: (2 - 1) / 1
    run.step()
    assert run.generator_optimizer.param_groups[0]["lr"] == 0.0  # decayed to zero at total_steps
    with pytest.raises(ValueError, match="cycle_weight must be at least 0"):
        run.set_hyper(cycle_weight=-2.0)


def test_exact_resume_with_pools(tmp_path):
    config = tiny(pool_size=3)
    run = CycleGANRun(config, unpaired(6))
    for _ in range(2):  # 4 fakes per domain: the pools are full and swapping
        run.step()
    path = save_run(tmp_path / "cyclegan.safetensors", run, history=[{"d_loss": 1.0}])
    expected = [metrics_to_floats(run.step()) for _ in range(3)]
    resumed = CycleGANRun(config, unpaired(6))
    state = load_run(path, resumed)
    assert state["history"] == [{"d_loss": 1.0}] and resumed.steps_done == 2 and len(resumed.pool_b) == 3
    assert [metrics_to_floats(resumed.step()) for _ in range(3)] == expected
    # a fresh run whose pools were never queried saves and loads too
    empty = CycleGANRun(config, unpaired(6))
    load_run(save_run(tmp_path / "fresh.safetensors", empty), CycleGANRun(config, unpaired(6)))


def test_checkpoint_of_the_swapped_domains_is_refused(tmp_path):
    photo_to_ink = CycleGANRun(tiny(domains=("photo", "ink_wash")), unpaired())
    ink_to_photo = CycleGANRun(tiny(domains=("ink_wash", "photo")), unpaired())
    path = save_run(tmp_path / "ink_to_photo.safetensors", ink_to_photo)
    before = {k: v.clone() for k, v in photo_to_ink.modules["generator_AB"].state_dict().items()}
    with pytest.raises(
        CheckpointMismatch, match="domains: checkpoint \\['ink_wash', 'photo'\\] vs run \\['photo', 'ink_wash'\\]"
    ):
        photo_to_ink.load(path)
    assert all(torch.equal(v, photo_to_ink.modules["generator_AB"].state_dict()[k]) for k, v in before.items())
    with pytest.raises(CheckpointMismatch, match="image_size"):
        CycleGANRun(tiny(size=64), unpaired(size=64)).load(path)


def write_images(folder, count, size=40, mode="RGB", seed=0):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "L": 1, "RGBA": 4}[mode]
    for i in range(count):
        array = rng.integers(0, 256, (size, size, channels), dtype=np.uint8)
        Image.fromarray(array.squeeze(-1) if channels == 1 else array, mode).save(folder / f"{i}.png")


def test_trains_on_a_cyclegan_folder_layout_and_names_a_one_image_style_folder(tmp_path):
    root = tmp_path / "photo2ink"
    write_images(root / "trainA", 3)
    write_images(root / "trainB", 2, mode="L")  # greyscale and RGBA files are converted to RGB by the data layer
    write_images(root / "trainB_extra", 1, mode="RGBA")
    (root / "trainB_extra" / "0.png").rename(root / "trainB" / "2.png")
    folder = data.cyclegan_folder(root, config=data.PatchConfig(size=32))
    run = CycleGANRun(tiny(), folder)
    assert np.isfinite(metrics_to_floats(run.step())["g_loss"])
    lonely = tmp_path / "lonely"
    write_images(lonely / "trainA", 3)
    write_images(lonely / "trainB", 1)
    with pytest.raises(
        ValueError, match=r"domain B \(ink\) of the training data has 1 image\(s\); it needs at least 2"
    ):
        CycleGANRun(tiny(domains=("photo", "ink")), data.cyclegan_folder(lonely, config=data.PatchConfig(size=32)))


def test_bad_input_is_named():
    g = torch.Generator().manual_seed(0)
    a32, b64 = torch.rand(4, 3, 32, 32, generator=g), torch.rand(4, 3, 64, 64, generator=g)
    with pytest.raises(ValueError, match="images of domain A and domain B must have one size.*A 32x32 and B 64x64"):
        CycleGANRun(tiny(), data.UnpairedDataset(data.ImageSet("a", a32), data.ImageSet("b", b64)))
    with pytest.raises(ValueError, match=r"A image has 1 channel\(s\) \(greyscale\)"):
        CycleGANRun(tiny(), unpaired(channels=1))
    with pytest.raises(ValueError, match=r"A image has 4 channel\(s\) \(RGBA\)"):
        CycleGANRun(tiny(), unpaired(channels=4))
    with pytest.raises(ValueError, match="32x32 images, but the run is configured for 64x64"):
        CycleGANRun(tiny(size=64), unpaired())
    with pytest.raises(ValueError, match="multiple of 4"):
        tiny(size=30)
    with pytest.raises(ValueError, match="two different names"):
        tiny(domains=("photo", "photo"))


def test_image_lab_shows_the_six_grids():
    from ganlab_kit.widgets.image_lab import ImageLab, ImageLabConfig

    lab = ImageLab(CycleGANRun(tiny(), unpaired()), ImageLabConfig(snapshot_every=1), live=False)
    try:
        lab.train(2)
        assert set(lab.snapshots[-1].pictures) == VISUALS and lab.snapshots[-1].step == 2
        assert {"cycle_loss", "identity_loss", "d_A_loss", "d_B_loss"} <= set(lab.session.history[-1])
    finally:
        lab.close()


def test_bf16_and_channels_last_on_the_cpu():
    run = CycleGANRun(tiny(precision="bf16", channels_last=True), unpaired())
    for _ in range(2):
        metrics = metrics_to_floats(run.step())
    assert all(np.isfinite(v) for v in metrics.values())
    assert run.visuals()["rec_A"].dtype == torch.float32
