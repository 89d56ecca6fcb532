"""The kit's data layer: every image a model trains on comes from here.

One concept per module:

* ``patches``     the one crop pipeline (``PatchConfig``, ``photo_patches``), the one
                  conversion between pixels and [-1, 1] (``to_signed`` / ``to_uint8`` /
                  ``to_unit``), styled patches with a cache (``rendered``)
* ``images``      image sets for the DCGAN (``ImageSet``: digits, faces, photo and
                  styled crops, torchvision sets)
* ``style_sets``  paired and unpaired photo/style sets (``style_data``)
* ``folders``     real image folders and the CycleGAN layout
* ``samplers``    resumable, rank-aware batches (``ResumableBatchSampler``, ``BatchStream``)
* ``download``    the data set manifest, verified downloads, safe extraction

Items are dicts everywhere: ``{"image", "label"?}`` for image sets, ``{"A", "B", ...}``
(A = photo domain, B = style domain) for style-transfer pairs. Importing this package
loads no plotting or widget library.
"""

from .download import (ArchiveTooLargeError, DatasetEntry, DownloadError, UnsafeArchiveError, download_dataset,
                       fetch, load_manifest, safe_extract, sha256_of)
from .folders import ImageFolderDataset, cyclegan_folder
from .images import (OFFLINE_SETS, TORCHVISION_SETS, DataUnavailable, ImageSet, TorchvisionImages, digits, faces,
                     load_offline, photo_crops, stack_images, styled_crops, torchvision_images)
from .patches import (PatchConfig, PatchSet, item_generator, photo_patches, prepare_image, random_patch, rendered,
                      to_signed, to_uint8, to_unit)
from .samplers import BatchStream, ResumableBatchSampler
from .style_sets import PairedDataset, StyleData, UnpairedDataset, style_data

__all__ = [
    "ArchiveTooLargeError", "BatchStream", "DataUnavailable", "DatasetEntry", "DownloadError", "ImageFolderDataset",
    "ImageSet", "OFFLINE_SETS", "PairedDataset", "PatchConfig", "PatchSet", "ResumableBatchSampler", "StyleData",
    "TORCHVISION_SETS", "TorchvisionImages", "UnpairedDataset", "UnsafeArchiveError", "cyclegan_folder", "digits",
    "download_dataset", "faces", "fetch", "item_generator", "load_manifest", "load_offline", "photo_crops",
    "photo_patches", "prepare_image", "random_patch", "rendered", "safe_extract", "sha256_of", "stack_images",
    "style_data", "styled_crops", "to_signed", "to_uint8", "to_unit", "torchvision_images",
]
