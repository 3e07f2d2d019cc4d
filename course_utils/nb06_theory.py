"""Convergence theory of Adagrad and Adam after Défossez, Bottou, Bach & Usunier (TMLR 2022).

What this module holds (notebook 06; the problem and the measurements are in `nb06_problem`):

* the four bounds on E||grad F(x_tau)||^2 as plain functions, each split into its
  *initialization* term (proportional to F(x0) - F*) and its *noise* term (everything else), the
  trivial bound d (R - sqrt(eps))^2 that every one of them must beat to say anything, and the
  local exponent of a bound in 1 - beta1;
* the paper's own update rule (unnormalised sums, eps inside the root, its step size alpha_n) as a
  small numpy optimizer that runs many independent runs at once;
* the paper's random iterate tau, P[tau = j] proportional to 1 - beta1^(N - j), j = 0..N-1;
* Lemma 5.2's two sides for a sequence of squared gradients.

Sources: arXiv:2003.02395 (v3, the TMLR version). Theorem 1 is its eq. (10), Theorem 2 eq. (11),
Theorem 3 eq. (12), Theorem 4 eq. (13); the hypotheses (Theorem 3: beta2 = 1, alpha_n = alpha,
0 <= beta1 < 1; Theorem 4: 0 <= beta1 < beta2 < 1, alpha_n = alpha (1 - beta1) sqrt((1 -
beta2^n)/(1 - beta2)); both for N > beta1/(1 - beta1) with N~ = N - beta1/(1 - beta1)) were
checked against a text copy of the paper, as were Theorem 2's E (its section 4.3) and the factor
3 in the dR^2 terms at beta1 = 0 (its section 4.2). That copy lost its displayed equations, so the
alpha^2 L^2 terms of Theorems 3-4 below are transcriptions; Theorem 4's agree with a second,
independent transcription (STAT-4830 lecture notes, damek/STAT-4830 section 9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------------------------
# The bounds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundTerms:
    """A bound on E||grad F(x_tau)||^2 split into its two terms (arrays broadcast over N)."""

    init: np.ndarray
    noise: np.ndarray
    theorem: str

    @property
    def total(self) -> np.ndarray:
        """The bound itself: initialization term plus noise term."""
        return self.init + self.noise


def _check_common(N, d, R, L, alpha, eps, f0_minus_fstar) -> np.ndarray:
    N = np.asarray(N, dtype=np.float64)
    if np.any(~(N >= 1)):
        raise ValueError(f"N (number of iterations) must be >= 1, got {N!r}.")
    if not d >= 1:
        raise ValueError(f"d (dimension) must be >= 1, got {d!r}.")
    if not R > 0:
        raise ValueError(
            f"R must be > 0 (it bounds every |gradient coordinate| + sqrt(eps)), got {R!r}."
        )
    if not L >= 0:
        raise ValueError(f"L (smoothness constant) must be >= 0, got {L!r}.")
    if not np.all(np.asarray(alpha) > 0):
        raise ValueError(f"alpha (step size) must be > 0, got {alpha!r}.")
    if not eps > 0:
        raise ValueError(
            f"eps must be > 0 for the bounds (they contain ln(1 + R^2/eps)), got {eps!r}; "
            "eps = 0 is fine for the optimizer, not for the theorems."
        )
    if not f0_minus_fstar >= 0:
        raise ValueError(f"F(x0) - F* must be >= 0, got {f0_minus_fstar!r}.")
    return N


def _check_beta1(beta1: float) -> None:
    if not 0 <= beta1 < 1:
        raise ValueError(f"beta1 must lie in [0, 1), got {beta1!r}.")


def _check_beta2(beta2) -> None:
    beta2 = np.asarray(beta2)
    if not np.all((beta2 > 0) & (beta2 < 1)):
        raise ValueError(
            f"beta2 must lie in (0, 1) for Adam, got {beta2!r}; beta2 = 1 is Adagrad: use "
            "adagrad_bound."
        )


def adagrad_bound(N, d, R, L, alpha, eps, f0_minus_fstar) -> BoundTerms:
    """Theorem 1 (Adagrad, beta1 = 0, alpha_n = alpha).

    E||grad F(x_tau)||^2 <= 2 R (F0 - F*) / (alpha sqrt N)
                            + (4 d R^2 + alpha d R L) ln(1 + N R^2 / eps) / sqrt N.
    """
    N = _check_common(N, d, R, L, alpha, eps, f0_minus_fstar)
    init = 2 * R * f0_minus_fstar / (alpha * np.sqrt(N))
    noise = (4 * d * R**2 + alpha * d * R * L) * np.log1p(N * R**2 / eps) / np.sqrt(N)
    return BoundTerms(init, noise, "Theorem 1 (Adagrad)")


def adam_bound(N, d, R, L, alpha, beta2, eps, f0_minus_fstar) -> BoundTerms:
    """Theorem 2 (Adam, beta1 = 0, alpha_n = alpha sqrt((1 - beta2^n) / (1 - beta2))).

    E||grad F(x_tau)||^2 <= 2 R (F0 - F*) / (alpha N)
                            + E ( ln(1 + R^2 / ((1 - beta2) eps)) / N - ln beta2 ),
    E = 4 d R^2 / sqrt(1 - beta2) + alpha d R L / (1 - beta2).
    """
    N = _check_common(N, d, R, L, alpha, eps, f0_minus_fstar)
    _check_beta2(beta2)
    E = 4 * d * R**2 / np.sqrt(1 - beta2) + alpha * d * R * L / (1 - beta2)
    init = 2 * R * f0_minus_fstar / (alpha * N)
    noise = E * (np.log1p(R**2 / ((1 - beta2) * eps)) / N - np.log(beta2))
    return BoundTerms(init, noise, "Theorem 2 (Adam)")


def effective_iterations(N, beta1: float) -> np.ndarray:
    """N~ = N - beta1 / (1 - beta1): the iterations the momentum theorems count."""
    _check_beta1(beta1)
    return np.asarray(N, dtype=np.float64) - beta1 / (1 - beta1)


def _check_effective(N, beta1) -> np.ndarray:
    N_eff = effective_iterations(N, beta1)
    if np.any(N_eff <= 0):
        raise ValueError(
            f"The momentum theorems need N > beta1 / (1 - beta1) = {beta1 / (1 - beta1):.4g} "
            f"(got smallest N = {np.min(N):.4g}); use more iterations or a smaller beta1."
        )
    return N_eff


def adagrad_momentum_bound(N, d, R, L, alpha, beta1, eps, f0_minus_fstar) -> BoundTerms:
    """Theorem 3 (Adagrad with heavy-ball momentum 0 <= beta1 < 1, beta2 = 1).

    E||grad F(x_tau)||^2 <= 2 R sqrt(N) (F0 - F*) / (alpha N~)
                            + sqrt(N) / N~ * E * ln(1 + N R^2 / eps),
    N~ = N - beta1/(1 - beta1),
    E = alpha d R L + 12 d R^2 / (1 - beta1) + 2 alpha^2 d L^2 beta1 / (1 - beta1)^3.
    """
    N = _check_common(N, d, R, L, alpha, eps, f0_minus_fstar)
    _check_beta1(beta1)
    N_eff = _check_effective(N, beta1)
    E = (
        alpha * d * R * L
        + 12 * d * R**2 / (1 - beta1)
        + 2 * alpha**2 * d * L**2 * beta1 / (1 - beta1) ** 3
    )
    init = 2 * R * np.sqrt(N) * f0_minus_fstar / (alpha * N_eff)
    noise = np.sqrt(N) / N_eff * E * np.log1p(N * R**2 / eps)
    return BoundTerms(init, noise, "Theorem 3 (Adagrad + momentum)")


def _adam_momentum_E(d, R, L, alpha, beta1, beta2) -> float:
    c = 1 - beta1 / beta2
    return (
        alpha * d * R * L * (1 - beta1) / (c * (1 - beta2))
        + 12 * d * R**2 * np.sqrt(1 - beta1) / (c**1.5 * np.sqrt(1 - beta2))
        + 2 * alpha**2 * d * L**2 * beta1 / (c * (1 - beta2) ** 1.5)
    )


def adam_momentum_bound(N, d, R, L, alpha, beta1, beta2, eps, f0_minus_fstar) -> BoundTerms:
    """Theorem 4 (Adam with heavy-ball momentum, 0 <= beta1 < beta2 < 1).

    E||grad F(x_tau)||^2 <= 2 R (F0 - F*) / (alpha N~)
                            + E / N~ * ( ln(1 + R^2 / ((1 - beta2) eps)) - N ln beta2 ),
    E = alpha d R L (1 - beta1) / ((1 - beta1/beta2)(1 - beta2))
        + 12 d R^2 sqrt(1 - beta1) / ((1 - beta1/beta2)^(3/2) sqrt(1 - beta2))
        + 2 alpha^2 d L^2 beta1 / ((1 - beta1/beta2)(1 - beta2)^(3/2)).
    """
    N = _check_common(N, d, R, L, alpha, eps, f0_minus_fstar)
    _check_beta1(beta1)
    _check_beta2(beta2)
    if not np.all(beta1 < np.asarray(beta2)):
        raise ValueError(
            f"Theorem 4 needs beta1 < beta2, got beta1 = {beta1!r} >= beta2 = {beta2!r}; "
            "raise beta2 or lower beta1."
        )
    N_eff = _check_effective(N, beta1)
    E = _adam_momentum_E(d, R, L, alpha, beta1, beta2)
    init = 2 * R * f0_minus_fstar / (alpha * N_eff)
    noise = E / N_eff * (np.log1p(R**2 / ((1 - beta2) * eps)) - N * np.log(beta2))
    return BoundTerms(init, noise, "Theorem 4 (Adam + momentum)")


def adam_noise_floor(d, R, L, alpha, beta2, beta1: float = 0.0) -> float:
    """The limit of the Adam bound as N -> infinity: -E ln(beta2) (Theorem 2, or 4 if beta1 > 0)."""
    _check_beta2(beta2)
    _check_beta1(beta1)
    if beta1 == 0:
        E = 4 * d * R**2 / np.sqrt(1 - beta2) + alpha * d * R * L / (1 - beta2)
    else:
        if not beta1 < beta2:
            raise ValueError(f"Theorem 4 needs beta1 < beta2, got {beta1!r} >= {beta2!r}.")
        E = _adam_momentum_E(d, R, L, alpha, beta1, beta2)
    return float(-E * np.log(beta2))


def best_adagrad_alpha(N, d, R, L, eps, f0_minus_fstar) -> float:
    """The alpha minimising Theorem 1 for a given N: sqrt(2 (F0 - F*) / (d L ln(1 + N R^2/eps)))."""
    _check_common(N, d, R, L, 1.0, eps, f0_minus_fstar)
    if not L > 0:
        raise ValueError("With L = 0 the Adagrad bound decreases forever in alpha: no minimiser.")
    return float(np.sqrt(2 * f0_minus_fstar / (d * L * np.log1p(N * R**2 / eps))))


def best_adam_beta2(N, d, R, L, alpha, eps, f0_minus_fstar, tol: float = 1e-10) -> float:
    """The beta2 minimising Theorem 2 for a given N (golden-section search on ln(1 - beta2))."""
    _check_common(N, d, R, L, alpha, eps, f0_minus_fstar)

    def total(log_u: float) -> float:
        return float(adam_bound(N, d, R, L, alpha, 1 - np.exp(log_u), eps, f0_minus_fstar).total)

    # Coarse grid over 1 - beta2 in [1e-12, 0.999], then golden-section refinement.
    grid = np.linspace(np.log(1e-12), np.log(0.999), 400)
    values = np.array([total(u) for u in grid])
    k = int(np.argmin(values))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = total(a), total(b)
    while hi - lo > tol:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = total(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = total(b)
    return float(1 - np.exp((lo + hi) / 2))


def crossing_point(N, a, b) -> float:
    """The first N (log-interpolated) at which curve ``a`` falls below curve ``b``; nan if never.

    Used to mark where the initialization term stops dominating the noise term.
    """
    N, a, b = (np.asarray(v, dtype=np.float64) for v in (N, a, b))
    diff = np.log(a) - np.log(b)
    sign_change = np.nonzero((diff[:-1] > 0) & (diff[1:] <= 0))[0]
    if sign_change.size == 0:
        return float("nan")
    k = sign_change[0]
    t = diff[k] / (diff[k] - diff[k + 1])
    return float(np.exp(np.log(N[k]) + t * (np.log(N[k + 1]) - np.log(N[k]))))


# --------------------------------------------------------------------------------------------
# The random iterate tau and the paper's update rule
# --------------------------------------------------------------------------------------------


def tau_weights(N: int, beta1: float = 0.0) -> np.ndarray:
    """P[tau = j] for j = 0..N-1: proportional to 1 - beta1^(N - j) (uniform when beta1 = 0)."""
    if not (isinstance(N, int | np.integer) and N >= 1):
        raise ValueError(f"N must be an integer >= 1, got {N!r}.")
    _check_beta1(beta1)
    j = np.arange(N)
    w = 1.0 - beta1 ** (N - j)
    return w / w.sum()


def sample_tau(N: int, beta1: float, size, rng: np.random.Generator) -> np.ndarray:
    """Draw tau (index of the iterate x_tau, 0 <= tau < N) from the paper's distribution."""
    return rng.choice(N, size=size, p=tau_weights(N, beta1))


def paper_step(x, m, v, g, n, alpha, beta1, beta2, eps):
    """One step of Défossez et al.'s update, written out; returns the new (x, m, v).

    m_n = beta1 m_{n-1} + g_n,  v_n = beta2 v_{n-1} + g_n^2,  x_n = x_{n-1} - alpha_n m_n /
    sqrt(eps + v_n), with alpha_n from `paper_step_size` (beta2 = 1: Adagrad, alpha_n = alpha).
    """
    m = beta1 * m + g
    v = beta2 * v + g**2
    return x - paper_step_size(n, alpha, beta1, beta2) * m / np.sqrt(eps + v), m, v


def paper_step_size(n, alpha, beta1=0.0, beta2=1.0) -> np.ndarray:
    """The paper's alpha_n at step n >= 1.

    Adagrad (beta2 = 1): alpha, with or without momentum (Theorems 1 and 3). Adam (beta2 < 1):
    alpha (1 - beta1) sqrt((1 - beta2^n) / (1 - beta2)) (Theorems 2 and 4). Arguments broadcast
    (one value per run).
    """
    alpha, beta1, beta2 = (np.asarray(v, dtype=np.float64) for v in (alpha, beta1, beta2))
    adam = beta2 < 1
    safe = np.where(adam, beta2, 0.5)  # keeps the unused branch finite
    scale = np.where(adam, np.sqrt((1 - safe**n) / (1 - safe)), 1.0)
    return alpha * np.where(adam, (1 - beta1) * scale, 1.0)


class PaperOptimizer:
    """The update of Défossez et al. for a batch of independent runs (numpy, float64).

    m_n = beta1 m_{n-1} + g_n,   v_n = beta2 v_{n-1} + g_n^2,
    x_n = x_{n-1} - alpha_n m_n / sqrt(eps + v_n).

    ``x0`` has shape (runs, d); ``alpha``, ``beta1``, ``beta2`` are numbers or arrays of shape
    (runs,), so one call can advance runs with different hyperparameters. beta2 = 1 is Adagrad.
    """

    def __init__(self, x0, alpha, beta1=0.0, beta2=1.0, eps: float = 1e-8):
        self.x = np.array(x0, dtype=np.float64)
        if self.x.ndim != 2:
            raise ValueError(f"x0 must have shape (runs, d), got shape {self.x.shape}.")
        runs = self.x.shape[0]

        def column(name, value):
            value = np.asarray(value, dtype=np.float64)
            if value.ndim == 0:
                value = np.full(runs, float(value))
            if value.shape != (runs,):
                raise ValueError(
                    f"{name} must be a number or have shape ({runs},) (one per run), "
                    f"got shape {value.shape}."
                )
            return value[:, None]

        self.alpha = column("alpha", alpha)
        self.beta1 = column("beta1", beta1)
        self.beta2 = column("beta2", beta2)
        if np.any(~(self.alpha > 0)):
            raise ValueError("alpha must be > 0 in every run.")
        if np.any((self.beta1 < 0) | (self.beta1 >= 1)):
            raise ValueError("beta1 must lie in [0, 1) in every run.")
        if np.any((self.beta2 <= 0) | (self.beta2 > 1)):
            raise ValueError("beta2 must lie in (0, 1] in every run (beta2 = 1 is Adagrad).")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps!r}.")
        self.eps = float(eps)
        self.m = np.zeros_like(self.x)
        self.v = np.zeros_like(self.x)
        self.n = 0
        self._constant_step = bool(np.all(self.beta2 == 1.0))  # Adagrad: alpha_n = alpha

    def step(self, grad) -> np.ndarray:
        """Apply one update with the stochastic gradients ``grad`` (runs, d); return the new x."""
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != self.x.shape:
            raise ValueError(f"grad must have shape {self.x.shape}, got {grad.shape}.")
        self.n += 1
        self.m = self.beta1 * self.m + grad
        self.v = self.beta2 * self.v + grad * grad
        if self._constant_step:
            alpha_n = self.alpha
        else:
            alpha_n = paper_step_size(self.n, self.alpha, self.beta1, self.beta2)
        self.x = self.x - alpha_n * self.m / np.sqrt(self.eps + self.v)
        return self.x


def trivial_bound(d, R, eps) -> float:
    """d (R - sqrt(eps))^2: ||grad F||^2 can never exceed it, since ||grad f||_inf <= R - sqrt(eps).

    A bound above this line says nothing about the problem (it is *vacuous*).
    """
    if not R > np.sqrt(eps):
        raise ValueError(f"The paper needs R > sqrt(eps), got R = {R!r}, eps = {eps!r}.")
    return float(d * (R - np.sqrt(eps)) ** 2)


def beta1_exponent(bound, beta1: float, rel_step: float = 1e-4, **kwargs) -> float:
    """Local exponent k of a momentum bound in 1 - beta1: bound ~ (1 - beta1)^(-k) near beta1.

    ``bound`` is `adagrad_momentum_bound` or `adam_momentum_bound`; ``kwargs`` its other
    arguments. Central difference of ln(total) in ln(1 - beta1).
    """
    u = 1.0 - beta1
    lo, hi = u * (1 - rel_step), u * (1 + rel_step)
    f_lo = np.log(bound(beta1=1 - lo, **kwargs).total)
    f_hi = np.log(bound(beta1=1 - hi, **kwargs).total)
    return float(-(f_hi - f_lo) / (np.log(hi) - np.log(lo)))


def lemma_sums(grad_sq, beta2: float = 1.0, eps: float = 1e-8) -> dict[str, np.ndarray]:
    """Both sides of Lemma 5.2 for squared gradients ``grad_sq`` of shape (N, d), per coordinate.

    With v_n = beta2 v_{n-1} + g_n^2 (v_0 = 0), the lemma says
    sum_n g_n^2 / (eps + v_n) <= ln(1 + v_N / eps) - N ln(beta2).
    Returns {"sum": left side, "lemma": right side, "floor_part": -N ln(beta2),
    "v_N": v_N}, each of shape (d,).
    """
    a = np.asarray(grad_sq, dtype=np.float64)
    if not 0 < beta2 <= 1:
        raise ValueError(f"beta2 must lie in (0, 1], got {beta2!r}.")
    if beta2 == 1.0:
        v = np.cumsum(a, axis=0)
    else:
        v = np.empty_like(a)
        acc = np.zeros(a.shape[1:])
        for n in range(a.shape[0]):
            acc = beta2 * acc + a[n]
            v[n] = acc
    N = a.shape[0]
    return {
        "sum": (a / (eps + v)).sum(axis=0),
        "lemma": np.log1p(v[-1] / eps) - N * np.log(beta2),
        "floor_part": np.full(a.shape[1:], -N * np.log(beta2)),
        "v_N": v[-1],
    }
