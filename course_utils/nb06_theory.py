"""Convergence theory of Adagrad and Adam after Défossez, Bottou, Bach & Usunier (TMLR 2022).

What this module holds (notebook 06):

* the four bounds on E||grad F(x_tau)||^2 as plain functions, each split into its
  *initialization* term (proportional to F(x0) - F*) and its *noise* term (everything else);
* the paper's own update rule (unnormalised sums, eps inside the root, its step size alpha_n) as a
  small numpy optimizer that runs many independent runs at once;
* the paper's random iterate tau, P[tau = j] proportional to 1 - beta1^(N - j), j = 0..N-1;
* a stochastic logistic-regression problem on bounded features whose constants R, L, d and F*
  are computed exactly, and a runner that measures E||grad F(x_tau)||^2 over many runs.

Sources. Theorems 1 (Adagrad) and 2 (Adam), beta1 = 0, follow the course text and the project's
notes (``shared/notes/optimizers-and-theory.md``); the theorem numbers and the hypotheses of all
four theorems (Theorem 3: beta2 = 1, alpha_n = alpha, 0 <= beta1 < 1; Theorem 4: 0 <= beta1 <
beta2 < 1, alpha_n = alpha (1 - beta1) sqrt((1 - beta2^n)/(1 - beta2)); both for N > beta1/(1 -
beta1) with N~ = N - beta1/(1 - beta1)) were checked against a text copy of the paper. That copy
lost its displayed equations, so the *constants* of Theorems 3 and 4 below are transcriptions
not checked against the paper itself; Theorem 4's agree with a second, independent
transcription (STAT-4830 lecture notes, damek/STAT-4830 section 9).
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

    def step(self, grad) -> np.ndarray:
        """Apply one update with the stochastic gradients ``grad`` (runs, d); return the new x."""
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != self.x.shape:
            raise ValueError(f"grad must have shape {self.x.shape}, got {grad.shape}.")
        self.n += 1
        self.m = self.beta1 * self.m + grad
        self.v = self.beta2 * self.v + grad * grad
        alpha_n = paper_step_size(self.n, self.alpha, self.beta1, self.beta2)
        self.x = self.x - alpha_n * self.m / np.sqrt(self.eps + self.v)
        return self.x


# --------------------------------------------------------------------------------------------
# A problem where every constant is known: logistic regression on bounded features
# --------------------------------------------------------------------------------------------


@dataclass
class LogisticProblem:
    """F(x) = mean_i ln(1 + exp(-y_i a_i . x)); f(x) uses one sample i drawn uniformly.

    Constants of the paper's assumptions (for the optimizer's eps):
    R = max_ij |a_ij| + sqrt(eps) (a per-sample gradient is -y_i a_i sigmoid(...), so every
    coordinate is at most |a_ij|), L = lambda_max(A^T A / n) / 4 (the Hessian is
    A^T diag(s(1-s)) A / n with s(1-s) <= 1/4), F* = F(x*) with x* found by Newton's method.
    """

    A: np.ndarray
    y: np.ndarray
    eps: float
    x_star: np.ndarray
    f_star: float
    L: float
    G_inf: float

    def __post_init__(self) -> None:
        self._yA = np.ascontiguousarray(self.A * self.y[:, None])
        self._workspace: dict[int, np.ndarray] = {}

    @property
    def n(self) -> int:
        """Number of samples."""
        return self.A.shape[0]

    @property
    def d(self) -> int:
        """Dimension of x."""
        return self.A.shape[1]

    @property
    def R(self) -> float:
        """The paper's R: sup ||grad f||_inf + sqrt(eps)."""
        return self.G_inf + np.sqrt(self.eps)

    def loss(self, X) -> np.ndarray:
        """F at each row of X (runs, d) -> (runs,)."""
        margins = (np.atleast_2d(X) @ self.A.T) * self.y
        return np.logaddexp(0.0, -margins).mean(axis=1)

    def grad(self, X) -> np.ndarray:
        """Full gradient of F at each row of X (runs, d) -> (runs, d)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        # grad = mean_i -y_i a_i sigmoid(-m_i) = mean_i (tanh(m_i / 2) - 1) y_i a_i / 2 with
        # m_i = y_i a_i . x. Two speed details, both measured on a busy 2-core machine:
        # * a reused buffer: allocating a fresh (runs, n) array every step costs more than the
        #   arithmetic (page faults), and this runs 10^4 times for one curve;
        # * blocks of rows small enough that OpenBLAS stays single-threaded: its threads spin
        #   and slow a step down 20x when other processes hold the cores.
        out = np.empty_like(X)
        rows = max(1, 200_000 // (self.d * self.n))
        buf = self._workspace.get(rows)
        if buf is None:
            buf = self._workspace[rows] = np.empty((rows, self.n))
        for start in range(0, X.shape[0], rows):
            block = X[start : start + rows]
            b = buf[: block.shape[0]]
            np.matmul(block, self._yA.T, out=b)
            b *= 0.5
            np.tanh(b, out=b)
            b -= 1.0
            np.matmul(b, self._yA, out=out[start : start + rows])
        out *= 0.5 / self.n
        return out

    def sample_grad(self, X, idx) -> np.ndarray:
        """Per-run stochastic gradient at rows of X with sample idx[r] for run r."""
        a, y = self.A[idx], self.y[idx]  # (runs, d), (runs,)
        margins = np.einsum("rd,rd->r", X, a) * y
        return (-y * _sigmoid(-margins))[:, None] * a

    def f0_minus_fstar(self, x0=None) -> float:
        """F(x0) - F* (x0 = 0 by default, where F = ln 2)."""
        x0 = np.zeros(self.d) if x0 is None else np.asarray(x0, dtype=np.float64)
        return float(self.loss(x0[None])[0] - self.f_star)


def _sigmoid(z):
    # tanh form: never overflows (the panel turns overflow warnings into errors).
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def make_logistic_problem(
    n: int = 400,
    d: int = 10,
    scale_min: float = 0.3,
    label_noise: float = 0.2,
    eps: float = 1e-8,
    seed: int = 0,
) -> LogisticProblem:
    """Bounded synthetic features a_ij ~ U[-s_j, s_j], scales s_j from 1 down to ``scale_min``.

    Labels come from a random linear rule, a fraction ``label_noise`` of them flipped, so the data
    are not separable and F has a finite minimiser. F* is found by Newton's method to 1e-13.
    """
    if n < 2 or d < 1:
        raise ValueError(f"Need n >= 2 samples and d >= 1 features, got n={n}, d={d}.")
    if not 0 < label_noise < 0.5:
        raise ValueError(
            f"label_noise must lie in (0, 0.5) so F has a minimiser, got {label_noise}."
        )
    if not 0 < scale_min <= 1:
        raise ValueError(f"scale_min must lie in (0, 1], got {scale_min}.")
    rng = np.random.default_rng(seed)
    scales = np.geomspace(1.0, scale_min, d)
    A = rng.uniform(-1.0, 1.0, size=(n, d)) * scales
    w_true = rng.normal(size=d) / scales  # every coordinate matters despite its small scale
    y = np.sign(A @ w_true + 1e-12)
    flip = rng.random(n) < label_noise
    y[flip] = -y[flip]
    L = float(np.linalg.eigvalsh(A.T @ A / n)[-1] / 4)
    problem = LogisticProblem(A, y, eps, np.zeros(d), 0.0, L, float(np.abs(A).max()))
    x = np.zeros(d)
    for _ in range(100):
        g = problem.grad(x[None])[0]
        s = _sigmoid(-(A @ x) * y)
        H = (A.T * (s * (1 - s))) @ A / n
        x = x - np.linalg.solve(H, g)
        if np.linalg.norm(problem.grad(x[None])[0]) < 1e-13:
            break
    else:
        raise RuntimeError("Newton's method did not converge: are the data separable?")
    problem.x_star = x
    problem.f_star = float(problem.loss(x[None])[0])
    return problem


# --------------------------------------------------------------------------------------------
# Measuring E||grad F(x_tau)||^2
# --------------------------------------------------------------------------------------------


def measure_grad_sq(
    problem: LogisticProblem,
    N: int,
    alpha,
    beta1=0.0,
    beta2=1.0,
    runs: int = 100,
    seed: int = 0,
    eps: float | None = None,
) -> np.ndarray:
    """Run the paper's optimizer from x0 = 0 for N steps in ``runs`` independent runs.

    Returns ||grad F(x_j)||^2 for j = 0..N-1 (the iterates tau can pick), shape (N, runs).
    ``alpha``, ``beta1``, ``beta2`` may be arrays of shape (runs,) to mix hyperparameters.
    """
    if not (isinstance(N, int | np.integer) and N >= 1):
        raise ValueError(f"N must be an integer >= 1, got {N!r}.")
    rng = np.random.default_rng(seed)
    eps = problem.eps if eps is None else eps
    opt = PaperOptimizer(np.zeros((runs, problem.d)), alpha, beta1, beta2, eps)
    out = np.empty((N, runs))
    for j in range(N):
        full = problem.grad(opt.x)
        out[j] = np.einsum("rd,rd->r", full, full)
        opt.step(problem.sample_grad(opt.x, rng.integers(problem.n, size=runs)))
    return out


def measure_configs(
    problem: LogisticProblem, N: int, configs: dict[str, dict], runs: int = 100, seed: int = 0
) -> dict[str, np.ndarray]:
    """Run several hyperparameter settings side by side in one vectorised optimizer.

    ``configs`` maps a name to keyword arguments ``alpha``, ``beta1`` (default 0), ``beta2``
    (default 1, Adagrad). Returns name -> ||grad F(x_j)||^2 of shape (N, runs).
    """
    unknown = {k for c in configs.values() for k in c} - {"alpha", "beta1", "beta2"}
    if unknown:
        raise ValueError(f"Unknown hyperparameter(s) {sorted(unknown)}: use alpha, beta1, beta2.")

    def column(key, default):
        return np.repeat([float(c.get(key, default)) for c in configs.values()], runs)

    grad_sq = measure_grad_sq(
        problem,
        N,
        alpha=column("alpha", np.nan),
        beta1=column("beta1", 0.0),
        beta2=column("beta2", 1.0),
        runs=runs * len(configs),
        seed=seed,
    )
    return {name: grad_sq[:, k * runs : (k + 1) * runs] for k, name in enumerate(configs)}


def expected_over_tau(grad_sq: np.ndarray, Ns, beta1: float = 0.0) -> np.ndarray:
    """E_tau ||grad F(x_tau)||^2 for each horizon N in ``Ns``, per run: shape (len(Ns), runs).

    Uses the first N rows of ``grad_sq`` (from ``measure_grad_sq``) and the exact tau weights, so
    no Monte-Carlo noise from sampling tau is added.
    """
    grad_sq = np.asarray(grad_sq)
    Ns = [int(N) for N in np.atleast_1d(Ns)]
    if max(Ns) > grad_sq.shape[0]:
        raise ValueError(f"Horizon N={max(Ns)} exceeds the {grad_sq.shape[0]} recorded steps.")
    return np.stack([tau_weights(N, beta1) @ grad_sq[:N] for N in Ns])


def loglog_slope(x, y) -> float:
    """Least-squares slope of ln y against ln x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])
