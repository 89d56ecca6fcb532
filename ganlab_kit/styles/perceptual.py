"""Perceptual style and content losses on any ``FeatureExtractor`` (the kit's own style
features, or VGG-16 when its weights are on disk).

Style is compared through Gram matrices, which keep which feature channels fire
together and forget where (Gatys, Ecker and Bethge, "Image Style Transfer Using
Convolutional Neural Networks", CVPR 2016):

    G_l(x)[c, d] = (1 / (C_l H_l W_l)) sum_{h,w} F_l(x)[c, h, w] F_l(x)[d, h, w]
    style_loss(x, y) = sum_l || G_l(x) - G_l(y) ||^2_F / C_l^2     (mean over the batch)
    content_loss(x, y) = mean (F_k(x) - F_k(y))^2                  (one middle layer k)
"""

from __future__ import annotations

import torch


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W) -> (B, C, C)``, normalised by ``C H W`` so layers are comparable."""
    batch, channels, height, width = features.shape
    flat = features.reshape(batch, channels, height * width)
    return flat @ flat.transpose(1, 2) / (channels * height * width)


def style_loss(extractor, generated: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over layers of the mean squared Gram-matrix difference (images in [-1, 1]).

    ``target`` may hold one style image for a whole batch (``B = 1``): it broadcasts.
    Gradients flow to ``generated`` only.
    """
    with torch.no_grad():
        target_grams = [gram_matrix(f) for f in extractor.feature_maps(target)]
    loss = generated.new_zeros(())
    for features, target_gram in zip(extractor.feature_maps(generated), target_grams):
        loss = loss + (gram_matrix(features) - target_gram).pow(2).mean(dim=(1, 2)).mean()
    return loss


def content_loss(extractor, generated: torch.Tensor, target: torch.Tensor, layer: int = 1) -> torch.Tensor:
    """Mean squared difference of one layer's feature maps (default: the second block)."""
    with torch.no_grad():
        target_features = extractor.feature_maps(target)[layer]
    return (extractor.feature_maps(generated)[layer] - target_features).pow(2).mean()
