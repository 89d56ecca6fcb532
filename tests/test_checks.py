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
    ok = checks.check("jensen_shannon", lambda p, q: checks._jensen_shannon(p.double(), q.double()).tolist())
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
