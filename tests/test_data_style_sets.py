"""Style-transfer sets: splits without leakage, render cache reuse, paired and unpaired dict items."""

import pytest
import torch
from torch.utils.data import DataLoader

from ganlab_kit import data
from ganlab_kit.styles import renderers
from ganlab_kit.styles.renderers import StyleRenderer

pytestmark = pytest.mark.usefixtures("data_in_tmp")


@pytest.fixture(scope="module")
def loaded(loaded_photos):
    return loaded_photos


def test_style_data_splits_by_source_without_leakage():
    counting = {"calls": 0}

    def render(images, config, seed):
        counting["calls"] += 1
        return 1.0 - images

    style = StyleRenderer("negative", render, None)
    sets = data.style_data(style, count=16, config=data.PatchConfig(size=32), held_out=2, seed=1)
    assert len(sets.test_sources) == 2
    assert not set(sets.train_sources) & set(sets.test_sources)
    assert set(sets.paired_train.photos.sources) <= set(sets.train_sources)
    assert set(sets.paired_test.photos.sources) <= set(sets.test_sources)
    # unpaired: domain B is styled from *other* photos than domain A
    assert not set(sets.unpaired_train.domain_a.sources) & set(sets.unpaired_train.domain_b.sources)
    pair = sets.paired_train[3]
    assert torch.allclose(pair["B"], -pair["A"], atol=1 / 127)  # 1 - x in [0,1] is -x in [-1,1]
    # no test patch equals any training patch
    train = sets.train_photos.pixels.flatten(1).float()
    test = sets.test_photos.pixels.flatten(1).float()
    assert float(torch.cdist(test, train).min()) > 0
    # rebuilding reads the cache instead of rendering again
    calls = counting["calls"]
    data.style_data(style, count=16, config=data.PatchConfig(size=32), held_out=2, seed=1)
    assert counting["calls"] == calls


def test_real_renderer_paired_and_unpaired_items(loaded):
    patches = data.photo_patches(loaded, 4, data.PatchConfig(size=32))
    styled = data.rendered(patches, renderers.ink_wash(), cache=False)
    paired = data.PairedDataset(patches, styled)
    item = paired[1]
    assert set(item) == {"A", "B", "index"} and item["B"].shape == (3, 32, 32) and item["index"] == 1
    assert torch.equal(item["A"], patches[1]["image"]) and torch.equal(item["B"], styled[1]["image"])
    unpaired = data.UnpairedDataset(patches, styled, seed=2)
    assert set(unpaired[2]) == {"A", "B", "A_index", "B_index"}
    assert torch.equal(unpaired[2]["B"], data.UnpairedDataset(patches, styled, seed=2)[2]["B"])
    assert torch.equal(unpaired[2]["B"], styled[unpaired[2]["B_index"]]["image"])
    with pytest.raises(ValueError, match="equal length"):
        data.PairedDataset(patches, data.PatchSet(styled.pixels[:2], styled.sources[:2]))


def test_style_sets_batch_into_dicts(loaded):
    patches = data.photo_patches(loaded, 6, data.PatchConfig(size=32))
    paired = data.PairedDataset(patches, patches)
    batch = next(iter(DataLoader(paired, batch_size=4)))
    assert batch["A"].shape == (4, 3, 32, 32) and batch["B"].shape == (4, 3, 32, 32)
    assert batch["index"].tolist() == [0, 1, 2, 3]
    unpaired = next(iter(DataLoader(data.UnpairedDataset(patches, patches, seed=0), batch_size=3)))
    assert unpaired["A"].shape == (3, 3, 32, 32) and unpaired["B_index"].shape == (3,)
