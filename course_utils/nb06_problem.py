"""Notebook 06's problem and measurements: logistic regression whose constants are all known.

* `LogisticProblem` / `make_logistic_problem`: bounded features, so R, L, d and F* are exact;
* `measure_grad_sq` / `measure_configs` / `expected_over_tau`: E||grad F(x_tau)||^2 over many
  independent runs of the paper's optimizer (`nb06_theory.PaperOptimizer`), advanced as one array;
* the notebook's experiments, each returning its numbers: `check_constants`, `agreement_check`,
  `torch_mapping_checks`, `bounds_experiment`, `slopes_and_ratios`, `floor_table`,
  `adagrad_long_run`, `momentum_experiment`, `lemma_check`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from course_utils.checkers import compare
from course_utils.nb06_theory import (
    PaperOptimizer,
    adagrad_bound,
    adam_bound,
    adam_noise_floor,
    lemma_sums,
    paper_step,
    tau_weights,
)

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
    record_every: int = 1,
) -> np.ndarray:
    """Run the paper's optimizer from x0 = 0 for N steps in ``runs`` independent runs.

    Returns ||grad F(x_j)||^2 for j = 0, k, 2k, ... < N with k = ``record_every`` (every iterate
    tau can pick when k = 1), shape (ceil(N / k), runs). ``alpha``, ``beta1``, ``beta2`` may be
    arrays of shape (runs,) to mix hyperparameters.
    """
    if not (isinstance(N, int | np.integer) and N >= 1):
        raise ValueError(f"N must be an integer >= 1, got {N!r}.")
    if not (isinstance(record_every, int | np.integer) and record_every >= 1):
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}.")
    rng = np.random.default_rng(seed)
    eps = problem.eps if eps is None else eps
    opt = PaperOptimizer(np.zeros((runs, problem.d)), alpha, beta1, beta2, eps)
    out = np.empty((-(-N // record_every), runs))
    for j in range(N):
        if j % record_every == 0:
            full = problem.grad(opt.x)
            out[j // record_every] = np.einsum("rd,rd->r", full, full)
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


# --------------------------------------------------------------------------------------------
# The notebook's experiments
# --------------------------------------------------------------------------------------------


def check_constants(problem: LogisticProblem, points: int = 200, scale: float = 3.0, seed: int = 3):
    """Largest |gradient coordinate| over all samples and largest Hessian eigenvalue of F, at
    ``points`` random points x ~ N(0, scale^2 I): both must stay below R and L."""
    X = np.random.default_rng(seed).normal(scale=scale, size=(points, problem.d))
    largest = max(
        np.abs(problem.sample_grad(X, np.full(points, i))).max() for i in range(problem.n)
    )
    s = _sigmoid((X @ problem.A.T) * problem.y)
    curvature = max(
        np.linalg.eigvalsh((problem.A.T * (si * (1 - si))) @ problem.A / problem.n)[-1] for si in s
    )
    return float(largest), float(curvature)


AGREEMENT_SETTINGS = ((0.0, 1.0), (0.9, 1.0), (0.0, 0.99), (0.9, 0.99), (0.9, 0.999), (0.5, 0.9))


def agreement_check(settings=AGREEMENT_SETTINGS, steps: int = 50, alpha: float = 0.1, seed=0):
    """{(beta1, beta2): max |x_paper_step - x_PaperOptimizer|} after ``steps`` random gradients.

    Covers Adagrad (beta2 = 1) with and without momentum and Adam, so a wrong alpha_n in
    either implementation shows up.
    """
    grads = np.random.default_rng(seed).normal(size=(steps, 1, 4))
    out = {}
    for beta1, beta2 in settings:
        x, m, v = np.ones((1, 4)), np.zeros((1, 4)), np.zeros((1, 4))
        opt = PaperOptimizer(np.ones((1, 4)), alpha=alpha, beta1=beta1, beta2=beta2, eps=1e-8)
        for n in range(1, steps + 1):
            x, m, v = paper_step(x, m, v, grads[n - 1], n, alpha, beta1, beta2, 1e-8)
            opt.step(grads[n - 1])
        out[beta1, beta2] = float(np.abs(x - opt.x).max())
    return out


def torch_mapping_checks(steps: int = 300, beta1: float = 0.9, beta2: float = 0.999) -> list:
    """The paper's optimizer against torch.optim on a noisy 3-d quadratic, float64, eps = 0.

    Three CheckResults: paper Adagrad vs Adagrad; paper Adam vs Adam with the learning rate
    scaled by (1 - beta1^n) (a LambdaLR); the same without the scaling (must differ).
    """
    H = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.1]])
    b = np.array([1.0, -2.0, 0.5])
    noise = np.random.default_rng(1).normal(size=(steps, 3))
    x0 = [1.0, -1.0, 2.0]

    def grad(x, k):
        return H @ x - b + 0.3 * noise[k]

    def run_torch(optimizer_cls, lr_factor=None, **kw):
        p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
        opt = optimizer_cls([p], eps=0.0, **kw)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor) if lr_factor else None
        for k in range(steps):
            p.grad = torch.from_numpy(grad(p.detach().numpy().copy(), k))
            opt.step()
            if sched:
                sched.step()
        return p.detach().numpy()

    def run_paper(alpha, b1, b2):
        opt = PaperOptimizer([x0], alpha, b1, b2, eps=0.0)
        for k in range(steps):
            opt.step(grad(opt.x[0], k)[None])
        return opt.x[0]

    # LambdaLR passes k = n - 1 for the n-th step.
    scaled = run_torch(torch.optim.Adam, lr=0.01, betas=(beta1, beta2),
                       lr_factor=lambda k: 1 - beta1 ** (k + 1))
    tol = dict(rtol=0, atol=1e-12)
    return [
        compare("paper Adagrad vs Adagrad(eps=0)", run_paper(0.1, 0.0, 1.0),
                run_torch(torch.optim.Adagrad, lr=0.1), **tol),
        compare("paper Adam vs Adam(eps=0)·(1-β1^n)", run_paper(0.01, beta1, beta2), scaled, **tol),
        compare("paper Adam vs Adam(eps=0), no scaling", run_paper(0.01, beta1, beta2),
                run_torch(torch.optim.Adam, lr=0.01, betas=(beta1, beta2)), **tol),
    ]


@dataclass
class BoundsExperiment:
    """Section 4's measurements: ``measured[name]`` (len(Ns), runs) and ``grad_sq[name]`` (N, runs)."""

    Ns: np.ndarray
    measured: dict
    grad_sq: dict
    settings: dict


def bounds_experiment(
    problem: LogisticProblem, N_max: int = 10_000, runs: int = 100, alpha_adagrad: float = 0.5,
    alpha_adam: float = 0.05, beta2: float = 0.99, points: int = 13,
) -> BoundsExperiment:
    """Adagrad (alpha), Adam (fixed alpha, beta2) and tuned Adam (alpha/sqrt(N), 1 - 1/N).

    One run of N_max steps gives every horizon N <= N_max for the first two (their alpha_n do
    not depend on N); tuned Adam depends on N, so it runs once per N (seed 2).
    """
    Ns = np.unique(np.geomspace(10, N_max, points).round().astype(int))
    grad_sq = measure_configs(
        problem, N_max,
        {"adagrad": dict(alpha=alpha_adagrad), "adam": dict(alpha=alpha_adam, beta2=beta2)},
        runs=runs, seed=1,
    )
    measured = {name: expected_over_tau(g, Ns) for name, g in grad_sq.items()}
    measured["tuned"] = np.stack([
        measure_grad_sq(problem, int(N), alpha=alpha_adagrad / np.sqrt(N), beta2=1 - 1 / N,
                        runs=runs, seed=2).mean(axis=0)  # beta1 = 0: tau uniform
        for N in Ns
    ])
    settings = dict(alpha_adagrad=alpha_adagrad, alpha_adam=alpha_adam, beta2=beta2, runs=runs)
    return BoundsExperiment(Ns, measured, grad_sq, settings)


def experiment_bounds(problem: LogisticProblem, exp: BoundsExperiment) -> dict:
    """The bounds of the three methods of `bounds_experiment` at its horizons."""
    c = dict(d=problem.d, R=problem.R, L=problem.L, eps=problem.eps,
             f0_minus_fstar=problem.f0_minus_fstar())
    s, Ns = exp.settings, exp.Ns
    return {
        "adagrad": adagrad_bound(Ns, alpha=s["alpha_adagrad"], **c),
        "adam": adam_bound(Ns, alpha=s["alpha_adam"], beta2=s["beta2"], **c),
        "tuned": adam_bound(Ns, alpha=s["alpha_adagrad"] / np.sqrt(Ns), beta2=1 - 1 / Ns, **c),
    }


def slopes_and_ratios(exp: BoundsExperiment, bounds: dict, from_N: int = 100) -> dict:
    """Log-log slopes (N >= from_N) of the measured means and of the bounds, the ratios
    bound / measured, fixed Adam's slope over the last decade, and per-iterate flatness."""
    late = exp.Ns >= from_N
    out = {"slope": {}, "bound_slope": {}, "ratio": {}}
    for name, values in exp.measured.items():
        mean = values.mean(axis=1)
        out["slope"][name] = loglog_slope(exp.Ns[late], mean[late])
        out["bound_slope"][name] = loglog_slope(exp.Ns[late], bounds[name].total[late])
        out["ratio"][name] = bounds[name].total / mean
    last = exp.Ns >= exp.Ns[-1] / 10
    out["adam_last_decade"] = loglog_slope(exp.Ns[last], exp.measured["adam"].mean(axis=1)[last])
    per_iterate = {n: exp.grad_sq[n].mean(axis=1) for n in ("adagrad", "adam")}
    half = len(per_iterate["adam"]) // 2
    out["late_over_early"] = {  # steps N/2..N against 1000..N/2, per iterate (not tau-averaged)
        n: per_iterate[n][half:].mean() / per_iterate[n][1000:half].mean() for n in per_iterate
    }
    return out


def floor_table(problem: LogisticProblem, alphas=(0.05, 0.0125), beta2s=(0.99, 0.999),
                N: int = 4000, runs: int = 10, seed: int = 5) -> dict:
    """{(alpha, beta2): (measured floor, bound floor)} for Adam with beta1 = 0.

    Measured: the mean of ||grad F(x_j)||^2 over steps N/2..N and over runs (the per-iterate
    level once the run has settled); bound: Theorem 2's limit -E ln(beta2).
    """
    configs = {(a, b): dict(alpha=a, beta2=b) for a in alphas for b in beta2s}
    runs_by = measure_configs(problem, N, configs, runs=runs, seed=seed)
    return {
        key: (float(g[N // 2 :].mean()),
              adam_noise_floor(problem.d, problem.R, problem.L, key[0], key[1]))
        for key, g in runs_by.items()
    }


def adagrad_long_run(problem: LogisticProblem, N: int = 100_000, runs: int = 10,
                     alpha: float = 0.5, record_every: int = 10, seed: int = 7) -> dict:
    """Per-iterate E||grad F(x_j)||^2 of Adagrad over a long run, and its log-log slope per decade.

    Returns {"j": recorded iterates, "mean": their mean over runs, "slopes": {(lo, hi): slope}}.
    """
    g = measure_grad_sq(problem, N, alpha=alpha, runs=runs, seed=seed, record_every=record_every)
    j = np.arange(g.shape[0]) * record_every
    mean = g.mean(axis=1)
    slopes, lo = {}, 100
    while lo * 10 <= N:
        sel = (j >= lo) & (j < 10 * lo)
        slopes[lo, 10 * lo] = loglog_slope(j[sel], mean[sel])
        lo *= 10
    return {"j": j, "mean": mean, "slopes": slopes}


def momentum_experiment(problem: LogisticProblem, beta1s, N: int = 10_000, runs: int = 40,
                        alpha_adagrad: float = 0.5, alpha_adam: float = 0.05,
                        beta2: float = 0.99, seed: int = 3) -> dict:
    """E_tau ||grad F(x_tau)||^2 per run for each beta1, for three settings:

    "adagrad" (Theorem 3's alpha_n = alpha), "adagrad, step alpha(1 - beta1)" (the same step
    size as without momentum: m_n sums about 1/(1 - beta1) gradients) and "adam" (Theorem 4's
    alpha_n, which carries 1 - beta1). Returns {(setting, beta1): array (runs,)}.
    """
    configs = {}
    for b in beta1s:
        configs["adagrad", b] = dict(alpha=alpha_adagrad, beta1=b)
        configs["adagrad, step α(1-β1)", b] = dict(alpha=alpha_adagrad * (1 - b), beta1=b)
        configs["adam", b] = dict(alpha=alpha_adam, beta1=b, beta2=beta2)
    grad_sq = measure_configs(problem, N, configs, runs=runs, seed=seed)
    return {key: expected_over_tau(g, [N], key[1])[0] for key, g in grad_sq.items()}


def lemma_check(problem: LogisticProblem, N: int = 10_000, beta2s=(1.0, 0.99), seed: int = 4):
    """Lemma 5.2 with real per-sample gradients at the optimum x*, per coordinate.

    Draws N samples, takes their squared gradient coordinates at x* and returns
    {beta2: lemma_sums(...)} plus the worst-case right side the theorems use,
    ln(1 + N R^2/eps) (Adagrad) or ln(1 + R^2/((1 - beta2) eps)) - N ln(beta2) (Adam), and
    the per-coordinate rms gradient at x*.
    """
    idx = np.random.default_rng(seed).integers(problem.n, size=N)
    g = problem.sample_grad(np.repeat(problem.x_star[None], N, axis=0), idx)
    out = {"rms": np.sqrt((g**2).mean(axis=0))}
    for beta2 in beta2s:
        sums = lemma_sums(g**2, beta2, problem.eps)
        if beta2 == 1.0:
            worst = np.log1p(N * problem.R**2 / problem.eps)
        else:
            worst = np.log1p(problem.R**2 / ((1 - beta2) * problem.eps)) - N * np.log(beta2)
        sums["worst_case"] = np.full(problem.d, worst)
        out[beta2] = sums
    return out
