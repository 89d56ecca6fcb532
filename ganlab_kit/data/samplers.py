"""Endless shuffled batches that resume exactly, on one process or several.

:class:`ResumableBatchSampler` draws batches whose order is a pure function of
``(seed, batches drawn so far)``, so a checkpoint that stores one integer resumes the data
stream exactly where it stopped. With ``world_size`` processes (DistributedDataParallel),
every rank computes the same global shuffle and takes its own disjoint share of each
global batch. :class:`BatchStream` wraps it in a ``DataLoader`` and hands out dict batches.
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class ResumableBatchSampler(Sampler[list[int]]):
    """Endless shuffled batches whose order depends only on ``(seed, batch number)``.

    Epoch ``e`` visits ``torch.randperm(n)`` drawn from a generator seeded with
    ``seed + e``, in global batches of ``batch_size * world_size`` indices; batches never
    straddle epochs (the last short global batch of an epoch is dropped, so every batch
    has ``batch_size`` images, which batch norm prefers).

    ``batch_size`` is per rank, as for a DataLoader under DistributedDataParallel. Rank
    ``r`` takes slice ``[r * batch_size, (r + 1) * batch_size)`` of each global batch:
    the ranks' batches are disjoint and together equal the single-process batch of size
    ``batch_size * world_size``. Every rank draws the same number of batches.

    ``state_dict()`` is ``{"seed", "batches_drawn"}`` (the same on every rank); loading it
    continues the stream exactly. Use it as a DataLoader's ``batch_sampler``; since a
    DataLoader with workers reads ahead, the *consumer* should call :meth:`advance` per
    batch it actually used and save that count (:class:`BatchStream` does).
    """

    def __init__(self, dataset_size: int, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        if world_size < 1:
            raise ValueError(f"world_size must be >= 1, got {world_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in 0..{world_size - 1} for world_size={world_size}, got rank={rank}")
        global_batch = batch_size * world_size
        if batch_size < 1 or dataset_size < global_batch:
            raise ValueError(f"need 1 <= batch_size and batch_size * world_size <= dataset size, got "
                             f"batch_size={batch_size} x world_size={world_size} for {dataset_size} images")
        self.dataset_size, self.batch_size, self.seed = dataset_size, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.batches_per_epoch = dataset_size // global_batch
        self.batches_drawn = 0

    def batch_indices(self, batch_number: int) -> list[int]:
        """This rank's indices of global batch ``batch_number``."""
        epoch, within = divmod(batch_number, self.batches_per_epoch)
        order = torch.randperm(self.dataset_size, generator=torch.Generator().manual_seed(self.seed + epoch))
        start = (within * self.world_size + self.rank) * self.batch_size
        return order[start: start + self.batch_size].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        number = self.batches_drawn
        while True:
            yield self.batch_indices(number)
            number += 1

    def __len__(self) -> int:  # one epoch; iteration itself never ends
        return self.batches_per_epoch

    def advance(self) -> None:
        self.batches_drawn += 1

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "batches_drawn": self.batches_drawn}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.seed, self.batches_drawn = int(state["seed"]), int(state["batches_drawn"])


class BatchStream:
    """Endless, resumable batches of a data set: ``next(stream)`` -> ``{"image": (B, C, H, W), ...}``.

    Wraps a DataLoader over ``dataset`` (dict items, stacked by the default collate:
    ``{"image": (B, C, H, W), "label": (B,)}`` for a labelled :class:`ImageSet`) with a
    :class:`ResumableBatchSampler`; counts the batches handed out, so ``state_dict()`` is
    exact even when workers read ahead. ``rank`` / ``world_size`` as for the sampler.
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int = 0, num_workers: int = 0,
                 rank: int = 0, world_size: int = 1) -> None:
        self.dataset, self.num_workers = dataset, num_workers
        self.sampler = ResumableBatchSampler(len(dataset), batch_size, seed, rank, world_size)
        self._iterator: Iterator | None = None

    def __iter__(self) -> "BatchStream":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        if self._iterator is None:
            # A private generator: making an iterator draws a seed, which would otherwise come from
            # torch's global RNG and shift dropout's draws after a resume (the order is ours anyway).
            loader = DataLoader(self.dataset, batch_sampler=self.sampler, num_workers=self.num_workers,
                                generator=torch.Generator())
            self._iterator = iter(loader)
        batch = next(self._iterator)
        self.sampler.advance()
        return batch

    def state_dict(self) -> dict[str, int]:
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.sampler.load_state_dict(state)
        self._iterator = None  # restart the loader at the restored batch number
