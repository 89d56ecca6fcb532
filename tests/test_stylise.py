"""The multi-style generator: conditional instance norm, style codes and mixing, its
training run, checked uploads, and the shipped model."""

from __future__ import annotations

import dataclasses
import datetime
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F

from ganlab_kit.nets.conditional import (
    ConditionalInstanceNorm2d,
    ConditionalStyleGenerator,
    StyleGeneratorConfig,
    mix_along,
    style_code,
)
from ganlab_kit.styles import stylise
from ganlab_kit.styles.stylise import UploadError, load_style_generator, read_upload, save_style_generator
from ganlab_kit.train.checkpoint import load_run, save_run
from ganlab_kit.train.stylise import MultiStylePairs, StyliseHyper, StyliseRun, StyliseRunConfig, edge_l1

NOW = datetime.datetime.now(tz=datetime.timezone.utc)
TINY = StyleGeneratorConfig(styles=("ink_wash", "oil", "ukiyoe"), width=4, blocks=1)


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------ the layer and the net
def test_conditional_instance_norm_uses_the_codes_row_and_mixes_linearly():
    norm = ConditionalInstanceNorm2d(channels=2, styles=3)
    with torch.no_grad():
        norm.gamma.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
        norm.beta.copy_(torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
    x = torch.randn(1, 2, 5, 5)
    normalised = F.instance_norm(x)
    one_hot = torch.tensor([[0.0, 1.0, 0.0]])
    expected = normalised * torch.tensor([3.0, 4.0]).view(1, 2, 1, 1) + torch.tensor([2.0, 3.0]).view(1, 2, 1, 1)
    torch.testing.assert_close(norm(x, one_hot), expected)
    mixed = norm(x, torch.tensor([[0.5, 0.0, 0.5]]))  # halfway between styles 0 and 2
    halfway = normalised * torch.tensor([3.0, 4.0]).view(1, 2, 1, 1) + torch.tensor([2.0, 3.0]).view(1, 2, 1, 1)
    torch.testing.assert_close(mixed, halfway)


def test_generator_shapes_range_and_styles_differ():
    generator = ConditionalStyleGenerator(TINY, seed=0)
    photos = torch.rand(2, 3, 16, 24) * 2 - 1
    outputs = {name: generator(photos, style_code(TINY.styles, name, batch=2)) for name in TINY.styles}
    for out in outputs.values():
        assert out.shape == (2, 3, 16, 24) and out.min() >= -1 and out.max() <= 1
    with torch.no_grad():  # untrained tables are all equal: make the styles differ
        for module in generator.modules():
            if isinstance(module, ConditionalInstanceNorm2d):
                module.gamma.add_(torch.arange(3.0).view(3, 1))
    ink, oil = (generator(photos, style_code(TINY.styles, n, batch=2)) for n in ("ink_wash", "oil"))
    assert (ink - oil).abs().mean() > 1e-3


def test_generator_refuses_bad_shapes():
    generator = ConditionalStyleGenerator(TINY)
    with pytest.raises(ValueError, match="multiples of 4"):
        generator(torch.zeros(1, 3, 18, 16), style_code(TINY.styles, "oil"))
    with pytest.raises(ValueError, match=r"code must be \(B, 3\)"):
        generator(torch.zeros(2, 3, 16, 16), style_code(TINY.styles, "oil"))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        generator(torch.zeros(1, 1, 16, 16), style_code(TINY.styles, "oil"))


def test_style_codes_and_the_mixing_slider():
    styles = ("ink_wash", "oil", "ukiyoe")
    torch.testing.assert_close(style_code(styles, "oil"), torch.tensor([[0.0, 1.0, 0.0]]))
    torch.testing.assert_close(style_code(styles, {"ink_wash": 1, "ukiyoe": 3}), torch.tensor([[0.25, 0.0, 0.75]]))
    with pytest.raises(ValueError, match="unknown style"):
        style_code(styles, "impressionism")
    with pytest.raises(ValueError, match=">= 0 and not all 0"):
        style_code(styles, {"oil": -1.0, "ink_wash": 2.0})
    assert mix_along(styles, 0.0) == {"ink_wash": 1.0, "oil": 0.0}
    assert mix_along(styles, 1.5) == {"oil": 0.5, "ukiyoe": 0.5}
    assert mix_along(styles, 2.0) == {"oil": 0.0, "ukiyoe": 1.0}
    with pytest.raises(ValueError, match=r"in \[0, 2\]"):
        mix_along(styles, 2.5)


# ------------------------------------------------------------------ training
class _Pairs(torch.utils.data.Dataset):
    """A learnable toy mapping per style: the target is the photo with its channels permuted
    and multiplied by ``sign`` (-1: a negative)."""

    def __init__(self, permutation, sign=1.0, n=16, size=16, seed=0):
        rng = torch.Generator().manual_seed(seed)  # smooth random pictures: colour blobs, not pixel noise
        coarse = torch.rand(n, 3, size // 4, size // 4, generator=rng) * 2 - 1
        self.photos = F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
        self.permutation, self.sign = permutation, sign

    def target(self, photos):
        return self.sign * photos[:, list(self.permutation)]

    def __len__(self):
        return len(self.photos)

    def __getitem__(self, i):
        return {"A": self.photos[i], "B": self.target(self.photos[i : i + 1])[0]}


def toy_data(seed=0):
    return MultiStylePairs(
        {
            "ink_wash": _Pairs((2, 1, 0), seed=seed),
            "oil": _Pairs((1, 2, 0), seed=seed),
            "ukiyoe": _Pairs((0, 2, 1), seed=seed),
        }
    )


def test_multi_style_pairs_index_and_refuse_uneven_sets():
    data = toy_data()
    assert len(data) == 48 and int(data[17]["style"]) == 1
    torch.testing.assert_close(data[17]["B"], data.sets[1][1]["B"])
    with pytest.raises(ValueError, match="same, non-zero number"):
        MultiStylePairs({"ink_wash": _Pairs((0, 1, 2), n=4), "oil": _Pairs((0, 1, 2), n=5)})


def test_stylise_run_learns_each_styles_mapping_and_resumes_exactly(tmp_path):
    config = StyliseRunConfig(image_size=16, generator=dataclasses.replace(TINY, width=8), batch_size=6, num_visuals=2)
    hyper = StyliseHyper(generator_lr=3e-3, edge_weight=0.5)
    run = StyliseRun(config, toy_data(), hyper=hyper)
    first = [float(run.step()["l1_loss"]) for _ in range(5)]
    last = [float(run.step()["l1_loss"]) for _ in range(150)][-5:]
    assert sum(last) < 0.7 * sum(first)
    # the code selects the mapping: each style's output is nearest its own style's target
    data = toy_data(seed=1)  # photos it never saw
    photos = data.sets[0].photos[:8]
    errors = torch.zeros(3, 3)
    with torch.no_grad():
        for i, name in enumerate(data.styles):
            output = run.generator.eval()(photos, style_code(data.styles, name, batch=8))
            for j, pairs in enumerate(data.sets):
                errors[i, j] = (output - pairs.target(photos)).abs().mean()
    run.generator.train()
    for i in range(3):
        assert errors[i, i] == errors[i].min(), errors
    visuals = run.visuals()
    assert list(visuals) == ["input", "ink_wash", "oil", "ukiyoe"] and visuals["oil"].shape == (2, 3, 16, 16)
    path = save_run(tmp_path / "s.safetensors", run)
    expected = [float(run.step()["g_loss"]) for _ in range(3)]
    again = StyliseRun(config, toy_data(), hyper=hyper)
    load_run(path, again)
    assert [float(again.step()["g_loss"]) for _ in range(3)] == expected


def test_stylise_run_refuses_data_of_other_styles():
    config = StyliseRunConfig(image_size=16, generator=StyleGeneratorConfig(styles=("oil", "ink_wash"), width=4))
    with pytest.raises(ValueError, match="styles"):
        StyliseRun(config, toy_data())


def test_edge_l1_sees_edges_not_flat_shifts():
    flat = torch.zeros(1, 3, 8, 8)
    step = flat.clone()
    step[..., 4:] = 1.0
    assert float(edge_l1(flat, flat + 0.5)) < 1e-3  # a uniform shift has no edges
    assert float(edge_l1(flat, step)) > 0.01


# ------------------------------------------------------------------ uploads
def test_read_upload_resizes_to_a_multiple_of_four():
    upload = read_upload(png(np.full((300, 450, 3), 200, np.uint8)), size=256)
    assert upload.image.shape == (1, 3, 256, 384) and upload.original_size == (450, 300)
    assert any("resized" in note for note in upload.notes)
    torch.testing.assert_close(upload.image.mean(), torch.tensor(200 / 127.5 - 1), atol=1e-3, rtol=0)


def test_read_upload_converts_greyscale_sixteen_bit_and_transparency_and_says_so():
    grey = read_upload(png(np.full((64, 64), 50, np.uint8), "L"), size=64)
    assert grey.image.shape == (1, 3, 64, 64) and any("greyscale" in n for n in grey.notes)
    deep = read_upload(png(np.full((64, 64), 65535, np.uint16)), size=64)
    assert float(deep.image.min()) == pytest.approx(1.0) and any("16-bit" in n for n in deep.notes)
    rgba = np.zeros((64, 64, 4), np.uint8)  # black, fully transparent
    clear = read_upload(png(rgba, "RGBA"), size=64)
    assert float(clear.image.min()) == pytest.approx(1.0)  # onto white
    assert any("transparent" in n for n in clear.notes)


def test_read_upload_refuses_what_it_cannot_use():
    with pytest.raises(UploadError, match="not an image"):
        read_upload(b"%PDF-1.4 this is a document")
    with pytest.raises(UploadError, match="empty"):
        read_upload(b"")
    with pytest.raises(UploadError, match="at least 32 px"):
        read_upload(png(np.zeros((16, 200, 3), np.uint8)))
    with pytest.raises(UploadError, match="MB"):
        read_upload(b"\x89PNG" + bytes(21 * 1024 * 1024))
    huge = io.BytesIO()
    Image.new("1", (8000, 6000)).save(huge, format="PNG")  # 48 megapixels in a small file
    with pytest.raises(UploadError, match="megapixels"):
        read_upload(huge.getvalue())
    broken = png(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(UploadError, match="damaged or truncated"):
        read_upload(broken[: len(broken) // 2])


# ------------------------------------------------------------------ files
def test_save_and_load_round_trip_and_wrong_files(tmp_path):
    generator = ConditionalStyleGenerator(TINY, seed=3).eval()
    path = save_style_generator(generator, tmp_path / "g.safetensors", info={"steps": 1})
    loaded = load_style_generator(path)
    photo = torch.rand(1, 3, 16, 16) * 2 - 1
    torch.testing.assert_close(stylise.stylise(loaded, photo, "oil"), stylise.stylise(generator, photo, "oil"))
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a style generator"):
        load_style_generator(tmp_path / "other.safetensors")
    wider = ConditionalStyleGenerator(StyleGeneratorConfig(width=8, blocks=1))
    save_file(
        {k: v.contiguous() for k, v in wider.state_dict().items()},
        str(tmp_path / "mismatch.safetensors"),
        metadata={"config": json.dumps(TINY.to_dict())},
    )
    with pytest.raises(ValueError, match="do not fit"):
        load_style_generator(tmp_path / "mismatch.safetensors")
    with pytest.raises(FileNotFoundError, match="make_style_generator"):
        load_style_generator(tmp_path / "missing.safetensors")


def test_stylise_pads_odd_sizes_and_crops_back():
    generator = ConditionalStyleGenerator(TINY).eval()
    out = stylise.stylise(generator, torch.zeros(1, 3, 37, 50), {"oil": 1, "ukiyoe": 1})
    assert out.shape == (1, 3, 37, 50)


# ------------------------------------------------------------------ the widget
def _lab(**kwargs):
    from ganlab_kit.widgets.stylise_lab import StyliseLab

    generator = ConditionalStyleGenerator(TINY, seed=0).eval()
    with torch.no_grad():  # make the three styles visibly different
        for module in generator.modules():
            if isinstance(module, ConditionalInstanceNorm2d):
                module.gamma.add_(torch.arange(3.0).view(3, 1))
                module.beta.add_(torch.tensor([-0.5, 0.0, 0.5]).view(3, 1))
    return StyliseLab(generator, size=64, live=True, **kwargs)


def test_stylise_lab_paints_every_style_and_the_slider_mixes():
    lab = _lab()
    assert set(lab.paintings) == {"ink_wash", "oil", "ukiyoe"}
    assert lab.photo.image.shape[-2] == 64 or lab.photo.image.shape[-1] == 64  # short side 64
    before = lab.mix_view.value
    lab.slider.value = 1.5  # half oil, half ukiyo-e
    assert lab.mix_view.value != before and "50% oil" in lab.mix_caption.value
    _, mixed = lab.mix(1.5)
    torch.testing.assert_close(mixed, stylise.stylise(lab.generator, lab.photo.image, {"oil": 1, "ukiyoe": 1}))
    torch.testing.assert_close(lab.mix(2.0)[1], lab.paintings["ukiyoe"])


def test_stylise_lab_uploads_good_and_bad_files():
    lab = _lab()
    old_views = {k: v.value for k, v in lab.views.items()}
    lab.upload.value = (
        {"name": "notes.txt", "type": "text/plain", "size": 5, "content": memoryview(b"hello"), "last_modified": NOW},
    )
    assert "notes.txt" in lab.message.value and "not an image" in lab.message.value
    assert {k: v.value for k, v in lab.views.items()} == old_views  # nothing changed
    picture = np.zeros((80, 120, 3), np.uint8)
    picture[:, 60:] = 255
    lab.upload.value = (
        {"name": "mine.png", "type": "image/png", "size": 1, "content": memoryview(png(picture)), "last_modified": NOW},
    )
    assert lab.photo.image.shape == (1, 3, 64, 96)
    assert all(lab.views[k].value != old_views[k] for k in old_views)
    assert "96x64 px" in lab.message.value


def test_stylise_lab_static_figure_has_every_view():
    import matplotlib

    matplotlib.use("Agg")
    lab = _lab()
    fig = lab.figure(mix_steps=5)
    titles = [a.get_title() for a in fig.axes if a.get_title()]
    assert titles[:4] == ["photo", "ink wash (shuimo)", "oil", "ukiyo-e"] and len(titles) == 9
    assert fig.dpi >= 110


def test_stylise_lab_shows_a_picture_beside_the_widget(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from ganlab_kit.widgets import snapshot

    shown = []
    monkeypatch.setattr(snapshot, "display", lambda bundle, **kwargs: shown.append(bundle))
    lab = _lab()
    lab.show()  # live: the widget view and its PNG in one bundle
    lab.live = False
    lab.show()  # static: the PNG alone
    assert "image/png" in shown[0] and snapshot.WIDGET_VIEW in shown[0]
    assert "image/png" in shown[1] and snapshot.WIDGET_VIEW not in shown[1]


def test_the_shipped_generator_is_small_documented_and_paints_three_different_styles():
    path = stylise.PRETRAINED_DIR / stylise.GENERATOR_FILE
    assert path.stat().st_size <= 10 * 1024 * 1024
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["command"].startswith("python scripts/make_style_generator.py")
    assert {"steps", "seed", "batch_size"} <= set(info["training"])
    assert set(info["data"]["held_out_photos"]).isdisjoint(info["data"]["train_photos"])
    for scores in info["scores_held_out"].values():
        assert set(scores) == {"ink_wash", "oil", "ukiyoe"}
    generator = load_style_generator()
    photo = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    paintings = {name: stylise.stylise(generator, photo, name) for name in generator.styles}
    for a in paintings:
        for b in paintings:
            if a < b:
                assert (paintings[a] - paintings[b]).abs().mean() > 0.02, (a, b)
    grey = paintings["ink_wash"]  # ink wash has no colour: its channels nearly agree
    assert (grey - grey.mean(1, keepdim=True)).abs().mean() < (
        paintings["oil"] - paintings["oil"].mean(1, keepdim=True)
    ).abs().mean()
