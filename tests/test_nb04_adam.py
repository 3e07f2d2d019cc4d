"""Tests for course_utils.nb04_adam: torch checks, the demos over seeds and settings, checkers."""

import numpy as np
import pytest
import torch

from course_utils import nb04_adam as L

# ---------------------------------------------------------------- from scratch vs torch.optim


@pytest.mark.parametrize("kind", ["adam", "adam_l2", "adamw"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_course_formulas_match_torch(kind, dtype):
    result = L.compare_with_torch(kind, dtype, steps=20, verbose=False)
    assert result.passed
    assert result.maxdiff < (2e-6 if dtype == torch.float32 else 1e-14)


@pytest.mark.parametrize("kind", ["adam", "adamw"])
def test_torch_order_is_bit_identical(kind):
    result = L.compare_with_torch(kind, torch.float32, steps=10, order="torch", verbose=False)
    assert result.exact and result.maxdiff == 0.0


def test_compare_detects_a_wrong_learning_rate(monkeypatch):
    # The check must be able to fail: a from-scratch update with a 10% larger step.
    real = L.adam_update

    def off_by_ten_percent(params, grads, m, v, lr=0.001, **kw):
        return real(params, grads, m, v, lr=lr * 1.1, **kw)

    monkeypatch.setattr(L, "adam_update", off_by_ten_percent)
    assert not L.compare_with_torch("adam", torch.float64, steps=5, verbose=False).passed


def test_compare_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Unknown kind"):
        L.compare_with_torch("sgd")
    with pytest.raises(ValueError, match="dtype"):
        L.compare_with_torch("adam", torch.float16)
    with pytest.raises(ValueError, match="order"):
        L.compare_with_torch("adam", order="fast")


def test_compare_prints_the_checker_line(capsys):
    L.compare_with_torch("adam", torch.float64, steps=3)
    line = capsys.readouterr().out.strip()
    assert "vs torch.optim.Adam" in line and "| exact:" in line and "| maxdiff:" in line


# ---------------------------------------------------------------- demos


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lr", [0.003, 0.01, 0.03])
def test_effective_step_spans_decades_but_updates_do_not(seed, lr):
    run = L.effective_step_demo(lr=lr, seed=seed)
    last = run.effective_step[-1]
    # Gradient scales 1e-3, 1, 1e3 -> effective steps 1e3 apart each.
    np.testing.assert_allclose(last[:-1] / last[1:], 1e3, rtol=1e-3)
    # ... and with shared noise the actual steps are the same curve for every scale.
    assert np.abs(run.update - run.update[:, [1]]).max() < 1e-3 * run.lr
    assert np.all(run.update <= 10 * run.lr)


def test_effective_step_tiny_gradients_fall_under_eps():
    run = L.effective_step_demo(scales=(1e-9, 1.0, 1e3))
    first = run.update[:20].mean(axis=0)
    # Below eps the step is proportional to the gradient again: about 10x slower at first.
    assert 0.05 < first[0] / first[1] < 0.2 and first[0] > 0


def test_bias_correction_numbers():
    steps = L.bias_correction_steps()
    np.testing.assert_allclose(steps["corrected (Adam)"], 1.0, rtol=1e-6)
    none = steps["no correction at all"]
    # (1 - b1^t) / sqrt(1 - b2^t): 3.16 at t = 1, peak 6.57 at t = 12.
    assert none[0] == pytest.approx(np.sqrt(10), rel=1e-6)
    assert int(np.argmax(none)) + 1 == 12 and none.max() == pytest.approx(6.5685, rel=1e-4)
    assert steps["only v corrected (m_t not divided)"][0] == pytest.approx(0.1, rel=1e-6)
    assert steps["only m corrected (v_t not divided)"][0] == pytest.approx(np.sqrt(1000), rel=1e-6)
    assert np.all(np.diff(steps["only v corrected (m_t not divided)"]) >= -1e-12)  # monotone


@pytest.mark.parametrize("seed", [0, 1])
def test_bias_correction_on_mlp_v_matters_m_does_not(seed):
    # The paper's (Defossez et al. 2022, section 6.3) finding, on the course MLP over a range of
    # learning rates: dropping v's correction blows the first steps up, dropping m's is harmless.
    for lr in (1e-3, 1e-2):
        runs = L.bias_correction_on_mlp(lr=lr, steps=60, seed=seed)
        both = runs["corrected (Adam)"]
        assert runs["only m corrected (v_t not divided)"].max() > 5 * both.max()
        assert runs["only m corrected (v_t not divided)"].mean() > 1.5 * both.mean()
        m_off = runs["only v corrected (m_t not divided)"].mean()
        assert 0.8 * both.mean() < m_off < 1.3 * both.mean()


def test_noise_floor_adam_stalls_adagrad_keeps_going():
    run = L.noise_floor_demo(steps=2000, seeds=8)
    adam = run.losses["Adam, constant α = 0.05"]
    adagrad = run.losses["Adagrad, α = 0.5"]
    # Adam: flat at about d*alpha*sigma/4 = 0.025 (within 40%: few seeds).
    assert adam[-500:].mean() == pytest.approx(0.025, rel=0.4)
    assert adam[-500:].mean() / adam[-1500:-1000].mean() > 0.7
    assert adagrad[-500:].mean() < 0.5 * adam[-500:].mean()
    assert adagrad[-200:].mean() < adagrad[-1200:-1000].mean()


def test_noise_floor_rejects_zero_noise():
    with pytest.raises(ValueError, match="sigma"):
        L.noise_floor_demo(sigma=0.0)


def test_mlp_adam_grad_rms_groups_and_errors():
    rms = L.mlp_adam_grad_rms(steps=5)
    assert list(rms) == [*L.LAYER_GROUPS.values(), L.BIAS_GROUP]
    assert sum(r.size for r in rms.values()) == 235_146
    assert all(np.all(r >= 0) for r in rms.values())
    # The output layer's gradients are the largest: its sqrt(v_hat) median is above layer 1's.
    assert np.median(rms["layer 3 weights (128×10)"]) > np.median(rms["layer 1 weights (784×256)"])
    with pytest.raises(ValueError, match="steps"):
        L.mlp_adam_grad_rms(steps=0)
