"""Notebook 06, section 4d: constant-step SGD has a floor (no sigma^2/N), the horizon-tuned step
falls far slower than 1/N, and the textbook bound holds: over problem and run seeds."""

import numpy as np
import pytest

from course_utils import nb06_problem as pr
from course_utils import nb06_sgd as sgd


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sgd_floor_and_rate(seed):
    problem = pr.make_logistic_problem(seed=seed)
    Ns = [100, 1_000, 10_000]
    run = sgd.sgd_experiment(problem, alphas=(2.0, 0.5), Ns=Ns, runs=10, seed=seed)
    sigma2 = sgd.sgd_variance_bound(problem)
    delta = problem.f0_minus_fstar()
    means = {a: v.mean(axis=1) for a, v in run["constant"].items()}
    for a, m in means.items():
        assert m[2] / m[1] > 0.7  # a floor, not sigma^2 / N
        assert np.all(m < sgd.sgd_bound(np.array(Ns), a, problem.L, sigma2, delta).total)
    assert 2.5 < means[2.0][-1] / means[0.5][-1] < 5
    assert -0.7 < pr.loglog_slope(Ns, run["tuned"].mean(axis=1)) < -0.15


@pytest.mark.parametrize("seed", [0, 1])
def test_measurement_tuned_sgd_falls_like_one_over_sqrt_n(seed):
    # Tuned by measurement on other seeds, SGD beats the bound's steps and falls like 1/sqrt(N).
    problem = pr.make_logistic_problem(seed=seed)
    Ns = [100, 1_000, 10_000]
    tuned = sgd.sgd_measured_tuning(problem, Ns, runs=10, tune_seed=100 + seed, seed=seed)
    run = sgd.sgd_experiment(problem, alphas=(0.5,), Ns=Ns, runs=10, seed=seed)
    measured = tuned["measured"].mean(axis=1)
    assert -0.7 < pr.loglog_slope(Ns, measured) < -0.3
    assert np.all(tuned["alpha"] > run["tuned_alpha"]) and tuned["alpha"][-1] > 2 * run["tuned_alpha"][-1]
    assert measured[-1] < run["tuned"].mean(axis=1)[-1]
    with pytest.raises(ValueError, match="seed"):
        sgd.sgd_measured_tuning(problem, Ns, tune_seed=3, seed=3)


def test_bound_terms_and_best_alpha():
    b = sgd.sgd_bound(np.array([10.0, 1000.0]), 0.5, L=0.1, sigma2=2.0, f0_minus_fstar=1.0)
    assert np.allclose(b.init, [0.4, 0.004]) and np.allclose(b.noise, 0.1)
    N = 1e4
    a = sgd.sgd_best_alpha(N, L=0.1, sigma2=2.0, f0_minus_fstar=1.0)
    grid = np.geomspace(a / 3, a * 3, 601)
    totals = sgd.sgd_bound(N, grid, 0.1, 2.0, 1.0).total
    assert abs(grid[np.argmin(totals)] / a - 1) < 0.01


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        sgd.sgd_bound(10, 20.0, L=0.1, sigma2=1.0, f0_minus_fstar=1.0)
    with pytest.raises(ValueError, match="N"):
        sgd.sgd_grad_sq(pr.make_logistic_problem(), 0, 0.1)
