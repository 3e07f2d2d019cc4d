"""Quadratic theory: measured GD rates against closed forms, to 1e-9 on diagonal problems."""

import warnings

import numpy as np
import pytest

from course_utils.quadratic import (
    Quadratic,
    best_fixed_step,
    best_rate,
    contraction_factors,
    gradient_descent,
    predicted_error,
    sgd_loss_floor,
    stability_limit,
    steps_to_tolerance,
)


@pytest.mark.parametrize("h, lr", [((1.0, 0.1), 0.5), ((4.0, 0.5, 0.01), 0.3), ((1.0, 0.02), 1.9)])
def test_measured_rate_matches_theory_on_diagonal_problems(h, lr):
    q = Quadratic(h)
    w0 = np.linspace(1.0, 0.3, len(h))
    traj = gradient_descent(q, w0, lr, 40)
    ratios = traj.path[1:] / traj.path[:-1]  # diagonal: coordinates are eigen-coordinates
    assert np.allclose(np.abs(ratios), contraction_factors(h, lr)[None, :], atol=1e-9, rtol=0)
    assert np.allclose(traj.path, predicted_error(q, w0, lr, np.arange(41)), atol=1e-9, rtol=0)


def test_rotated_problem_matches_theory_in_eigenbasis():
    q = Quadratic((1.0, 0.05), angle_deg=30)
    w0 = np.array([0.7, -0.4])
    traj = gradient_descent(q, w0, 1.2, 30)
    assert np.allclose(
        q.to_eigenbasis(traj.path), predicted_error(q, w0, 1.2, np.arange(31)), atol=1e-9
    )
    assert np.allclose(q.H, q.H.T) and np.allclose(np.linalg.eigvalsh(q.H), sorted(q.h))


def test_gradient_is_derivative_of_loss():
    q = Quadratic((3.0, 0.2), angle_deg=60)
    w = np.array([0.3, -1.1])
    eps = 1e-6
    numeric = [(q.loss(w + eps * e) - q.loss(w - eps * e)) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(q.grad(w), numeric, atol=1e-8)


def test_stability_limit_and_divergence_detection():
    q = Quadratic((1.0, 0.1))
    assert stability_limit(q.h) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # divergence must never overflow
        stable = gradient_descent(q, [1, 1], 1.99, 2000)
        unstable = gradient_descent(q, [1, 1], 2.01, 100000)
    assert not stable.diverged and stable.losses[-1] < 1e-10
    assert unstable.diverged and unstable.diverged_at is not None
    assert np.all(np.isfinite(unstable.losses))


def test_best_fixed_step_balances_both_directions():
    h = (1.0, 0.02)
    lr = best_fixed_step(h)
    rho = contraction_factors(h, lr)
    assert abs(rho[0] - rho[1]) < 1e-12
    assert abs(rho.max() - best_rate(50.0)) < 1e-12
    for other in (lr * 0.9, lr * 1.1):
        assert contraction_factors(h, other).max() > rho.max()


def test_steps_to_tolerance_grows_linearly_with_kappa():
    w0 = np.array([1.0, 1.0])
    steps = [
        steps_to_tolerance(Quadratic.from_kappa(k), w0, best_fixed_step((1, 1 / k)))
        for k in (100, 1000)
    ]
    assert 9 < steps[1] / steps[0] < 11
    q = Quadratic.from_kappa(20)
    k = steps_to_tolerance(q, w0, 0.5)
    traj = gradient_descent(q, w0, 0.5, k)
    assert (
        np.linalg.norm(traj.path[-1]) <= 1e-6 * np.linalg.norm(w0) < np.linalg.norm(traj.path[-2])
    )
    assert steps_to_tolerance(q, w0, 2.5) is None


def test_sgd_floor_matches_simulation():
    q = Quadratic((1.0, 0.2))
    lr, sigma = 0.5, 0.3
    runs = [
        gradient_descent(q, [0, 0], lr, 3000, noise_std=sigma, seed=s).losses[500:].mean()
        for s in range(5)
    ]
    assert np.mean(runs) == pytest.approx(sgd_loss_floor(q.h, lr, sigma), rel=0.1)
    assert sgd_loss_floor(q.h, 2.5, sigma) == np.inf


def test_sgd_noise_is_seeded():
    q = Quadratic((1.0, 0.2))
    a = gradient_descent(q, [1, 1], 0.5, 50, noise_std=0.1, seed=1).path
    b = gradient_descent(q, [1, 1], 0.5, 50, noise_std=0.1, seed=1).path
    c = gradient_descent(q, [1, 1], 0.5, 50, noise_std=0.1, seed=2).path
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Quadratic((1.0, -0.1)), "curvatures h must be > 0"),
        (lambda: Quadratic.from_kappa(0.5), "kappa"),
        (lambda: gradient_descent(Quadratic((1.0, 0.1)), [1, 1], -0.1, 10), "learning rate"),
        (lambda: gradient_descent(Quadratic((1.0, 0.1)), [1, 1, 1], 0.1, 10), "w0 must have shape"),
        (lambda: Quadratic((1.0, 0.5, 0.1), angle_deg=10), "angle_deg only applies"),
    ],
)
def test_bad_input_is_explained(make, match):
    with pytest.raises(ValueError, match=match):
        make()
