"""Tests for course_utils.nb04_adam: torch checks, demos, the race panel, exercise checkers."""

import warnings

import numpy as np
import pytest
import torch

from course_utils import nb04_adam as L
from course_utils import nb04_exercises as ex

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


def test_effective_step_spans_decades_but_updates_do_not():
    run = L.effective_step_demo()
    last = run.effective_step[-1]
    # Gradient scales 1e-3, 1, 1e3 -> effective steps about 1e3 apart each.
    assert last[0] / last[2] > 1e5
    # ... yet every coordinate moves by at most about alpha per step.
    assert np.all(run.update <= 10 * run.lr)
    assert np.all(run.update[-100:].mean(axis=0) > 0.02 * run.lr)


def test_bias_correction_numbers():
    steps = L.bias_correction_steps()
    np.testing.assert_allclose(steps["corrected (Adam)"], 1.0, rtol=1e-6)
    none = steps["no correction at all"]
    # (1 - b1^t) / sqrt(1 - b2^t): 3.16 at t = 1, peak 6.57 at t = 12.
    assert none[0] == pytest.approx(np.sqrt(10), rel=1e-6)
    assert int(np.argmax(none)) + 1 == 12 and none.max() == pytest.approx(6.5685, rel=1e-4)
    assert steps["only v corrected (m_t not divided)"][0] == pytest.approx(0.1, rel=1e-6)
    assert steps["only m corrected (v_t not divided)"][0] == pytest.approx(np.sqrt(1000), rel=1e-6)


def test_bias_correction_on_quadratic_overshoots_without_correction():
    runs = L.bias_correction_on_quadratic()
    first = {k: np.abs(r.path[1] - r.path[0]).max() for k, r in runs.items()}
    assert first["corrected (Adam)"] == pytest.approx(0.1, rel=1e-6)
    assert first["no correction at all"] == pytest.approx(0.1 * np.sqrt(10), rel=1e-6)


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


def test_race_adam_beats_gd_only_when_axis_aligned():
    aligned = L.race(L.RACE_PROBLEMS["axis-aligned (κ = 50)"], 0.1, 0.9, 0.999)
    rotated = L.race(L.RACE_PROBLEMS["rotated 45° (κ = 50)"], 0.1, 0.9, 0.999)
    assert aligned["adam"][0].losses[-1] < 0.2 * aligned["sgd"][0].losses[-1]
    assert rotated["adam"][0].losses[-1] > 10 * rotated["sgd"][0].losses[-1]


def test_race_with_noise_is_sgd_and_seeded():
    q = L.RACE_PROBLEMS["axis-aligned (κ = 50)"]
    noisy = L.race(q, 0.1, 0.9, 0.999, noise=0.5)
    again = L.race(q, 0.1, 0.9, 0.999, noise=0.5)
    assert noisy["sgd"][2].startswith("SGD")
    for name in noisy:
        np.testing.assert_array_equal(noisy[name][0].path, again[name][0].path)
    clean = L.race(q, 0.1, 0.9, 0.999)
    # Noise keeps constant-step Adam away from the optimum (a floor, section 6).
    assert noisy["adam"][0].losses[-20:].mean() > 10 * clean["adam"][0].losses[-20:].mean()


def test_adam_path_uses_the_course_update():
    q = L.RACE_PROBLEMS["axis-aligned (κ = 50)"]
    traj = L.adam_path(q, L.RACE_W0, 0.1, steps=1)
    # First Adam step: exactly alpha against the sign of the gradient, per coordinate.
    np.testing.assert_allclose(traj.path[1], L.RACE_W0 - 0.1 * np.sign(q.grad(L.RACE_W0)))


# ---------------------------------------------------------------- the panel


def _png_changes(panel, **values):
    before = panel.image.value
    panel.set(**values)
    return panel.image.value != before


def test_race_panel_sweep_extremes():
    panel = L.make_race_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tried = panel.sweep_extremes()
    assert tried and all(t["error"] is None for t in tried), tried
    assert _png_changes(panel, lr=0.5)
    assert _png_changes(panel, beta1=0.0)
    assert _png_changes(panel, beta2=0.9)
    assert _png_changes(panel, problem="rotated 45° (κ = 50)")
    assert _png_changes(panel, noise=0.5)
    median = float(np.median(panel.timings_ms))
    print(f"race panel: median redraw {median:.0f} ms over {len(panel.timings_ms)} redraws")
    # Speed is shown by benchmarks/bench_panels.py, not asserted here (timings are load-dependent).


def test_draw_race_rejects_unknown_problem():
    from matplotlib.figure import Figure

    with pytest.raises(ValueError, match="Unknown problem"):
        L.RaceDrawer()(Figure(), problem="banana")


# ---------------------------------------------------------------- exercise checkers


@pytest.mark.parametrize(
    "check,reference",
    [(ex.check_rmsprop, ex.rmsprop_reference), (ex.check_amsgrad, ex.amsgrad_reference)],
)
def test_checker_accepts_correct_answer(check, reference, capsys):
    result = check(reference)
    assert result.passed
    out = capsys.readouterr().out
    assert "| allclose: True" in out and "Likely mistake" not in out


@pytest.mark.parametrize(
    "check,mistakes",
    [(ex.check_rmsprop, ex.RMSPROP_MISTAKES), (ex.check_amsgrad, ex.AMSGRAD_MISTAKES)],
)
def test_checker_names_each_typical_mistake(check, mistakes, capsys):
    for hint, wrong in mistakes.items():
        result = check(wrong)
        assert not result.passed, hint
        assert result.hint == "Likely mistake: " + hint
        out = capsys.readouterr().out
        assert "| allclose: False" in out and hint[:30] in out


def test_single_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with L.single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_mlp_adam_grad_rms_groups_and_errors():
    rms = L.mlp_adam_grad_rms(steps=5)
    assert list(rms) == [*L.LAYER_GROUPS.values(), L.BIAS_GROUP]
    assert sum(r.size for r in rms.values()) == 235_146
    assert all(np.all(r >= 0) for r in rms.values())
    # The output layer's gradients are the largest: its sqrt(v_hat) median is above layer 1's.
    assert np.median(rms["layer 3 weights (128×10)"]) > np.median(rms["layer 1 weights (784×256)"])
    with pytest.raises(ValueError, match="steps"):
        L.mlp_adam_grad_rms(steps=0)
