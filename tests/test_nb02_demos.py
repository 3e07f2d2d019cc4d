"""Notebook 02's demos: each lesson asserted over seeds and settings around the ones shown."""

import numpy as np
import pytest

from course_utils import nb02_demos as demos
from course_utils.optimizers import adagrad_update
from course_utils.quadratic import Quadratic, rotation

# --- sparse features -----------------------------------------------------------------------


def test_sparse_adagrad_path_is_the_package_update():
    x, y = demos.sparse_data([3], steps=200)
    path, eta = demos.adagrad_sparse(x, y, lr=0.3)
    w, state = np.zeros((1, 2)), []
    for x_t, y_t in zip(x, y):
        g = ((w * x_t).sum(-1) - y_t)[..., None] * x_t
        (w,), state = adagrad_update([w], [g], state, lr=0.3)
    np.testing.assert_array_equal(path[-1], w)
    # the rare weight moves only when its feature is active
    moved = np.diff(path[:, 0, 1]) != 0
    np.testing.assert_array_equal(moved, x[:, 0, 1] == 1)
    assert eta.shape == (200, 1, 2)


@pytest.mark.parametrize(
    "p_rare, noise, seeds",
    [
        (0.01, 0.5, range(40)),
        (0.01, 0.5, range(40, 80)),
        (0.005, 0.5, range(40)),
        (0.02, 0.5, range(40)),
        (0.01, 0.3, range(40)),
        (0.01, 0.7, range(40)),
    ],
)
def test_sparse_adagrad_lies_below_sgds_whole_tradeoff_curve(p_rare, noise, seeds):
    lrs_sgd = np.geomspace(0.002, 1.0, 20)
    trade = demos.sparse_tradeoff(lrs_sgd, [0.3], seeds, p_rare=p_rare, noise=noise)
    freq, rare = trade["adagrad"][0]
    # no SGD alpha as quiet on the frequent weight gets within 2x of Adagrad's rare weight
    assert demos.sgd_best_rare_error(trade, freq) > 2 * rare
    # and SGD's best rare-weight error needs a frequent-weight error at least twice Adagrad's
    ok = trade["sgd"][:, 1] <= rare * 1.1
    assert not ok.any() or trade["sgd"][ok, 0].min() > 2 * freq


def test_sparse_data_validates():
    with pytest.raises(ValueError, match="p_rare"):
        demos.sparse_data([0], p_rare=0.0)
    with pytest.raises(ValueError, match="noise"):
        demos.sparse_data([0], noise=-1.0)


# --- the stall ------------------------------------------------------------------------------


@pytest.mark.parametrize("delta", [0.05, 0.25, 1.0])
def test_stall_covers_alpha_sum_whatever_the_slope(delta):
    run = demos.stall_run(distance=100.0, lr=0.5, steps=2000, delta=delta)
    covered = 100.0 - run["gap_adagrad"][-1]
    assert covered == pytest.approx(0.5 * np.sum(1 / np.sqrt(np.arange(1, 2001))), rel=1e-6)
    assert run["step_adagrad"][-1] == pytest.approx(0.5 / np.sqrt(2000), rel=1e-6)


@pytest.mark.parametrize("distance", [50.0, 100.0, 200.0])
def test_stall_alpha_is_a_distance(distance):
    # Adagrad reaches the optimum within T steps iff alpha (2 sqrt(T) - 1.46) >= distance.
    T = 2000
    needed = distance / (2 * np.sqrt(T) - 1.46)
    left = demos.stall_distance_left([0.8 * needed, 1.1 * needed], distance, T)
    assert left[0] > 0.1 * distance and abs(left[1]) < 0.3


@pytest.mark.parametrize("lr", [0.2, 0.5, 1.0])
@pytest.mark.parametrize("beta2", [0.8, 0.9])
def test_rmsprop_ends_in_a_period_two_limit_cycle(lr, beta2):
    run = demos.stall_run(lr=lr, beta2=beta2, steps=3000, methods=("rmsprop",))
    gap, step = run["gap_rmsprop"][-200:], run["step_rmsprop"][-200:]
    # two points alpha apart on either side of w*, visited in turn: the step never shrinks
    np.testing.assert_allclose(step, lr, rtol=0.05)
    assert np.all(np.sign(gap[1:]) == -np.sign(gap[:-1])) and np.all(np.abs(gap) < lr)
    np.testing.assert_allclose(np.abs(gap[1:] - gap[:-1]), lr, rtol=0.05)


def test_stall_run_validates():
    with pytest.raises(ValueError, match="distance"):
        demos.stall_run(distance=0.0)
    with pytest.raises(ValueError, match="method"):
        demos.stall_run(methods=("adam",))


# --- the quadratic --------------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [50.0, 100.0, 200.0])
@pytest.mark.parametrize("steps", [60, 200, 600])
def test_tuned_gd_keeps_up_with_tuned_adagrad_once_the_bowl_is_rotated(kappa, steps):
    for angle in (30.0, 45.0):
        t = demos.tuned_steps(kappa, angle, steps)
        r = demos.start_point_study(kappa, (angle,), lr=t["adagrad"], steps=steps, lr_gd=t["gd"])
        r = r[angle]
        assert np.median(r["gd"]) < np.median(r["adagrad"]) + 0.2  # level or ahead
        assert np.sum(r["gd"] < r["adagrad"]) >= 16  # GD ahead from most of 24 starts
        assert np.median(r["full"]) < -20  # full-matrix Adagrad does not care about rotation
    t = demos.tuned_steps(kappa, 0.0, steps)
    r = demos.start_point_study(kappa, (0.0,), lr=t["adagrad"], steps=steps, lr_gd=t["gd"])[0.0]
    assert np.median(r["adagrad"]) < -20 and np.all(r["adagrad"] < r["gd"])  # the exact fix


@pytest.mark.parametrize("kappa", [50.0, 100.0, 200.0])
def test_the_old_early_lead_was_the_untuned_baseline(kappa):
    # GD at 2/(h_max + h_min), the best asymptotic rate, is far from its best 60-step loss.
    q = Quadratic.from_kappa(kappa, angle_deg=45.0)
    W0 = demos.start_points(24, 5.0)
    tuned = demos.horizon_tuned_gd_step(q, W0, 60)
    r_tuned = demos.log_loss_ratios(q, W0, lr=4.0, steps=60, lr_gd=tuned)
    r_asym = demos.log_loss_ratios(q, W0, lr=4.0, steps=60, lr_gd=2 / (1 + 1 / kappa))
    assert 1.8 <= tuned * max(q.h) <= 1.95
    assert np.median(r_tuned["gd"]) < np.median(r_asym["gd"]) - 1.5
    assert np.sum(r_asym["adagrad"] < r_asym["gd"] - 1) >= 16


def test_tuning_picks_the_grid_value_with_the_best_median():
    q = Quadratic.from_kappa(100.0, angle_deg=45.0)
    W0 = demos.start_points(24, 5.0)
    scores = [
        np.median(demos.log_loss_ratios(q, W0, 2.0, 60, lr_gd=a)["gd"]) for a in demos.GD_STEP_GRID
    ]
    assert demos.horizon_tuned_gd_step(q, W0, 60) == demos.GD_STEP_GRID[int(np.argmin(scores))]
    # a start at the optimum cannot be tuned for, but must not break the panel
    assert demos.horizon_tuned_gd_step(q, [(0.0, 0.0)], 10) in demos.GD_STEP_GRID


def test_panel_gd_is_tuned_for_the_start_and_horizon_shown():
    r = demos.quadratic_runs(kappa=100.0, angle_deg=0.0, lr=2.0, steps=60)
    assert r["lr_gd"] == pytest.approx(1.9)
    assert r["gd"].losses[-1] < 0.01  # 0.0045, against 0.73 at 2/(h_max + h_min)


@pytest.mark.parametrize("angle", [10.0, 30.0, 45.0, 73.0])
def test_full_matrix_adagrad_is_rotation_invariant(angle):
    w0 = demos.start_points(8, 3.0)
    aligned = Quadratic.from_kappa(100.0)
    rotated = Quadratic.from_kappa(100.0, angle_deg=angle)
    Q = rotation(angle)
    Wa, Wr = w0.copy(), w0 @ Q.T
    Ga, Gr = np.zeros((8, 2, 2)), np.zeros((8, 2, 2))
    for _ in range(30):
        Wa, Ga = demos.full_matrix_adagrad_update(Wa, aligned.grad(Wa), Ga, 2.0)
        Wr, Gr = demos.full_matrix_adagrad_update(Wr, rotated.grad(Wr), Gr, 2.0)
    np.testing.assert_allclose(Wr, Wa @ Q.T, atol=1e-9)


@pytest.mark.parametrize("kappa", [3.0, 10.0, 100.0])  # while |g| >> sqrt(eps)
def test_axis_aligned_adagrad_does_not_see_the_curvature(kappa):
    # Each coordinate's path depends on alpha and its start, not on its curvature h_i.
    a = demos.quadratic_runs(kappa=kappa, angle_deg=0.0, lr=2.0, steps=15)["adagrad"].path
    b = demos.quadratic_runs(kappa=1.0, angle_deg=0.0, lr=2.0, steps=15)["adagrad"].path
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-12)


def test_adagrad_step_fn_keeps_state_between_calls():
    step = demos.adagrad_step_fn(lr=1.0, eps=0.0)
    w = step(np.array([0.0]), np.array([3.0]), 1)
    w = step(w, np.array([4.0]), 2)
    assert w[0] == pytest.approx(-1.0 - 4.0 / 5.0)
    full = demos.adagrad_step_fn(lr=1.0, eps=1e-12, full_matrix=True)
    w = full(np.array([0.0, 0.0]), np.array([3.0, 0.0]), 1)
    assert w == pytest.approx([-1.0, 0.0])


@pytest.mark.parametrize("seeds", [range(50), range(50, 100), range(100, 150)])
def test_sparse_edge_depends_on_rarity(seeds):
    r = demos.rarity_study((0.005, 0.01, 0.02, 0.2), seeds=seeds)
    assert all(r[p]["matched"] > 4 for p in (0.005, 0.01, 0.02))  # really rare: several times
    assert r[0.2]["matched"] < 1  # 20 %: SGD, as quiet, has the smaller rare error
    assert all(1.15 < v["tuned"] < 2 for v in r.values())  # both tuned: a modest, steady edge
    for v in r.values():  # the tuned edge splits into decaying step x per-coordinate scaling
        assert v["tuned"] == pytest.approx(v["decay"] * v["per_coordinate"])
        assert 1.05 < v["decay"] < 1.5  # scalar Adagrad (decay alone) already beats tuned SGD
        assert not v["edge_of_grid"]  # every best alpha lies inside its grid
        assert v["per_coordinate"] > 1.03  # the per-coordinate denominator adds to it
    rare = np.mean([r[p]["per_coordinate"] for p in (0.005, 0.01, 0.02)])
    assert rare > r[0.2]["per_coordinate"]  # it adds more when the feature is really rare
    assert r[0.2]["per_coordinate"] < 1.15  # 20 %: the per-coordinate part is small
    assert r[0.2]["decay"] > r[0.2]["per_coordinate"]  # there most of the edge is the decay


@pytest.mark.parametrize("seeds", [range(50), range(50, 100)])
@pytest.mark.parametrize("lr", [0.2, 0.3, 0.5])
def test_the_per_coordinate_denominator_is_what_helps_the_rare_weight(seeds, lr):
    # Scalar Adagrad (one G) decays its step like Adagrad but is as bad as SGD on the rare weight.
    trade = demos.sparse_tradeoff([0.05], [lr], seeds=seeds, scalar=True, lrs_scalar=[lr])
    (f_ada, r_ada), (f_sc, r_sc) = trade["adagrad"][0], trade["scalar"][0]
    assert abs(f_sc / f_ada - 1) < 0.2  # about as quiet on the frequent weight
    assert r_sc > 2 * r_ada
