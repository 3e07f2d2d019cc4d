"""Tests for course_utils.nb04_race: the race's lessons over ranges of settings, and its panel."""

import warnings

import numpy as np
import pytest

from course_utils import nb04_race as R
from course_utils.quadratic import gradient_descent

ALIGNED, ROTATED = R.RACE_PROBLEMS


def test_both_problems_start_at_the_same_loss_and_gd_runs_the_same_curve():
    starts = [q.loss(R.start_point(q)) for q in R.RACE_PROBLEMS.values()]
    assert starts == pytest.approx([8.09, 8.09])
    a, r = (R.race(p, 0.2, 0.0) for p in R.RACE_PROBLEMS)
    for method in ("sgd", "heavy_ball"):  # rotation-invariant methods
        np.testing.assert_allclose(a[method][0].losses, r[method][0].losses, rtol=1e-9, atol=1e-30)


def test_heavy_ball_has_the_sqrt_kappa_rate():
    q = R.RACE_PROBLEMS[ALIGNED]
    lr, mu = R.heavy_ball_parameters(q.h)
    traj = R.heavy_ball_path(q, R.start_point(q), lr, mu, steps=200)
    rate = (np.sqrt(50) - 1) / (np.sqrt(50) + 1)
    # Loss ~ C t^2 rate^(2t) (a double root): the per-step factor over t = 100..200 is rate^2.
    measured = (traj.losses[200] / traj.losses[100]) ** (1 / 100)
    assert measured == pytest.approx(rate**2, rel=0.02)
    gd = gradient_descent(q, R.start_point(q), 2 / 1.02, 100)
    assert traj.losses[100] < 1e-10 * gd.losses[100]


@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9])
def test_adam_is_a_diagonal_preconditioner(beta1):
    # Over alpha in [0.2, 0.5], from RACE_W0, against GD tuned for the race's score: rotated, Adam
    # is a decade or more worse than on the aligned problem and loses to the tuned GD and to
    # heavy ball; aligned and without momentum it beats the tuned GD by more than two decades.
    lrs = (0.2, 0.3, 0.5)
    v = R.race_verdicts(lrs, [beta1])
    for lr in lrs:
        a, r = v[ALIGNED, lr, beta1], v[ROTATED, lr, beta1]
        assert a["sgd"][0] == pytest.approx(r["sgd"][0])
        assert r["adam"][0] > a["adam"][0] + 1.0, (lr, beta1)
        assert r["adam"][0] > r["sgd"][0], (lr, beta1)
        assert r["heavy_ball"][0] < r["adam"][0] - 8, (lr, beta1)
        if beta1 == 0:
            assert a["adam"][0] < a["sgd"][0] - 2.0, lr


@pytest.mark.parametrize("beta1", [0.9, 0.95])
def test_with_heavy_momentum_adam_does_not_beat_the_tuned_gd_from_the_race_start(beta1):
    # Aligned, from RACE_W0: with beta1 >= 0.9 no alpha beats the tuned GD; with less momentum
    # (0.5, 0.8) Adam still wins by decades from alpha = 0.2.
    v = R.race_verdicts([0.1, 0.2, 0.5, 1.0], [beta1, 0.5, 0.8])
    for lr in (0.1, 0.2, 0.5, 1.0):
        assert v[ALIGNED, lr, beta1]["adam"][0] > v[ALIGNED, lr, beta1]["sgd"][0], lr
        if lr >= 0.2:
            for light in (0.5, 0.8):
                assert v[ALIGNED, lr, light]["adam"][0] < v[ALIGNED, lr, light]["sgd"][0] - 2


def test_the_horizon_tuned_gd_step_beats_the_asymptotic_one():
    q = R.RACE_PROBLEMS[ALIGNED]
    tuned = R.tuned_steps(ALIGNED, 0.0)["sgd"][0]
    asymptotic = 2 / 1.02
    assert 1.8 < tuned < asymptotic
    score = {lr: R.mean_log_loss(gradient_descent(q, R.start_point(q), lr, R.RACE_STEPS))
             for lr in (tuned, asymptotic)}
    assert score[tuned] < score[asymptotic] - 1
    grid = np.linspace(0.5, 1.99, 150)
    best_on_grid = min(R.mean_log_loss(gradient_descent(q, R.start_point(q), lr, R.RACE_STEPS))
                       for lr in grid)
    assert score[tuned] <= best_on_grid + 0.02  # as good as a finer grid, to grid resolution


@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("lr", [0.15, 0.2, 0.3, 0.5])
def test_rotation_hurts_adam_from_almost_every_start(lr, beta1):
    # 36 start directions of RACE_W0's norm: rotated Adam is worse than aligned Adam from 32-35.
    sweep = R.start_direction_sweep(lr, beta1)
    assert sweep["rotated_worse_than_aligned"] >= 32 / 36, sweep["rotated_worse_than_aligned"]


@pytest.mark.parametrize("beta1", [0.0, 0.9])
@pytest.mark.parametrize("lr", [0.2, 0.3, 0.5])
def test_against_tuned_gd_over_starts(lr, beta1):
    # GD with one step for all 36 starts (tuned for their average): aligned Adam beats it from
    # most starts, rotated Adam from a minority only.
    sweep = R.start_direction_sweep(lr, beta1)
    assert sweep["aligned_beats_gd"] >= 0.75, sweep["aligned_beats_gd"]
    assert sweep["rotated_beats_gd"] <= 0.45, sweep["rotated_beats_gd"]


def test_start_direction_sweep_matches_the_race():
    angle = np.degrees(np.arctan2(R.RACE_W0[1], R.RACE_W0[0]))
    sweep = R.start_direction_sweep(0.3, 0.9, angles_deg=[angle])
    v = R.race_verdicts([0.3], [0.9])
    assert sweep["gd"][0] == pytest.approx(v[ALIGNED, 0.3, 0.9]["sgd"][0], abs=1e-9)
    assert sweep["adam_aligned"][0] == pytest.approx(v[ALIGNED, 0.3, 0.9]["adam"][0], abs=1e-9)
    assert sweep["adam_rotated"][0] == pytest.approx(v[ROTATED, 0.3, 0.9]["adam"][0], abs=1e-9)


def test_beta1_zero_shows_the_limit_cleanly():
    # Without momentum the gap aligned vs rotated grows with alpha (2.6 to 31 decades).
    v = R.race_verdicts([0.15, 0.3, 0.5], [0.0])
    gaps = [v[ROTATED, lr, 0.0]["adam"][0] - v[ALIGNED, lr, 0.0]["adam"][0] for lr in (0.15, 0.3, 0.5)]
    assert gaps[0] > 2 and np.all(np.diff(gaps) > 0)


@pytest.mark.parametrize("noise", [0.2, 0.5, 1.0])
@pytest.mark.parametrize("seeds, tune_seeds", [(range(20), range(100, 110)), (range(20, 40), range(200, 210))])
def test_noisy_race_paired(noise, seeds, tune_seeds):
    # Every method tuned for the race's score on held-out seeds, paired over shared noise draws:
    # aligned, Adam beats SGD (the 95 % interval lies below 0); rotated, the advantage is gone
    # (the interval reaches above 0, and the difference is larger by several SE).
    c = R.noisy_race_comparison(noise, beta1s=(0.0,), seeds=seeds, tune_seeds=tune_seeds)
    a, r = c[ALIGNED, 0.0]["adam_minus_sgd"], c[ROTATED, 0.0]["adam_minus_sgd"]
    assert a["ci_high"] < 0, a
    assert r["ci_high"] > 0, r
    assert r["mean"] - a["mean"] > 2 * np.hypot(a["se"], r["se"]), (a, r)
    assert c[ROTATED, 0.0]["detectable"] > 0


def test_simulated_scores_are_the_race_runs():
    # The batched tuning simulation replays exactly the runs that `race` scores.
    for q in R.RACE_PROBLEMS.values():
        w0 = R.start_point(q)
        sim = R.simulated_mean_log_scores(q, w0, [0.3, 0.08, 2.05], [0.0, 0.7, 0.0], 0.5, 100, [7, 8])
        ref = [np.mean([R.mean_log_loss(R.heavy_ball_path(q, w0, lr, mu, noise_std=0.5, seed=s))
                        for s in (7, 8)]) for lr, mu in [(0.3, 0.0), (0.08, 0.7), (2.05, 0.0)]]
        np.testing.assert_allclose(sim, ref, rtol=1e-9)


def test_noisy_race_keeps_tuning_and_judging_seeds_apart():
    with pytest.raises(ValueError, match="seeds"):
        R.noisy_race_comparison(0.5, seeds=range(5), tune_seeds=range(3, 8))


def test_gd_mean_losses_match_the_momentum_form():
    q = R.RACE_PROBLEMS[ROTATED]
    w0 = R.start_point(q)
    lrs = [0.3, 1.0, 1.9, 2.0]
    np.testing.assert_allclose(
        R.gd_mean_losses(q, w0, lrs, 0.4, 50),
        R.momentum_mean_losses(q, w0, lrs, np.zeros(4), 0.4, 50), rtol=1e-10,
    )


def test_tuned_steps_are_shorter_with_noise():
    exact = R.tuned_steps(ALIGNED, 0.0)
    steps = [R.tuned_steps(ALIGNED, s)["sgd"][0] for s in (0.1, 0.3, 1.0)]
    assert steps[0] < exact["sgd"][0] and np.all(np.diff(steps) < 0)


def test_momentum_mean_losses_match_monte_carlo():
    q = R.RACE_PROBLEMS[ROTATED]
    w0 = R.start_point(q)
    exact = R.momentum_mean_losses(q, w0, [0.3], [0.6], sigma=0.5, steps=60)[0]
    mc = np.mean(
        [R.heavy_ball_path(q, w0, 0.3, 0.6, steps=60, noise_std=0.5, seed=s).losses
         for s in range(400)], axis=0,
    )
    np.testing.assert_allclose(mc[20:], exact[20:], rtol=0.15)
    gd = R.momentum_mean_losses(q, w0, [0.5], [0.0], sigma=0.0, steps=30)[0]
    np.testing.assert_allclose(gd, gradient_descent(q, w0, 0.5, 30).losses, rtol=1e-10)


def test_race_with_noise_is_seeded():
    noisy = R.race(ALIGNED, 0.1, 0.9, noise=0.5)
    again = R.race(ALIGNED, 0.1, 0.9, noise=0.5)
    assert noisy["sgd"][2].startswith("SGD")
    for name in noisy:
        np.testing.assert_array_equal(noisy[name][0].path, again[name][0].path)


def test_adam_path_uses_the_course_update():
    q = R.RACE_PROBLEMS[ALIGNED]
    traj = R.adam_path(q, R.RACE_W0, 0.1, steps=1)
    # First Adam step: exactly alpha against the sign of the gradient, per coordinate.
    np.testing.assert_allclose(traj.path[1], R.RACE_W0 - 0.1 * np.sign(q.grad(R.RACE_W0)))


def _png_changes(panel, **values):
    before = panel.image.value
    panel.set(**values)
    return panel.image.value != before


def test_race_panel_sweep_extremes():
    panel = R.make_race_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tried = panel.sweep_extremes()
    assert tried and all(t["error"] is None for t in tried), tried
    assert _png_changes(panel, lr=0.5)
    assert _png_changes(panel, beta1=0.9)
    assert _png_changes(panel, beta2=0.9)
    assert _png_changes(panel, problem=ROTATED)
    assert _png_changes(panel, noise=0.5)


def test_race_rejects_unknown_problem():
    from matplotlib.figure import Figure

    with pytest.raises(ValueError, match="Unknown problem"):
        R.RaceDrawer()(Figure(), problem="banana")


def test_race_panel_texts_stay_inside_the_figure_at_every_extreme():
    from course_utils.widgets import text_overflow_at_extremes

    assert text_overflow_at_extremes(R.make_race_panel()) == []
