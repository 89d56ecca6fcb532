import pytest
import torch
import torch.nn.functional as F

from ganlab_kit import checks


def test_fixtures_agree_with_references():
    stored, fresh = checks.load_fixtures(), checks.make_fixtures()
    assert set(stored) == set(checks.EXERCISES)
    for name in stored:
        for a, b in zip(stored[name], fresh[name]):
            assert torch.allclose(torch.tensor(a["expected"]), torch.tensor(b["expected"]), atol=1e-6), name


def test_reference_solutions_pass():
    for name, ex in checks.EXERCISES.items():
        namespace = {"torch": torch}
        exec(ex.solution, namespace)
        result = checks.check(name, namespace[name])
        assert result.passed, result.message


def test_naive_log_sigmoid_is_caught_at_extreme_logits():
    def naive(real, fake):
        return -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()

    result = checks.check("minimax_discriminator_loss", naive)
    assert not result.passed
    assert "NaN or inf" in result.message and "softplus" in result.message


def test_flipped_sign_is_named():
    result = checks.check("non_saturating_generator_loss", lambda f: -F.softplus(-f).mean())
    assert not result.passed and result.message.startswith("sign")


def test_sum_instead_of_mean_is_a_scale_error():
    result = checks.check("hinge_discriminator_loss", lambda r, f: 2 * (F.relu(1 - r).mean() + F.relu(1 + f).mean()))
    assert not result.passed and "scale" in result.message and "2 times" in result.message


def test_shape_error_is_named():
    result = checks.check("non_saturating_generator_loss", lambda f: F.softplus(-f))
    assert not result.passed and "single number" in result.message


def test_wrong_values_and_exceptions():
    result = checks.check("optimal_discriminator", lambda p, q: p / (p + 2 * q))
    assert not result.passed and result.message.startswith("values differ")

    def broken(p, q):
        raise RuntimeError("oops")

    result = checks.check("optimal_discriminator", broken)
    assert not result.passed and "RuntimeError: oops" in result.message


def test_tolerant_to_dtype_device_and_numpy():
    ok = checks.check("optimal_discriminator", lambda p, q: (p.double() / (p.double() + q.double())).numpy())
    assert ok.passed, ok.message
    ok = checks.check("jensen_shannon", lambda p, q: checks.core._jensen_shannon(p.double(), q.double()).tolist())
    assert ok.passed, ok.message
    assert "PASS" in repr(checks.check("optimal_discriminator", lambda p, q: p / (p + q)))


def test_unknown_exercise_and_solution_hidden(capsys):
    with pytest.raises(KeyError, match="optimal_discriminator"):
        checks.check("nope", lambda: 0)
    checks.show_solution("optimal_discriminator")
    assert "p_data / (p_data + p_g)" in capsys.readouterr().out
    assert "derivative" in checks.hint("optimal_discriminator")


def test_scalar_answer_with_wrong_term_is_not_called_a_scale_error():
    """Regression: one number over another always has a 'constant ratio'."""
    wrong_sign_inside = lambda r, f: F.relu(1 - r).mean() + F.relu(1 - f).mean()
    result = checks.check("hinge_discriminator_loss", wrong_sign_inside)
    assert not result.passed
    assert result.message.startswith("values differ"), result.message


def test_scalar_answer_scaled_in_every_case_is_a_scale_error():
    result = checks.check("non_saturating_generator_loss", lambda f: 0.5 * F.softplus(-f).mean())
    assert not result.passed and result.message.startswith("scale") and "0.5 times" in result.message


# ------------------------------------------------ notebook 06: the PatchGAN's receptive field
def test_receptive_field_reference_and_kit_agree_on_the_patchgans():
    from ganlab_kit.nets.patchgan import PatchDiscriminator, receptive_field

    stored = checks.load_fixtures()["patchgan_receptive_field"]
    for layers, expected in zip((3, 1, 5), (70, 16, 286), strict=True):
        assert receptive_field(PatchDiscriminator(layers=layers, width=2)) == expected
        assert any(case["expected"] == expected for case in stored)


def test_receptive_field_correct_answers_pass_in_either_direction():
    def backwards(layers):
        size = 1
        for kernel, stride in reversed(layers):
            size = (size - 1) * stride + kernel
        return size

    def forwards_with_jumps(layers):  # the other correct form: 1 + sum (k - 1) * product of earlier strides
        size, jump = 1, 1
        for kernel, stride in layers:
            size += (kernel - 1) * jump
            jump *= stride
        return size

    for func in (backwards, forwards_with_jumps):
        result = checks.check("patchgan_receptive_field", func)
        assert result.passed, result.message


def test_receptive_field_without_strides_is_diagnosed():
    result = checks.check("patchgan_receptive_field", lambda layers: 1 + sum(k - 1 for k, _ in layers))
    assert not result.passed
    assert "strides are missing" in result.message and "is 70, you gave 16" in result.message


def test_receptive_field_walked_forwards_is_diagnosed():
    def forwards(layers):
        size = 1
        for kernel, stride in layers:  # wrong direction
            size = (size - 1) * stride + kernel
        return size

    result = checks.check("patchgan_receptive_field", forwards)
    assert not result.passed and "walked forwards" in result.message


def test_receptive_field_off_by_one_is_diagnosed():
    def plus_one(layers):
        size = 1
        for kernel, stride in reversed(layers):
            size = (size - 1) * stride + kernel
        return size + 1

    result = checks.check("patchgan_receptive_field", plus_one)
    assert not result.passed and result.message.startswith("off by one")

    def r_times_s(layers):
        size = 1
        for kernel, stride in reversed(layers):
            size = size * stride + kernel
        return size

    result = checks.check("patchgan_receptive_field", r_times_s)
    assert not result.passed and "(r - 1) * s + k, not r * s + k" in result.message


def test_reference_for_uses_the_readers_signature():
    assert checks.reference_for("patchgan_receptive_field")([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]) == 70
    assert checks.reference_for("slerp") is checks.EXERCISES["slerp"].reference


# ------------------------------------------------ notebook 07: CycleGAN
def _cycle(real_a, rec_a, real_b, rec_b, weight, *, power=1, a=True, b=True, times=1):
    loss = 0
    if a:
        loss = loss + ((rec_a - real_a).abs() ** power).mean()
    if b:
        loss = loss + ((rec_b - real_b).abs() ** power).mean()
    return weight**times * loss


def test_cycle_loss_reference_is_the_kits_weighted():
    from ganlab_kit import losses

    g = torch.Generator().manual_seed(0)
    a, ra, b, rb = (torch.randn(2, 3, 4, 4, generator=g) for _ in range(4))
    mine = checks.reference_for("cycle_loss")(a, ra, b, rb, 10.0)
    assert torch.allclose(mine, 10 * losses.cycle_loss(a, ra, b, rb))
    assert checks.check("cycle_loss", lambda *args: _cycle(*args)).passed


@pytest.mark.parametrize(
    "options, named",
    [
        ({"power": 2}, "L2 instead of L1"),
        ({"b": False}, "one direction only"),
        ({"a": False}, "one direction only"),
        ({"times": 0}, "the weight is missing"),
        ({"times": 2}, "the weight is applied twice"),
    ],
)
def test_cycle_loss_mistakes_are_named(options, named):
    result = checks.check("cycle_loss", lambda *args: _cycle(*args, **options))
    assert not result.passed and named in result.message, result.message


def _pool(stored, size, fakes, generator, *, mistake=None):
    out = fakes.clone()
    for i in range(fakes.shape[0]):
        if mistake == "never_store":
            continue
        if len(stored) < size:
            stored.append(fakes[i].clone())
        elif mistake == "always" or torch.rand((), generator=generator) < 0.5:
            slot = int(torch.randint(0, size, (), generator=generator))
            if mistake != "show_new":
                out[i] = stored[slot]
            if mistake != "no_replace":
                stored[slot] = fakes[i].clone()
    return out


def test_image_pool_reference_matches_the_kits_pool():
    from ganlab_kit.train.image_pool import ImagePool

    g = torch.Generator().manual_seed(3)
    batches = torch.rand(10, 3, 3, 4, 4, generator=g)
    pool, stored, generator = ImagePool(5, seed=9), [], torch.Generator().manual_seed(9)
    for batch in batches:
        assert torch.equal(pool.query(batch), checks.reference_for("image_pool_query")(stored, 5, batch, generator))
    assert torch.equal(pool.images, torch.stack(stored))
    result = checks.check("image_pool_query", _pool)
    assert result.passed, result.message


@pytest.mark.parametrize(
    "mistake, named",
    [
        ("never_store", "never storing"),
        ("always", "always returning a stored image"),
        ("no_replace", "do not put the new fake in its slot"),
        ("show_new", "show it instead of the old image"),
    ],
)
def test_image_pool_mistakes_are_named(mistake, named):
    result = checks.check("image_pool_query", lambda *args: _pool(*args, mistake=mistake))
    assert not result.passed and named in result.message, result.message


def test_image_pool_with_another_random_source_is_told_the_draw_order():
    def python_random(stored, size, fakes, generator):
        import random

        out = fakes.clone()
        for i in range(fakes.shape[0]):
            if len(stored) < size:
                stored.append(fakes[i].clone())
            elif random.random() < 0.5:
                slot = random.randrange(size)
                out[i], stored[slot] = stored[slot], fakes[i].clone()
        return out

    result = checks.check("image_pool_query", python_random)
    assert not result.passed and "torch.rand((), generator=generator)" in result.message, result.message


def _step(g_ab, g_ba, d_a, d_b, optimizer, real_a, real_b, cycle_weight, identity_weight, *, mistake=None):
    from ganlab_kit import losses

    d_params = [*d_a.parameters(), *d_b.parameters()]
    for p in d_params:
        p.requires_grad_(mistake == "no_freeze")
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    target = 0.0 if mistake == "target" else 1.0
    loss = ((d_b(fake_b) - target) ** 2).mean() + ((d_a(fake_a) - target) ** 2).mean()
    loss = loss + cycle_weight * losses.cycle_loss(real_a, g_ba(fake_b), real_b, g_ab(fake_a))
    if mistake != "no_identity":
        loss = loss + identity_weight * losses.identity_loss(real_a, g_ba(real_a), real_b, g_ab(real_b))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if mistake != "left_frozen":
        for p in d_params:
            p.requires_grad_(True)
    return loss.item()


def test_generator_step_reference_and_hand_written_step_pass():
    result = checks.check("cyclegan_generator_step", _step)
    assert result.passed, result.message
    namespace = {"torch": torch}
    exec(checks.EXERCISES["cyclegan_generator_step"].solution, namespace)
    assert checks.check("cyclegan_generator_step", namespace["cyclegan_generator_step"]).passed


def test_generator_step_reference_for_has_the_readers_signature():
    from ganlab_kit.nets.patchgan import PatchDiscriminator
    from ganlab_kit.nets.resnet import ResnetGenerator

    g_ab, g_ba = ResnetGenerator(width=2, blocks=1, seed=0), ResnetGenerator(width=2, blocks=1, seed=1)
    d_a, d_b = PatchDiscriminator(width=2, layers=1, seed=2), PatchDiscriminator(width=2, layers=1, seed=3)
    before = [p.detach().clone() for p in d_a.parameters()]
    optimizer = torch.optim.Adam([*g_ab.parameters(), *g_ba.parameters()], lr=1e-3)
    images = torch.rand(2, 3, 8, 8) * 2 - 1
    loss = checks.reference_for("cyclegan_generator_step")(g_ab, g_ba, d_a, d_b, optimizer, images, -images, 10, 5)
    assert loss > 0
    assert all(torch.equal(a, b) for a, b in zip(before, d_a.parameters()))
    assert all(p.grad is None and p.requires_grad for p in d_a.parameters())


@pytest.mark.parametrize(
    "mistake, named",
    [
        ("no_freeze", "D was not frozen"),
        ("no_identity", "the identity term is missing"),
        ("target", "wrong adversarial target"),
        ("left_frozen", "left frozen"),
    ],
)
def test_generator_step_mistakes_are_named(mistake, named):
    result = checks.check("cyclegan_generator_step", lambda *args: _step(*args, mistake=mistake))
    assert not result.passed and named in result.message, result.message


def test_generator_step_that_trains_d_is_caught():
    def trains_d(g_ab, g_ba, d_a, d_b, optimizer, real_a, real_b, cycle_weight, identity_weight):
        _step(g_ab, g_ba, d_a, d_b, optimizer, real_a, real_b, cycle_weight, identity_weight)
        with torch.no_grad():
            for p in d_a.parameters():
                p.add_(0.01)

    result = checks.check("cyclegan_generator_step", trains_d)
    assert not result.passed and "discriminators' weights changed" in result.message


# ------------------------------------------------ a sum where a mean was meant (notebook 00's demo)
def test_sum_for_mean_is_named_in_notebook_00s_demo():
    result = checks.check("non_saturating_generator_loss", lambda f: F.softplus(-f).sum())
    assert not result.passed
    assert result.message.startswith("a sum where a mean was meant"), result.message
    assert "32 times" in result.message and "dim 0" in result.message


def test_sum_for_mean_is_named_for_a_two_input_loss():
    result = checks.check("minimax_discriminator_loss", lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum())
    assert not result.passed and result.message.startswith("a sum where a mean was meant"), result.message


def test_mean_for_sum_over_the_last_axis_is_named():
    result = checks.check("jensen_shannon", lambda p, q: checks.core._jensen_shannon(p, q) / p.shape[-1])
    assert not result.passed and result.message.startswith("a mean where a sum was meant"), result.message
    assert "1/30" in result.message and "dim 1" in result.message


def test_sum_for_mean_over_several_dims_is_named():
    ex = checks.Exercise(
        name="mean_of_all",
        task="mean of every value",
        reference=lambda x: x.mean(),
        random_inputs=lambda rng: (torch.randn(4, 3, 5, generator=rng),),
        hint="",
        solution="",
    )
    x = torch.randn(4, 3, 5)
    expected = x.mean().double()
    problem = checks.diagnose(x.sum(dim=(1, 2)).mean(), expected, (x,), ex)
    assert problem.startswith("a sum where a mean was meant") and "15 times" in problem and "dims (1, 2)" in problem
    problem = checks.diagnose(x.sum(), expected, (x,), ex)
    assert "60 times" in problem and "dims (0, 1, 2)" in problem
    # a factor that is no count of values is still a plain scale error
    assert "sum where" not in checks.diagnose(7 * x.mean(), expected, (x,), ex)
