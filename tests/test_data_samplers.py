"""Resumable, rank-aware batches: exact resume, disjoint shares that add up to the global batch."""

import pytest
import torch

from ganlab_kit import data


def test_resumable_sampler_continues_exactly():
    sampler = data.ResumableBatchSampler(dataset_size=10, batch_size=3, seed=7)
    stream = iter(sampler)
    first = [next(stream) for _ in range(7)]  # crosses two epoch boundaries (3 batches/epoch)
    assert all(len(b) == 3 for b in first)
    assert sorted(sum(first[:3], [])) == sorted(set(sum(first[:3], [])))  # no repeats within an epoch
    assert first[:3] != first[3:6]  # each epoch reshuffles
    resumed = data.ResumableBatchSampler(10, 3, seed=0)
    resumed.load_state_dict({"seed": 7, "batches_drawn": 4})
    assert next(iter(resumed)) == first[4]
    with pytest.raises(ValueError, match="batch_size"):
        data.ResumableBatchSampler(2, 3)


def test_batch_stream_state_counts_consumed_batches():
    digits = data.digits(16)
    stream = data.BatchStream(digits, batch_size=4, seed=1)
    batches = [next(stream) for _ in range(5)]
    assert set(batches[0]) == {"image", "label"}
    assert batches[0]["image"].shape == (4, 1, 16, 16) and batches[0]["label"].shape == (4,)
    assert stream.state_dict() == {"seed": 1, "batches_drawn": 5}
    other = data.BatchStream(digits, batch_size=4, seed=99)
    other.load_state_dict({"seed": 1, "batches_drawn": 3})
    again = next(other)
    assert torch.equal(again["image"], batches[3]["image"]) and torch.equal(again["label"], batches[3]["label"])


def test_ranks_take_disjoint_shares_of_the_single_process_global_batch():
    size, per_rank, world = 23, 3, 2  # 3 global batches of 6 per epoch, 5 images left over
    single = iter(data.ResumableBatchSampler(size, per_rank * world, seed=5))
    ranks = [iter(data.ResumableBatchSampler(size, per_rank, seed=5, rank=r, world_size=world)) for r in range(world)]
    for _ in range(8):  # across two epoch boundaries
        shares = [next(r) for r in ranks]
        assert all(len(share) == per_rank for share in shares)
        assert not set(shares[0]) & set(shares[1])
        assert shares[0] + shares[1] == next(single)  # rank order within the global batch
    assert len(data.ResumableBatchSampler(size, per_rank, rank=1, world_size=world)) == 3


def test_rank_aware_resume_is_exact_and_bad_ranks_are_refused():
    sampler = data.ResumableBatchSampler(20, 2, seed=3, rank=1, world_size=3)
    drawn = []
    for indices in sampler:
        drawn.append(indices)
        sampler.advance()
        if len(drawn) == 9:
            break
    state = sampler.state_dict()
    assert state == {"seed": 3, "batches_drawn": 9}
    following = [b for b, _ in zip(iter(data.ResumableBatchSampler(20, 2, seed=3, rank=1, world_size=3)), range(12))]
    resumed = data.ResumableBatchSampler(20, 2, seed=0, rank=1, world_size=3)
    resumed.load_state_dict(state)
    stream = iter(resumed)
    assert [next(stream) for _ in range(3)] == following[9:12]
    with pytest.raises(ValueError, match="rank must be in 0..1 for world_size=2, got rank=2"):
        data.ResumableBatchSampler(20, 2, rank=2, world_size=2)
    with pytest.raises(ValueError, match="rank"):
        data.ResumableBatchSampler(20, 2, rank=-1, world_size=2)
    with pytest.raises(ValueError, match="world_size must be >= 1"):
        data.ResumableBatchSampler(20, 2, world_size=0)
    with pytest.raises(ValueError, match="batch_size=4 x world_size=6 for 20 images"):
        data.ResumableBatchSampler(20, 4, world_size=6)


def test_batch_stream_ranks_split_the_images():
    digits = data.digits(16)
    whole = next(data.BatchStream(digits, batch_size=8, seed=2))
    halves = [next(data.BatchStream(digits, batch_size=4, seed=2, rank=r, world_size=2)) for r in range(2)]
    assert torch.equal(torch.cat([h["image"] for h in halves]), whole["image"])
    assert torch.equal(torch.cat([h["label"] for h in halves]), whole["label"])
