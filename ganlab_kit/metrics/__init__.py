"""Measuring GANs and style transfer, without downloading anything.

One concept per module:

* ``distances``      KID / FID / MMD between two feature sets
* ``digits``         the kit's digit classifier, its features, KID/FID on them, mode coverage
* ``memorisation``   are samples copies of training images?
* ``image_quality``  SSIM, PSNR, FSIM against a ground truth (from the piq library)
* ``style_scores``   a style-transfer model against its renderer: baseline, ceiling, style rate

``from ganlab_kit import metrics`` then ``metrics.kit_scores(...)`` etc.: every public
name of the modules is re-exported here.
"""

from .digits import (
    CLASSIFIER_SIZE,
    FEATURE_NAME,
    CoverageReport,
    DigitClassifier,
    count_classes,
    digit_classifier,
    kit_features,
    kit_scores,
    mode_coverage,
)
from .distances import frechet_distance, kernel_inception_distance, polynomial_mmd2
from .image_quality import PSNR_CAP_DB, check_image_pair, fsim, psnr, ssim
from .memorisation import (
    HeldOutComparison,
    MemorisationReport,
    held_out_comparison,
    memorisation_check,
    nearest_neighbours,
)
from .style_scores import classify_styles, scores_table, style_network, style_transfer_scores

__all__ = [
    "CLASSIFIER_SIZE",
    "FEATURE_NAME",
    "HeldOutComparison",
    "PSNR_CAP_DB",
    "CoverageReport",
    "DigitClassifier",
    "MemorisationReport",
    "check_image_pair",
    "classify_styles",
    "count_classes",
    "digit_classifier",
    "frechet_distance",
    "held_out_comparison",
    "fsim",
    "kernel_inception_distance",
    "kit_features",
    "kit_scores",
    "memorisation_check",
    "mode_coverage",
    "nearest_neighbours",
    "polynomial_mmd2",
    "psnr",
    "scores_table",
    "ssim",
    "style_network",
    "style_transfer_scores",
]
