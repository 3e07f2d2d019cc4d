"""Notebook 04 (Adam), the race: Adam vs gradient descent (with and without heavy-ball momentum)
vs Adagrad on notebook 01's quadratic, axis-aligned and rotated, with a slider panel.

* `race`: the four runs from one start (rotated problems start at the rotated point, so GD and
  heavy ball, which are rotation-invariant, run the same curve on both problems);
* `race_verdicts`: Adam against the baselines over a grid of alpha and beta1 (what the unit
  tests and the notebook assert);
* `start_direction_sweep`: the same race from many start directions at once (one batched
  array), to tell what holds from every start from what holds only from RACE_W0;
* `tuned_steps`: GD's and heavy ball's parameters, tuned for the race's horizon and score from
  their exact (closed-form) mean loss, with exact or noisy gradients;
* `noisy_race_comparison`: Adam (alpha tuned on held-out seeds) against tuned SGD with noisy
  gradients, by paired differences over shared noise draws (`course_utils.stats`);
* `make_race_panel`: sliders for alpha, beta1, beta2, the problem and the gradient noise.

Adam and Adagrad run `course_utils.optimizers`; GD is `quadratic.gradient_descent`.
"""

from __future__ import annotations

import functools

import ipywidgets as widgets
import numpy as np

from course_utils.optimizers import adagrad_update, adam_update, validate_hyperparameters
from course_utils.plotting import OPTIMIZER_COLORS, annotate_divergence, log_axis
from course_utils.quadratic import (
    Quadratic,
    Trajectory,
    best_fixed_step,
    gradient_descent,
    run_update_rule,
)
from course_utils.widgets import SliderPanel, float_slider, log_slider

# Notebook 01's quadratic, h = (1, 0.02), aligned with the axes and rotated by 45 degrees.
RACE_PROBLEMS = {
    "axis-aligned (κ = 50)": Quadratic(h=(1.0, 0.02), angle_deg=0.0),
    "rotated 45° (κ = 50)": Quadratic(h=(1.0, 0.02), angle_deg=45.0),
}
RACE_DEFAULT = "axis-aligned (κ = 50)"
RACE_W0 = np.array([-4.0, 3.0])  # start in eigen-coordinates: the same start loss, 8.09, on both
RACE_STEPS = 100
RACE_LR, RACE_BETA1 = 0.2, 0.0  # the static figures' defaults (beta1 = 0: no momentum in Adam)
HEAVY_BALL_COLOR = "#17becf"
_XLIM, _YLIM = (-6.0, 6.0), (-5.0, 5.0)  # GD's zigzags fit; heavy ball's first swings do not
_LOSS_FLOOR = 1e-20


def start_point(q: Quadratic) -> np.ndarray:
    """RACE_W0 expressed in q's coordinates: Q w0 (the same eigen-coordinates on every problem)."""
    return q.Q @ RACE_W0


def adam_path(
    q: Quadratic, w0, lr: float, beta1=0.9, beta2=0.999, eps=1e-8, steps=RACE_STEPS, noise_std=0.0,
    seed=0,
) -> Trajectory:
    """Adam (``course_utils.optimizers.adam_update``) on a quadratic, as a Trajectory."""
    m_state, v_state = [], []

    def step(w, g, t):
        params, _, _ = adam_update([w], [g], m_state, v_state, lr, beta1, beta2, eps, t)
        return params[0]

    return run_update_rule(q, w0, step, steps, noise_std, seed)


def adagrad_path(
    q: Quadratic, w0, lr: float, eps=1e-8, steps=RACE_STEPS, noise_std=0.0, seed=0
) -> Trajectory:
    """Adagrad (``optimizers.adagrad_update``, eps inside the root) on a quadratic."""
    state = []

    def step(w, g, t):
        params, _ = adagrad_update([w], [g], state, lr, eps)
        return params[0]

    return run_update_rule(q, w0, step, steps, noise_std, seed)


def heavy_ball_parameters(h) -> tuple[float, float]:
    """Polyak's optimal heavy ball on curvatures h: lr = 4/(√h_max+√h_min)², mu = ((√κ-1)/(√κ+1))².

    Its error then shrinks like ((√κ - 1)/(√κ + 1))^t, against GD's ((κ - 1)/(κ + 1))^t.
    """
    a, b = np.sqrt(max(h)), np.sqrt(min(h))
    return 4.0 / (a + b) ** 2, ((a - b) / (a + b)) ** 2


def heavy_ball_path(
    q: Quadratic, w0, lr: float, mu: float, steps=RACE_STEPS, noise_std=0.0, seed=0
) -> Trajectory:
    """GD with heavy-ball momentum: w_{t+1} = w_t - lr g_t + mu (w_t - w_{t-1})."""
    validate_hyperparameters(lr=lr, betas=(mu,))
    previous = [np.asarray(w0, dtype=np.float64)]

    def step(w, g, t):
        new = w - lr * g + mu * (w - previous[0])
        previous[0] = w
        return new

    return run_update_rule(q, w0, step, steps, noise_std, seed)


def momentum_mean_losses(q: Quadratic, w0, lrs, mus, sigma: float, steps: int) -> np.ndarray:
    """E[L(w_t)] of (stochastic) heavy ball, exact, for each pair (lrs[k], mus[k]): (k, steps + 1).

    Per eigendirection the pair (z_t, z_{t-1}) evolves linearly, x_t = M x_{t-1} - lr sigma xi e1
    with M = [[1 + mu - lr h, -mu], [1, 0]], so its mean is M^t x_0 and its covariance obeys
    C_t = M C_{t-1} M^T + lr^2 sigma^2 e1 e1^T. mu = 0 is SGD.
    """
    lrs = np.asarray(lrs, dtype=np.float64)[:, None]
    mus = np.asarray(mus, dtype=np.float64)[:, None]
    h = np.asarray(q.h)[None, :]
    M = np.zeros(np.broadcast_shapes(lrs.shape, h.shape) + (2, 2))
    M[..., 0, 0] = 1 + mus - lrs * h
    M[..., 0, 1] = -mus
    M[..., 1, 0] = 1.0
    z0 = q.to_eigenbasis(w0)
    mean = np.stack([np.broadcast_to(z0, M.shape[:-2])] * 2, axis=-1)
    cov = np.zeros(M.shape)
    kick = np.zeros(M.shape)
    kick[..., 0, 0] = (lrs * sigma) ** 2
    out = np.empty((M.shape[0], steps + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            out[:, t] = 0.5 * (h * (mean[..., 0] ** 2 + cov[..., 0, 0])).sum(axis=-1)
            mean = np.einsum("...ij,...j->...i", M, mean)
            cov = M @ cov @ np.swapaxes(M, -1, -2) + kick
    return np.where(np.isfinite(out), out, np.inf)


def gd_mean_losses(q: Quadratic, w0, lrs, sigma: float, steps: int) -> np.ndarray:
    """E[L(w_t)] of (stochastic) GD for each step size in ``lrs``, exact: shape (len(lrs), steps + 1).

    Per eigendirection z_t = a z_{t-1} - lr sigma xi_t with a = 1 - lr h: its mean is a^t z_0 and
    its variance lr^2 sigma^2 (1 + a^2 + ... + a^(2(t-1))). The same as `momentum_mean_losses`
    with mu = 0, in closed form (cheap enough for a fine grid).
    """
    lrs = np.asarray(lrs, dtype=np.float64)[:, None, None]
    h = np.asarray(q.h, dtype=np.float64)[None, None, :]
    t = np.arange(steps + 1, dtype=np.float64)[None, :, None]
    a2 = (1 - lrs * h) ** 2
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean_sq = a2**t * q.to_eigenbasis(w0)[None, None, :] ** 2
        geometric = np.where(np.isclose(a2, 1.0), t, (1 - a2**t) / (1 - a2))
        out = 0.5 * (h * (mean_sq + (lrs * sigma) ** 2 * geometric)).sum(axis=-1)
    return np.where(np.isfinite(out), out, np.inf)


def _mean_log_score(losses: np.ndarray, steps: int) -> np.ndarray:
    """Mean of log10 (floored at 1e-300) over steps steps//2..steps, per row: `mean_log_loss`'s score."""
    return np.log10(np.maximum(losses[:, steps // 2 :], 1e-300)).mean(axis=1)


TUNE_SEEDS = tuple(range(100, 110))  # the seeds every method is tuned on with noisy gradients


def simulated_mean_log_scores(
    q: Quadratic, w0, lrs, mus, sigma: float, steps: int, seeds
) -> np.ndarray:
    """The race's score (`mean_log_loss`), averaged over ``seeds``, of heavy ball at each pair
    (lrs[k], mus[k]) (mu = 0 is SGD), simulated in one batched array: shape (len(lrs),).

    Each seed draws the same gradient noise as `run_update_rule`, so a tuning seed here is the
    same run as in `race`; a run whose loss exceeds the divergence threshold scores inf.
    """
    from course_utils.quadratic import DIVERGENCE_THRESHOLD

    lrs = np.asarray(lrs, dtype=np.float64)[:, None, None]
    mus = np.asarray(mus, dtype=np.float64)[:, None, None]
    seeds = list(seeds)
    noise = np.stack([np.random.default_rng(s).standard_normal((steps, q.dim)) for s in seeds])
    w = np.broadcast_to(np.asarray(w0, dtype=np.float64), (lrs.shape[0], len(seeds), q.dim)).copy()
    previous = w.copy()
    start = steps // 2
    total = np.zeros(w.shape[:2])
    diverged = np.zeros(w.shape[:2], dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(1, steps + 1):
            g = q.grad(w) + sigma * noise[:, t - 1][None]
            w, previous = w - lrs * g + mus * (w - previous), w
            loss = q.loss(w)
            diverged |= ~(loss <= DIVERGENCE_THRESHOLD)
            if t >= start:
                total += np.log10(np.maximum(np.where(diverged, 1.0, loss), 1e-300))
    if start == 0:
        total += np.log10(np.maximum(q.loss(np.asarray(w0, dtype=np.float64)), 1e-300))
    scores = np.where(diverged, np.inf, total / (steps - start + 1))
    return scores.mean(axis=1)


@functools.lru_cache(maxsize=64)
def tuned_steps(
    problem: str, sigma: float, steps: int = RACE_STEPS, tune_seeds: tuple = TUNE_SEEDS
) -> dict:
    """GD's and heavy ball's parameters for the race: {"sgd": (lr, 0), "heavy_ball": (lr, mu)}.

    Tuned for the horizon and the score the race judges them by (`mean_log_loss`, the mean of
    log10 L(w_t) over steps steps//2..steps, from the race's start). Exact gradients: from the
    exact loss curve (`gd_mean_losses`, `momentum_mean_losses` with sigma = 0). Noisy gradients:
    by simulation on the held-out ``tune_seeds``, as Adam's alpha is tuned
    (`simulated_mean_log_scores`; the closed-form expected loss would tune log10 E[L], a
    different score). GD: a grid of steps up to 2/h_max (801 exact, 201 with noise) plus the
    asymptotically best 2/(h_max + h_min); heavy ball: a grid of (lr, mu) pairs (610 exact, 410
    with noise) plus Polyak's asymptotically optimal pair.
    """
    q = RACE_PROBLEMS[problem]
    w0 = start_point(q)
    # Simulation costs more than the closed form: coarser grids with noise keep a panel redraw fast.
    n_gd, n_lr = (201, 41) if sigma else (801, 61)
    gd_grid = np.append(np.geomspace(0.01, 2.0, n_gd) / max(q.h), best_fixed_step(q.h))
    lr_grid = np.geomspace(0.01, 2.0, n_lr) / max(q.h)
    mu_grid = np.array([0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95])
    lrs, mus = (g.ravel() for g in np.meshgrid(lr_grid, mu_grid))
    polyak = heavy_ball_parameters(q.h)
    lrs, mus = np.append(lrs, polyak[0]), np.append(mus, polyak[1])
    if sigma:
        gd_scores = simulated_mean_log_scores(q, w0, gd_grid, np.zeros_like(gd_grid), sigma, steps,
                                              tune_seeds)
        hb_scores = simulated_mean_log_scores(q, w0, lrs, mus, sigma, steps, tune_seeds)
    else:
        gd_scores = _mean_log_score(gd_mean_losses(q, w0, gd_grid, 0.0, steps), steps)
        hb_scores = _mean_log_score(momentum_mean_losses(q, w0, lrs, mus, 0.0, steps), steps)
    best_hb = int(np.argmin(hb_scores))
    return {"sgd": (float(gd_grid[np.argmin(gd_scores)]), 0.0),
            "heavy_ball": (float(lrs[best_hb]), float(mus[best_hb]))}


def race(
    problem: str, lr: float, beta1: float, beta2: float = 0.999, steps: int = RACE_STEPS,
    noise: float = 0.0, seed: int = 0, tune_seeds: tuple = TUNE_SEEDS,
) -> dict:
    """The four runs of the race: {name: (Trajectory, color, label)}.

    ``noise`` > 0 adds Gaussian noise of that standard deviation to every gradient (the same
    seeded draws for every method), which turns GD into SGD; GD's step and heavy ball's
    parameters are then re-tuned for that noise on ``tune_seeds`` (`tuned_steps`).
    """
    if problem not in RACE_PROBLEMS:
        raise ValueError(f"Unknown problem {problem!r}: choose one of {list(RACE_PROBLEMS)}.")
    q = RACE_PROBLEMS[problem]
    w0 = start_point(q)
    tuned = tuned_steps(problem, float(noise), int(steps), tuple(tune_seeds))
    lr_gd = tuned["sgd"][0]
    lr_hb, mu = tuned["heavy_ball"]
    # Short labels without α (the panel's title shows it): the legend stays the same while α
    # moves, and leaves the right half of the loss floor visible.
    gd_name = f"{'SGD' if noise else 'GD'}, step {lr_gd:.2f}"
    kw = dict(steps=steps, noise_std=noise, seed=seed)
    return {
        "sgd": (gradient_descent(q, w0, lr_gd, **kw), OPTIMIZER_COLORS["sgd"], gd_name),
        "heavy_ball": (
            heavy_ball_path(q, w0, lr_hb, mu, **kw),
            HEAVY_BALL_COLOR,
            f"heavy ball, step {lr_hb:.2f}, μ {mu:.2f}",
        ),
        "adagrad": (adagrad_path(q, w0, lr, **kw), OPTIMIZER_COLORS["adagrad"], "Adagrad"),
        "adam": (
            adam_path(q, w0, lr, beta1, beta2, **kw),
            OPTIMIZER_COLORS["adam"],
            f"Adam, β₁ {beta1:.2f}, β₂ {beta2:g}",
        ),
    }


def mean_log_loss(traj: Trajectory, start: int = RACE_STEPS // 2) -> float:
    """Mean of log10 L(w_t) over t >= start (floored at 1e-300): a time-averaged score."""
    if traj.diverged:
        return float("inf")
    return float(np.mean(np.log10(np.maximum(traj.losses[start:], 1e-300))))


def race_verdicts(lrs, beta1s, noise: float = 0.0, seeds=(0,), tune_seeds=TUNE_SEEDS) -> dict:
    """{(problem, lr, beta1): {method: array over seeds of the mean log10 loss, steps 50-100}}.

    With noise, SGD and heavy ball are tuned on ``tune_seeds`` (`tuned_steps`).
    """
    out = {}
    for problem in RACE_PROBLEMS:
        for lr in lrs:
            for beta1 in beta1s:
                scores = [
                    {k: mean_log_loss(tr) for k, (tr, *_) in race(
                        problem, lr, beta1, noise=noise, seed=seed, tune_seeds=tune_seeds).items()}
                    for seed in seeds
                ]
                out[problem, lr, beta1] = {k: np.array([s[k] for s in scores]) for k in scores[0]}
    return out


NOISY_ADAM_LRS = tuple(float(a) for a in np.round(np.geomspace(0.05, 1.0, 14), 4))


def noisy_race_comparison(
    noise: float = 0.5, beta1s=(0.0, 0.9), seeds=range(20), tune_seeds=TUNE_SEEDS,
    adam_lrs=NOISY_ADAM_LRS,
) -> dict:
    """Adam against tuned SGD with noisy gradients, judged by paired differences over seeds.

    Every method sees the same noise draws for a seed, so the comparison is paired. Every method
    is tuned for the race's score on ``tune_seeds``, seeds kept apart from the ``seeds`` it is
    then judged on: SGD's step and heavy ball's parameters on fine grids (`tuned_steps`), Adam's
    alpha (shared with Adagrad) on the grid ``adam_lrs``. Returns {(problem, beta1): {"lr":
    Adam's tuned alpha, "sgd_lr": SGD's tuned step, "scores": {method: array over seeds},
    "adam_minus_sgd": `stats.paired_difference` of the scores, "detectable": the smallest true
    difference this many seeds detect with 80 % power at the 5 % level
    (`stats.detectable_difference`)}}.
    """
    from course_utils.stats import detectable_difference, paired_difference

    seeds, tune_seeds = list(seeds), tuple(tune_seeds)
    if set(seeds) & set(tune_seeds):
        raise ValueError("The seeds that tune the methods must differ from the seeds that judge them.")
    out = {}
    for beta1 in beta1s:
        for problem, q in RACE_PROBLEMS.items():
            w0 = start_point(q)
            lr = min(adam_lrs, key=lambda a: np.mean([
                mean_log_loss(adam_path(q, w0, a, beta1, noise_std=noise, seed=s)) for s in tune_seeds
            ]))
            scores = race_verdicts([lr], [beta1], noise=noise, seeds=seeds,
                                   tune_seeds=tune_seeds)[problem, lr, beta1]
            diff = paired_difference(scores["adam"], scores["sgd"])
            sd = float(np.std(scores["adam"] - scores["sgd"], ddof=1))
            out[problem, beta1] = dict(
                lr=lr, sgd_lr=tuned_steps(problem, float(noise), RACE_STEPS, tune_seeds)["sgd"][0],
                scores=scores, adam_minus_sgd=diff, detectable=detectable_difference(sd, len(seeds)),
            )
    return out


START_ANGLES_DEG = np.arange(0.0, 180.0, 5.0)  # 36 directions; w -> -w runs the same race


def _batched_mean_log_loss(q: Quadratic, w0s: np.ndarray, step, steps: int) -> np.ndarray:
    """`mean_log_loss` (steps steps//2..steps) of ``step(w, g, t)`` run from every row of w0s."""
    w, losses = w0s, [q.loss(w0s)]
    for t in range(1, steps + 1):
        w = step(w, q.grad(w), t)
        losses.append(q.loss(w))
    return np.log10(np.maximum(np.array(losses[steps // 2 :]), 1e-300)).mean(axis=0)


def _adam_step(lr: float, beta1: float, beta2: float):
    """A fresh Adam ``step(w, g, t)`` (own moment state) for `_batched_mean_log_loss`."""
    m_state, v_state = [], []

    def step(w, g, t):
        return adam_update([w], [g], m_state, v_state, lr, beta1, beta2, 1e-8, t)[0][0]

    return step


def start_direction_sweep(
    lr: float, beta1: float, beta2: float = 0.999, angles_deg=START_ANGLES_DEG,
    steps: int = RACE_STEPS,
) -> dict:
    """Exact-gradient race from starts of RACE_W0's norm at ``angles_deg`` (eigen-coordinates).

    Returns the mean log10 losses (steps 50-100) per start, "gd" (GD at "gd_step", the grid step
    with the best score averaged over the starts; the same on both problems), "adam_aligned" and
    "adam_rotated", and the fractions of starts where
    rotated Adam beats GD ("rotated_beats_gd"), aligned Adam beats GD ("aligned_beats_gd") and
    rotated Adam is worse than aligned Adam
    ("rotated_worse_than_aligned").
    """
    angles = np.radians(np.asarray(angles_deg, dtype=np.float64))
    z0 = np.linalg.norm(RACE_W0) * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    aligned, rotated = RACE_PROBLEMS.values()
    # GD's step, like Adam's alpha, is one value for all starts: the grid step with the best
    # average score over the starts (its horizon and measure, exactly: `gd_mean_losses`).
    grid = np.geomspace(0.01, 2.0, 801) / max(aligned.h)
    by_start = np.stack([_mean_log_score(gd_mean_losses(aligned, z, grid, 0.0, steps), steps) for z in z0])
    lr_gd = float(grid[np.argmin(by_start.mean(axis=0))])
    out = {"gd": _batched_mean_log_loss(aligned, z0, lambda w, g, t: w - lr_gd * g, steps)}
    out["gd_step"] = lr_gd
    for name, q in (("adam_aligned", aligned), ("adam_rotated", rotated)):
        step = _adam_step(lr, beta1, beta2)
        out[name] = _batched_mean_log_loss(q, z0 @ q.Q.T, step, steps)
    out["rotated_beats_gd"] = float(np.mean(out["adam_rotated"] < out["gd"]))
    out["aligned_beats_gd"] = float(np.mean(out["adam_aligned"] < out["gd"]))
    out["rotated_worse_than_aligned"] = float(np.mean(out["adam_rotated"] > out["adam_aligned"]))
    return out


@functools.lru_cache(maxsize=8)
def _contour_grid(problem: str, n: int = 90):
    q = RACE_PROBLEMS[problem]
    xs, ys = np.linspace(*_XLIM, n), np.linspace(*_YLIM, int(n * 0.8))
    X, Y = np.meshgrid(xs, ys)
    Z = q.loss(np.stack([X, Y], axis=-1))
    return X, Y, Z, np.geomspace(1e-2, Z.max(), 10)


_METHODS = ("sgd", "heavy_ball", "adagrad", "adam")


class RaceDrawer:
    """Draws the race; ``setup``/``update`` let a SliderPanel change data without re-plotting.

    Left: contours and the four paths; right: loss per step (log scale, floored at 1e-20).
    Calling the object, ``RaceDrawer()(fig, **values)``, does both at once (for static figures).
    """

    def setup(self, fig) -> dict:
        # Fixed axes rectangles: tight_layout would cost a second full draw on every redraw.
        ax_path = fig.add_axes((0.075, 0.12, 0.385, 0.78))
        ax_loss = fig.add_axes((0.56, 0.12, 0.42, 0.78))
        ax_path.plot(0, 0, "*", color="black", markersize=12)
        (start,) = ax_path.plot(*RACE_W0, "s", color="black", markersize=7)
        ax_path.set(xlim=_XLIM, ylim=_YLIM, xlabel="$w_1$", ylabel="$w_2$", aspect="equal")
        ax_path.set(xticks=[-4, -2, 0, 2, 4], yticks=[-4, -2, 0, 2, 4])
        ax_path.text(0.02, 0.02, "heavy ball's first swings\nrun off the frame", transform=ax_path.transAxes,
                     fontsize=9, color=HEAVY_BALL_COLOR, va="bottom")
        paths, curves = {}, {}
        colors = dict(OPTIMIZER_COLORS, heavy_ball=HEAVY_BALL_COLOR)
        for name in _METHODS:
            # One artist per path (line and markers together) keeps the redraw fast.
            thin = name == "heavy_ball"  # its wide swings would hide the other paths
            # Adagrad's path starts along Adam's (both step about alpha per coordinate): drawn
            # thinner on top of Adam's wider one, both stay visible.
            lw, ms, z = {"heavy_ball": (0.8, 2.5, 1), "adagrad": (0.9, 1.8, 3),
                         "adam": (2.4, 4.0, 2)}.get(name, (1.3, 2.5, 2))
            (paths[name],) = ax_path.plot([], [], "-" if thin else "o-", color=colors[name],
                                          lw=lw, ms=ms, alpha=0.6 if thin else 1, zorder=z)
            (curves[name],) = ax_loss.plot([], [], color=colors[name], label=name)
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(_LOSS_FLOOR / 2, 1e3)
        log_axis(ax_loss)
        ax_loss.set(xlim=(0, RACE_STEPS), xticks=[0, 25, 50, 75, 100], xlabel="step t")
        ax_loss.set(ylabel="loss L(wₜ)  (floored at 1e-20)")
        ax_loss.set_title("loss per step")
        legend = ax_loss.legend(loc="lower left", fontsize=8.5)
        annotate_divergence(ax_loss, "a run diverged (stopped)")
        warning = ax_loss.texts[-1]
        warning.set_visible(False)
        return dict(
            ax_path=ax_path, ax_loss=ax_loss, paths=paths, curves=curves, legend=legend, warning=warning,
            problem=None, contour=None, start=start,
        )

    def update(
        self, state, lr=RACE_LR, beta1=RACE_BETA1, beta2=0.999, problem=RACE_DEFAULT, noise=0.0
    ) -> None:
        runs = race(problem, lr, beta1, beta2, noise=noise)  # validates the problem name
        ax_path = state["ax_path"]
        if problem != state["problem"]:
            if state["contour"] is not None:
                state["contour"].remove()
            X, Y, Z, levels = _contour_grid(problem)
            state["contour"] = ax_path.contour(
                X, Y, Z, levels=levels, colors="#9ab", linewidths=0.8, zorder=0
            )
            state["start"].set_data(*[[c] for c in start_point(RACE_PROBLEMS[problem])])
            state["problem"] = problem
        noisy = f", noise σ = {noise:.2g}" if noise else ""
        ax_path.set_title(f"{RACE_STEPS} steps, {problem}{noisy}")
        state["ax_loss"].set_title(f"loss per step, α = {lr:.3g}")
        for text, (name, (traj, _, label)) in zip(state["legend"].get_texts(), runs.items()):
            state["paths"][name].set_data(traj.path[:, 0], traj.path[:, 1])
            losses = np.maximum(traj.losses, _LOSS_FLOOR)
            state["curves"][name].set_data(np.arange(len(losses)), losses)
            text.set_text(label)
        state["warning"].set_visible(any(traj.diverged for traj, *_ in runs.values()))

    def __call__(self, fig, **values) -> None:
        self.update(self.setup(fig), **values)


BETA2_CHOICES = (0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)


def make_race_panel() -> SliderPanel:
    """Sliders: α (Adam and Adagrad), β₁, β₂, the problem (axis-aligned or rotated), and
    the gradient noise σ (0: exact gradients)."""
    wide = dict(style={"description_width": "110px"}, layout=widgets.Layout(width="340px"))
    controls = {
        "lr": log_slider("α (lr)", RACE_LR, 0.001, 1.0),  # the grid passes through the default
        "beta1": float_slider("β₁", RACE_BETA1, 0.0, 0.99, step=0.01),
        "beta2": widgets.SelectionSlider(
            options=BETA2_CHOICES, value=0.999, description="β₂", **wide
        ),
        "problem": widgets.Dropdown(
            options=list(RACE_PROBLEMS), value=RACE_DEFAULT, description="problem", **wide
        ),
        "noise": float_slider("σ (noise)", 0.0, 0.0, 1.0, step=0.05),
    }
    return SliderPanel(
        RaceDrawer(), controls, figsize=(12.5, 4.8),
        title="Adam vs GD (with and without heavy ball) vs Adagrad on a quadratic",
    )
