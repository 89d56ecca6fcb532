"""Cycle, identity and L1 losses against hand computations; the image pool against its rule; the decay schedule."""

import pytest
import torch

from ganlab_kit.losses import cycle_loss, generator_loss, identity_loss, l1_loss, translation_generator_loss
from ganlab_kit.train.image_pool import ImagePool
from ganlab_kit.train.schedules import linear_decay


def mean_abs(a, b):
    """E|a - b| by plain Python, one number at a time."""
    pairs = list(zip(a.flatten().tolist(), b.flatten().tolist(), strict=True))
    return sum(abs(x - y) for x, y in pairs) / len(pairs)


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(0)
    return [torch.rand(2, 3, 4, 4, generator=g) * 2 - 1 for _ in range(4)]


def test_l1_loss_by_hand():
    output = torch.tensor([[0.0, 1.0], [-1.0, 0.5]])
    target = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    assert float(l1_loss(output, target)) == pytest.approx((1 + 0 + 2 + 0.5) / 4)


def test_cycle_loss_by_hand(images):
    real_a, rec_a, real_b, rec_b = images
    expected = mean_abs(rec_a, real_a) + mean_abs(rec_b, real_b)
    assert float(cycle_loss(real_a, rec_a, real_b, rec_b)) == pytest.approx(expected, rel=1e-6)
    assert float(cycle_loss(real_a, real_a, real_b, real_b)) == 0.0  # a perfect round trip costs nothing


def test_identity_loss_by_hand(images):
    real_a, idt_a, real_b, idt_b = images
    expected = mean_abs(idt_a, real_a) + mean_abs(idt_b, real_b)
    assert float(identity_loss(real_a, idt_a, real_b, idt_b)) == pytest.approx(expected, rel=1e-6)


def test_losses_refuse_mismatched_shapes(images):
    a, b, c, d = images
    with pytest.raises(ValueError, match="cycle_loss \\(domain B\\)"):
        cycle_loss(a, b, c, d[:, :, :2])
    with pytest.raises(ValueError, match="identity_loss \\(domain A\\)"):
        identity_loss(a, b[:1], c, d)
    with pytest.raises(ValueError, match="l1_loss"):
        l1_loss(a, b[:, :1])


def test_translation_generator_loss_is_the_papers_criterion():
    logits = torch.tensor([[-1.0, 0.0], [2.0, 0.5]])
    assert float(translation_generator_loss(logits, "lsgan")) == pytest.approx(((-2) ** 2 + 1 + 1 + 0.25) / 4)
    assert torch.equal(translation_generator_loss(logits, "non_saturating"), generator_loss(logits, "non_saturating"))
    # BCE(D(G(x)), 1) = -log sigmoid(t)
    expected = sum(-torch.log(torch.sigmoid(torch.tensor(t))).item() for t in logits.flatten().tolist()) / 4
    assert float(translation_generator_loss(logits, "non_saturating")) == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------- the image pool
def numbered(start, count):
    """Images (count, 1, 1, 1) whose only pixel is their number: each one recognisable."""
    return torch.arange(start, start + count, dtype=torch.float32).reshape(count, 1, 1, 1)


def test_pool_returns_the_first_50_as_they_are():
    pool = ImagePool(50, seed=0)
    for start in range(0, 50, 5):
        batch = numbered(start, 5)
        assert torch.equal(pool.query(batch), batch)
    assert len(pool) == 50


def test_pool_swaps_about_half_once_full_and_returns_only_seen_images():
    pool = ImagePool(50, seed=1)
    pool.query(numbered(0, 50))
    seen = set(range(50))
    from_pool = 0
    for number in range(50, 1050):
        out = int(pool.query(numbered(number, 1)).item())
        assert out == number or out in seen  # the input, or an older image the pool held
        from_pool += out != number
        seen.add(number)
        assert len(pool) == 50
    assert 0.44 < from_pool / 1000 < 0.56  # probability one half
    # the pool now holds exactly the images it did not hand out
    held = set(pool.images.flatten().int().tolist())
    assert len(held) == 50 and held <= seen


def test_pool_is_seeded_and_resumes_exactly():
    def run(pool, start, steps):
        return [pool.query(numbered(start + 4 * i, 4)).flatten().tolist() for i in range(steps)]

    a, b = ImagePool(10, seed=7), ImagePool(10, seed=7)
    assert run(a, 0, 10) == run(b, 0, 10)
    state = a.state_dict()
    expected = run(a, 100, 10)
    c = ImagePool(10, seed=99)
    c.load_state_dict(state)
    assert run(c, 100, 10) == expected
    with pytest.raises(ValueError, match="holds 5 images but the saved one held 10"):
        ImagePool(5).load_state_dict(state)


def test_pool_of_size_zero_and_shape_errors():
    batch = numbered(0, 3)
    assert torch.equal(ImagePool(0).query(batch), batch)
    pool = ImagePool(4)
    pool.query(batch)
    with pytest.raises(ValueError, match="shape"):
        pool.query(torch.zeros(1, 2, 1, 1))
    with pytest.raises(ValueError, match="size must be an int >= 0"):
        ImagePool(-1)


def test_pool_output_is_detached():
    fakes = torch.randn(2, 3, 4, 4, requires_grad=True)
    assert not ImagePool(50).query(fakes * 2).requires_grad


# ---------------------------------------------------------------- schedule
def test_linear_decay_over_the_second_half():
    factors = [linear_decay(step, 100) for step in (0, 25, 50, 75, 90, 100, 120)]
    assert factors == [1.0, 1.0, 1.0, 0.5, pytest.approx(0.2), 0.0, 0.0]
    assert linear_decay(10, None) == 1.0
    assert linear_decay(95, 100, decay_steps=10) == 0.5
    with pytest.raises(ValueError, match="decay_steps must be an int in 0..total_steps=10"):
        linear_decay(0, 10, decay_steps=20)
    with pytest.raises(ValueError, match="total_steps must be a positive int"):
        linear_decay(0, 0)
