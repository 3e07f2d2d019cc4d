"""Notebook 06: plain SGD on the logistic problem, against its standard non-convex guarantee.

Slide 13 compares the adaptive bounds with SGD ("Init Error ~ O(1/N), Noise ~ O(sigma^2/N)").
The textbook bound for SGD with a constant step 0 < alpha <= 1/L on an L-smooth F, with unbiased
stochastic gradients of variance at most sigma^2 (Ghadimi & Lan, 2013), is

    (1/N) sum_{j<N} E||grad F(x_j)||^2 <= 2 (F(x_0) - F*) / (alpha N) + L alpha sigma^2,

an initialization term O(1/(alpha N)) and a noise term that does not decay with N at all. With the
step tuned for the horizon, alpha = sqrt(2 (F(x_0) - F*) / (L sigma^2 N)), it is O(sigma/sqrt(N)).
"""

from __future__ import annotations

import numpy as np

from course_utils.nb06_problem import LogisticProblem, expected_over_tau
from course_utils.nb06_theory import BoundTerms


def sgd_variance_bound(problem: LogisticProblem) -> float:
    """A valid sigma^2 for the problem: E||g - grad F||^2 <= E||g||^2 <= max_i ||a_i||^2.

    (Each sample gradient is -y_i sigmoid(-y_i a_i.x) a_i with 0 < sigmoid < 1.)
    """
    return float(np.max(np.sum(problem.A**2, axis=1)))


def sgd_bound(N, alpha, L: float, sigma2: float, f0_minus_fstar: float) -> BoundTerms:
    """The constant-step SGD bound above, split into its initialization and noise terms."""
    N = np.asarray(N, dtype=np.float64)
    alpha = np.asarray(alpha, dtype=np.float64)
    if np.any(N < 1):
        raise ValueError(f"N must be >= 1, got smallest {np.min(N)}.")
    if np.any(alpha <= 0) or np.any(alpha > 1 / L):
        raise ValueError(f"The bound needs 0 < alpha <= 1/L = {1 / L:.4g}, got {alpha}.")
    init = 2 * f0_minus_fstar / (alpha * N)
    noise = L * alpha * sigma2 * np.ones_like(N)
    return BoundTerms(init, noise, "SGD, constant step (Ghadimi & Lan 2013)")


def sgd_best_alpha(N, L: float, sigma2: float, f0_minus_fstar: float) -> np.ndarray:
    """The step minimising `sgd_bound` at horizon N (capped at 1/L)."""
    N = np.asarray(N, dtype=np.float64)
    return np.minimum(np.sqrt(2 * f0_minus_fstar / (L * sigma2 * N)), 1 / L)


def sgd_grad_sq(problem: LogisticProblem, N: int, alpha, runs: int = 20, seed: int = 0):
    """||grad F(x_j)||^2, j < N, of plain SGD x_j = x_{j-1} - alpha g_j from x_0 = 0.

    ``alpha``: a number or one value per run (shape (runs,)). Returns shape (N, runs).
    """
    if not (isinstance(N, int | np.integer) and N >= 1):
        raise ValueError(f"N must be an integer >= 1, got {N!r}.")
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (runs,))[:, None]
    if np.any(alpha <= 0):
        raise ValueError("alpha must be positive.")
    rng = np.random.default_rng(seed)
    x = np.zeros((runs, problem.d))
    out = np.empty((N, runs))
    for j in range(N):
        full = problem.grad(x)
        out[j] = np.einsum("rd,rd->r", full, full)
        x = x - alpha * problem.sample_grad(x, rng.integers(problem.n, size=runs))
    return out


def sgd_experiment(problem: LogisticProblem, alphas, Ns, runs: int = 20, seed: int = 0) -> dict:
    """E_tau||grad F(x_tau)||^2 (uniform tau, per run) of SGD at each horizon in ``Ns``.

    Returns {"constant": {alpha: (len(Ns), runs)}, "tuned": (len(Ns), runs), "tuned_alpha":
    (len(Ns),)}: every constant ``alpha`` in one run of max(Ns) steps, and one run per horizon N
    with the step tuned for it, `sgd_best_alpha`, computed from the problem's L and sigma^2.
    """
    Ns = [int(N) for N in Ns]
    alphas = [float(a) for a in alphas]
    both = np.repeat(alphas, runs)
    grad_sq = sgd_grad_sq(problem, max(Ns), both, runs=len(both), seed=seed)
    constant = {
        a: expected_over_tau(grad_sq[:, k * runs : (k + 1) * runs], Ns)
        for k, a in enumerate(alphas)
    }
    sigma2 = sgd_variance_bound(problem)
    tuned_alpha = sgd_best_alpha(np.array(Ns), problem.L, sigma2, problem.f0_minus_fstar())
    tuned = np.stack([
        expected_over_tau(sgd_grad_sq(problem, N, a, runs=runs, seed=seed + 1 + i), [N])[0]
        for i, (N, a) in enumerate(zip(Ns, tuned_alpha))
    ])
    return {"constant": constant, "tuned": tuned, "tuned_alpha": tuned_alpha, "Ns": np.array(Ns)}


SGD_TUNING_GRID = tuple(float(a) for a in np.geomspace(0.01, 8.0, 15))


def sgd_measured_tuning(
    problem: LogisticProblem, Ns, alphas=SGD_TUNING_GRID, runs: int = 20, tune_seed: int = 100,
    seed: int = 0,
) -> dict:
    """SGD with the step tuned by measurement for each horizon, judged on other seeds.

    Every step of the grid ``alphas`` runs ``runs`` times from ``tune_seed`` (one batched run of
    max(Ns) steps); for each N the step with the lowest mean E_tau||grad F(x_tau)||^2 is chosen,
    then rerun ``runs`` times from ``seed`` + 1 + i (the seeds `sgd_experiment` uses for its
    bound-tuned row), so that the tuning cannot fit the runs it is judged on. Returns {"alpha":
    (len(Ns),), "tuning": (len(alphas), len(Ns)) the tuning means, "measured": (len(Ns), runs)}.
    """
    if tune_seed == seed:
        raise ValueError("The seed that tunes the step must differ from the seed that judges it.")
    Ns = [int(N) for N in Ns]
    alphas = np.asarray(alphas, dtype=np.float64)
    grad_sq = sgd_grad_sq(problem, max(Ns), np.repeat(alphas, runs), runs=alphas.size * runs,
                          seed=tune_seed)
    tuning = np.stack([
        expected_over_tau(grad_sq[:, k * runs : (k + 1) * runs], Ns).mean(axis=1)
        for k in range(alphas.size)
    ])
    best = alphas[np.argmin(tuning, axis=0)]
    measured = np.stack([
        expected_over_tau(sgd_grad_sq(problem, N, a, runs=runs, seed=seed + 1 + i), [N])[0]
        for i, (N, a) in enumerate(zip(Ns, best))
    ])
    return {"alpha": best, "tuning": tuning, "measured": measured, "Ns": np.array(Ns)}
