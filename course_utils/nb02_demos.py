"""Demos of notebook 02 (Adagrad): sparse features, the stall, the quadratic, and their panels.

* sparse features: online linear regression with a frequent and a rare binary feature, a batch
  of seeds at once (`sparse_data`, `sgd_sparse`, `adagrad_sparse`); SGD's whole trade-off over
  alpha against Adagrad's (`sparse_tradeoff`, `plot_sparse_tradeoff`);
* the stall on a long slope (`stall_run`, `plot_stall`, `stall_distance_left`); notebook 03
  reruns it with RMSProp;
* the quadratic of notebook 01: GD, diagonal Adagrad and full-matrix Adagrad from many start
  points (`quadratic_runs`, `start_point_study`, `plot_start_point_study`);

Every Adagrad and RMSProp run calls `course_utils.optimizers`; full-matrix Adagrad, which the
package does not provide, is `full_matrix_adagrad_update` below. All float64 numpy, seeded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator

from .optimizers import adagrad_update, rmsprop_update, validate_hyperparameters
from .plotting import OPTIMIZER_COLORS, log_axis
from .quadratic import Quadratic, gradient_descent, run_update_rule

# The sparse demo's setting: noisy targets, a rare feature active in 1 % of the examples.
SPARSE_SETTING = dict(p_frequent=0.9, p_rare=0.01, noise=0.5, steps=3000)
FULL_MATRIX_COLOR = "#9467bd"

# --------------------------------------------------------------------------------------------
# Sparse features
# --------------------------------------------------------------------------------------------


def sparse_data(seeds, p_frequent=0.9, p_rare=0.01, noise=0.5, steps=3000):
    """Features x (T, S, 2) and targets y (T, S) for seeds S: y = x·w* + noise, w* = (1, 1).

    x_1 = 1 with probability p_frequent, x_2 = 1 with probability p_rare, else 0.
    """
    for name, p in (("p_rare", p_rare), ("p_frequent", p_frequent)):
        if not 0 < p <= 1:
            raise ValueError(f"{name} must be a probability in (0, 1], got {p}.")
    if not noise >= 0 or int(steps) != steps or steps < 1:
        raise ValueError("noise must be >= 0 and steps a whole number >= 1.")
    xs, ys = [], []
    for seed in np.atleast_1d(seeds).tolist():
        rng = np.random.default_rng(seed)
        x = (rng.random((int(steps), 2)) < np.array([p_frequent, p_rare])).astype(np.float64)
        xs.append(x)
        ys.append(x.sum(axis=1) + noise * rng.standard_normal(int(steps)))
    return np.stack(xs, axis=1), np.stack(ys, axis=1)


def sgd_sparse(x, y, lrs) -> np.ndarray:
    """SGD paths w (A, T+1, S, 2) from w = 0, one per learning rate in ``lrs`` (A,)."""
    lrs = np.atleast_1d(np.asarray(lrs, dtype=np.float64))
    for lr in lrs.tolist():
        validate_hyperparameters(lr=lr)
    a = lrs[:, None, None]
    w = np.zeros((lrs.size,) + x.shape[1:])
    path = [w]
    for x_t, y_t in zip(x, y):
        residual = (w * x_t).sum(-1) - y_t
        w = w - a * residual[..., None] * x_t
        path.append(w)
    return np.stack(path, axis=1)


def adagrad_sparse(x, y, lr: float, eps: float = 1e-8):
    """Adagrad path w (T+1, S, 2) from w = 0 and its effective rates alpha/sqrt(G+eps) (T, S, 2)."""
    w, state = np.zeros(x.shape[1:]), []
    path, eta = [w], []
    for x_t, y_t in zip(x, y):
        grad = ((w * x_t).sum(-1) - y_t)[..., None] * x_t
        (w,), state = adagrad_update([w], [grad], state, lr=lr, eps=eps)
        path.append(w)
        eta.append(lr / np.sqrt(state[0] + eps))
    return np.stack(path), np.stack(eta)


def scalar_adagrad_sparse(x, y, lr, eps: float = 1e-8) -> np.ndarray:
    """Final w (S, 2) of Adagrad with ONE accumulator for all weights, G += |g|^2 (a control).

    Its step decays like Adagrad's, but it is the same for both coordinates, as in SGD. An array
    of learning rates (A,) runs them all at once and returns (A, S, 2).
    """
    lrs = np.asarray(lr, dtype=np.float64)
    for value in np.atleast_1d(lrs).tolist():
        validate_hyperparameters(lr=value, eps=eps)
    a = lrs[..., None, None]
    w = np.zeros(lrs.shape + x.shape[1:])
    G = np.zeros(lrs.shape + x.shape[1:-1] + (1,))
    for x_t, y_t in zip(x, y):
        grad = ((w * x_t).sum(-1) - y_t)[..., None] * x_t
        G = G + (grad * grad).sum(-1, keepdims=True)
        w = w - a * grad / np.sqrt(G + eps)
    return w


def _rms_error(w_final) -> np.ndarray:
    """RMS over seeds of w_T - w* for each coordinate: shape (..., 2)."""
    return np.sqrt(np.mean((w_final - 1.0) ** 2, axis=-2))


def sparse_tradeoff(
    lrs_sgd, lrs_adagrad, seeds=range(50), scalar=False, lrs_scalar=None, **setting
) -> dict:
    """Final errors (RMS over seeds) of both weights for each alpha of SGD and of Adagrad.

    ``scalar=True`` adds ``scalar``: the control `scalar_adagrad_sparse` over ``lrs_scalar``.
    Returns ``sgd`` (A, 2) and ``adagrad`` (B, 2) arrays of (frequent, rare) errors, the alphas,
    and the mean number of rare updates.
    """
    x, y = sparse_data(list(seeds), **{**SPARSE_SETTING, **setting})
    sgd_final = sgd_sparse(x, y, lrs_sgd)[:, -1]
    ada_final = np.stack([adagrad_sparse(x, y, lr)[0][-1] for lr in lrs_adagrad])
    extra = {}
    if scalar:
        extra["scalar"] = _rms_error(
scalar_adagrad_sparse(x, y, np.asarray(lrs_scalar, dtype=np.float64)))
        extra["lrs_scalar"] = np.asarray(lrs_scalar, dtype=np.float64)
    return dict(
        **extra,
        sgd=_rms_error(sgd_final),
        adagrad=_rms_error(ada_final),
        lrs_sgd=np.asarray(lrs_sgd, dtype=np.float64),
        lrs_adagrad=np.asarray(lrs_adagrad, dtype=np.float64),
        rare_updates=float(x[:, :, 1].sum(axis=0).mean()),
        setting={**SPARSE_SETTING, **setting},
        seeds=len(list(seeds)),
    )


def sgd_best_rare_error(tradeoff: dict, frequent_error: float) -> float:
    """SGD's smallest rare-weight error over its alphas whose frequent-weight error is at most
    ``frequent_error`` (inf if no alpha is that quiet)."""
    sgd = tradeoff["sgd"]
    quiet = sgd[:, 0] <= frequent_error
    return float(sgd[quiet, 1].min()) if quiet.any() else float("inf")


def rarity_study(
    p_values, seeds=range(50), lr_adagrad=0.3, lrs_sgd=None, lrs_adagrad=None, lrs_scalar=None
):
    """How Adagrad's edge on sparse features depends on the rare feature's frequency p.

    For each p: ``matched``, SGD's best rare error among its alphas at least as quiet on the
    frequent weight as Adagrad at ``lr_adagrad``, over Adagrad's rare error (the section's
    comparison); ``tuned``, SGD's over Adagrad's smallest total error sqrt(e_freq^2 + e_rare^2),
    each over its own alpha grid (SGD 25 values, Adagrad 20), split into ``decay`` (SGD's over
    scalar Adagrad's, one shared G, 24 alphas: what the decaying step alone gains) and
    ``per_coordinate`` (scalar Adagrad's over Adagrad's), so tuned = decay x per_coordinate.
    ``edge_of_grid`` lists the methods whose best alpha is an end of its grid.
    Returns {p: dict(matched, tuned, decay, per_coordinate, rare_updates, edge_of_grid)}.
    """
    lrs_sgd = np.geomspace(2e-4, 1.0, 25) if lrs_sgd is None else np.asarray(lrs_sgd)
    lrs_adagrad = np.geomspace(0.02, 2.0, 20) if lrs_adagrad is None else np.asarray(lrs_adagrad)
    lrs_scalar = np.geomspace(0.02, 8.0, 24) if lrs_scalar is None else np.asarray(lrs_scalar)
    out = {}
    for p in p_values:
        trade = sparse_tradeoff(
            lrs_sgd, [lr_adagrad, *lrs_adagrad], seeds, scalar=True, lrs_scalar=lrs_scalar,
            p_rare=p,
        )
        freq, rare = trade["adagrad"][0]
        totals = {
            "sgd": np.hypot(*trade["sgd"].T),
            "adagrad": np.hypot(*trade["adagrad"][1:].T),
            "scalar": np.hypot(*trade["scalar"].T),
        }
        best = {k: float(v.min()) for k, v in totals.items()}
        out[p] = dict(
            matched=sgd_best_rare_error(trade, freq) / rare,
            tuned=best["sgd"] / best["adagrad"],
            decay=best["sgd"] / best["scalar"],
            per_coordinate=best["scalar"] / best["adagrad"],
            rare_updates=trade["rare_updates"],
            edge_of_grid=[k for k, v in totals.items() if np.argmin(v) in (0, v.size - 1)],
        )
    return out


def plot_sparse_tradeoff(ax, tradeoff: dict, highlight: float | None = None):
    """SGD's trade-off curve over alpha and Adagrad's, in (frequent error, rare error), log-log."""
    names = {"sgd": "SGD", "adagrad": "Adagrad", "scalar": "scalar Adagrad (one G)"}
    colors = {**OPTIMIZER_COLORS, "scalar": "#7f7f7f"}
    for key, marker in (("sgd", "o"), ("adagrad", "s"), ("scalar", "^")):
        if key not in tradeoff:
            continue
        err, lrs = tradeoff[key], tradeoff[f"lrs_{key}"]
        name = names[key]
        ax.plot(
            err[:, 0],
            err[:, 1],
            f"-{marker}",
            color=colors[key],
            ms=5,
            label=f"{name}, α from {lrs.min():.3g} to {lrs.max():.3g}",
        )
        for i in (0, len(lrs) // 2, len(lrs) - 1):
            ax.annotate(
                f"α={lrs[i]:.3g}",
                err[i],
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
                color=colors[key],
            )
    if highlight is not None:
        i = int(np.argmin(np.abs(tradeoff["lrs_adagrad"] - highlight)))
        ax.plot(
            *tradeoff["adagrad"][i], "*", color="black", ms=14, label=f"Adagrad α = {highlight:g}"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_major_formatter(FormatStrFormatter("%g"))
        axis.set_minor_locator(NullLocator())
    ax.margins(x=0.12, y=0.08)
    ax.set_xlabel("frequent weight: final error (RMS over seeds)")
    ax.set_ylabel("rare weight: final error (RMS over seeds)")
    s = tradeoff["setting"]
    ax.set_title(
        f"Each curve: one method over α ({tradeoff['seeds']} seeds, rare feature "
        f"{100 * s['p_rare']:g} %, noise {s['noise']:g}, {s['steps']} steps)",
        y=1.0,
        fontsize=10,
    )
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * 2.5)  # room above the curves for the legend
    ax.legend(loc="upper right", fontsize=9)
    return ax


# --------------------------------------------------------------------------------------------
# The stall
# --------------------------------------------------------------------------------------------

STALL_LABELS = {
    "sgd": "SGD, α g",
    "adagrad": "Adagrad, α g / √G",
    "rmsprop": "RMSProp, α g / (√v + ε)",
}


def stall_run(
    distance=100.0, lr=0.5, steps=2000, delta=0.25, beta2=0.9, eps=1e-8, methods=("adagrad", "sgd")
) -> dict:
    """A long slope: the Huber loss of w - w* started ``distance`` away (|g| = delta there).

    Adagrad's steps are alpha/sqrt(t) whatever the slope, so it covers only about 2 alpha sqrt(T)
    in T steps; RMSProp (uncorrected EMA of g^2, beta2) keeps steps of about alpha. Returns
    ``t``, the distance left ``gap_<method>`` (T+1,) and step sizes ``step_<method>`` (T,).
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(beta2,))
    if not distance > 0 or not delta > 0:
        raise ValueError("distance and delta must be > 0.")
    out = dict(t=np.arange(steps + 1), distance=distance, lr=lr, delta=delta, beta2=beta2)
    for method in methods:
        if method not in STALL_LABELS:
            raise ValueError(f"method must be one of {sorted(STALL_LABELS)}, got {method!r}.")
        w, state = np.zeros(1), []
        path = [w]
        for t in range(1, steps + 1):
            g = np.clip(w - distance, -delta, delta)
            if method == "adagrad":
                (w,), state = adagrad_update([w], [g], state, lr=lr, eps=eps)
            elif method == "rmsprop":
                (w,), state = rmsprop_update([w], [g], state, lr=lr, beta2=beta2, eps=eps, t=t)
            else:
                w = w - lr * g
            path.append(w)
        path = np.concatenate(path)
        out[f"gap_{method}"] = distance - path
        out[f"step_{method}"] = np.abs(np.diff(path))
    return out


def stall_distance_left(lrs, distance=100.0, steps=2000, delta=0.25) -> np.ndarray:
    """Adagrad's distance still to go after ``steps`` for each alpha in ``lrs``."""
    return np.array([stall_run(distance, lr, steps, delta)["gap_adagrad"][-1] for lr in lrs])


def plot_stall(ax_gap, ax_step, run: dict, title: str | None = None):
    """Left: distance still to go. Right: step size |Δw| on log-log axes."""
    t = run["t"]
    for key, label in STALL_LABELS.items():
        if f"gap_{key}" not in run:
            continue
        if key == "sgd":
            label += f" (|g| = {run['delta']:g})"
        if key == "rmsprop":
            label += f", β₂ = {run['beta2']:g}"
        color = OPTIMIZER_COLORS[key]
        ax_gap.plot(t, run[f"gap_{key}"], color=color, label=label)
        ax_step.plot(t[1:], np.maximum(run[f"step_{key}"], 1e-6), color=color, label=label)
    ax_gap.axhline(0, color="black", lw=1)
    ax_gap.set_xlabel("step t")
    ax_gap.set_ylabel("distance to the optimum w* − w")
    ax_gap.set_title(title or f"Adagrad stalls on a long slope (α = {run['lr']:g})", y=1.0)
    ax_gap.legend(loc="upper right", fontsize=9)
    if "gap_rmsprop" in run:  # zoom on the last steps: the limit cycle around w*
        inset = ax_gap.inset_axes([0.45, 0.12, 0.52, 0.3])  # below the Adagrad curve
        last = slice(len(t) - 12, len(t))
        inset.plot(t[last], run["gap_rmsprop"][last], "o-", color=OPTIMIZER_COLORS["rmsprop"], ms=3)
        inset.axhline(0, color="black", lw=0.8)
        inset.set_title("RMSProp, last 12 steps", fontsize=8, y=1.0)
        inset.tick_params(labelsize=7)
    ax_step.plot(t[1:], run["lr"] / np.sqrt(t[1:]), ":", color="black", lw=1.2, label="α/√t")
    ax_step.set_xscale("log")
    ax_step.set_yscale("log")
    log_axis(ax_step, "x")
    log_axis(ax_step, "y")
    ax_step.set_ylim(1e-3, 4 * run["lr"])
    ax_step.set_xlabel("step t")
    ax_step.set_ylabel("step size |Δw|")
    ax_step.set_title("Step sizes (dotted: α/√t)", y=1.0)
    return ax_gap, ax_step


# --------------------------------------------------------------------------------------------
# The quadratic of notebook 01: diagonal and full-matrix Adagrad
# --------------------------------------------------------------------------------------------


def full_matrix_adagrad_update(w, g, G, lr: float, eps: float = 1e-8):
    """One full-matrix Adagrad step on a batch: G += g g^T;  w -= lr (G + eps I)^(-1/2) g.

    ``w``, ``g`` have shape (..., d) and ``G`` (..., d, d). Diagonal Adagrad keeps only the
    diagonal G_ii of this matrix. Returns (w, G).
    """
    validate_hyperparameters(lr=lr, eps=eps)
    G = G + g[..., :, None] * g[..., None, :]
    lam, V = np.linalg.eigh(G + eps * np.eye(g.shape[-1]))
    root_inv = np.einsum("...ij,...j,...kj->...ik", V, lam**-0.5, V)
    return w - lr * np.einsum("...ij,...j->...i", root_inv, g), G


def adagrad_step_fn(lr: float, eps: float = 1e-8, full_matrix: bool = False) -> Callable:
    """A ``step_fn(w, g, t)`` for `run_update_rule` that keeps Adagrad's G between calls."""
    validate_hyperparameters(lr=lr, eps=eps)
    state: list = []

    def step(w, g, t):
        if full_matrix:
            if not state:
                state.append(np.zeros(w.shape + w.shape[-1:]))
            w, state[0] = full_matrix_adagrad_update(w, g, state[0], lr, eps)
            return w
        params, _ = adagrad_update([w], [g], state, lr=lr, eps=eps)
        return params[0]

    return step


QUADRATIC_W0 = (-4.0, 3.0)
QUADRATIC_METHODS = {
    "gd": ("GD, step tuned for the horizon", OPTIMIZER_COLORS["gd"]),
    "adagrad": ("Adagrad (diagonal G)", OPTIMIZER_COLORS["adagrad"]),
    "full": ("full-matrix Adagrad", FULL_MATRIX_COLOR),
}
# Each method's grid (7 values each, the same budget): GD's step in units of 1/h_max up to the
# stability limit 2/h_max, Adagrad's alpha (a distance) by factors of 2.
GD_STEP_GRID = (0.5, 1.0, 1.5, 1.8, 1.9, 1.95, 1.99)
ADAGRAD_LR_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
LOG_FLOOR = -30.0  # log10 loss ratios below this are rounding-level ties when tuning


def _gd_log_ratios(q: Quadratic, W0, lrs, steps: int) -> np.ndarray:
    """log10(L_T / L_0) of GD at every step in ``lrs`` (A,) from every start in W0: (A, n)."""
    W0 = np.atleast_2d(np.asarray(W0, dtype=np.float64))
    W = np.repeat(W0[None], len(lrs), axis=0)
    a = np.asarray(lrs, dtype=np.float64)[:, None, None]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            W = W - a * q.grad(W)
        ratio = q.loss(W) / q.loss(W0)
    return np.log10(np.clip(np.nan_to_num(ratio, nan=np.inf), 1e-300, np.inf))


def horizon_tuned_gd_step(q: Quadratic, W0, steps: int, grid=GD_STEP_GRID) -> float:
    """GD's step (absolute) from ``grid`` x 1/h_max with the lowest median log10(L_T/L_0) over W0."""
    scores = np.median(
        np.maximum(_gd_log_ratios(q, W0, np.asarray(grid) / max(q.h), steps), LOG_FLOOR), axis=1
    )
    return float(grid[int(np.argmin(scores))] / max(q.h))


def _adagrad_log_ratios(q: Quadratic, W0, lr: float, steps: int, eps: float = 1e-8):
    W0 = np.atleast_2d(np.asarray(W0, dtype=np.float64))
    W, state = W0.copy(), []
    for _ in range(int(steps)):
        (W,), state = adagrad_update([W], [q.grad(W)], state, lr=lr, eps=eps)
    return np.log10(np.maximum(q.loss(W) / q.loss(W0), 1e-300))


def tuned_adagrad_lr(q: Quadratic, W0, steps: int, grid=ADAGRAD_LR_GRID) -> float:
    """Adagrad's alpha from ``grid`` with the lowest median log10(L_T/L_0) over the starts W0."""
    scores = [
        np.median(np.maximum(_adagrad_log_ratios(q, W0, lr, steps), LOG_FLOOR)) for lr in grid
    ]
    return float(grid[int(np.argmin(scores))])


def tuned_steps(kappa=100.0, angle_deg=45.0, steps=60, n_starts=24, radius=5.0) -> dict:
    """Both methods tuned the same way for one bowl and horizon: {"gd": step, "adagrad": alpha}.

    Each gets the value of its 7-point grid with the lowest median log10(L_T/L_0) over the
    `start_points`; GD's step is returned in absolute units (h_max = 1 here).
    """
    q = Quadratic.from_kappa(kappa, angle_deg=angle_deg)
    W0 = start_points(n_starts, radius)
    return {"gd": horizon_tuned_gd_step(q, W0, steps), "adagrad": tuned_adagrad_lr(q, W0, steps)}


def quadratic_runs(
    kappa=100.0, angle_deg=0.0, lr=2.0, steps=60, w0=QUADRATIC_W0, lr_gd: float | None = None
) -> dict:
    """GD, diagonal and full-matrix Adagrad (alpha = lr) from ``w0``.

    GD's step is ``lr_gd``; by default the step of `GD_STEP_GRID` best for this start and horizon.
    """
    q = Quadratic.from_kappa(kappa, h_max=1.0, angle_deg=angle_deg)
    if lr_gd is None:
        lr_gd = horizon_tuned_gd_step(q, [w0], steps)
    return {
        "q": q,
        "lr_gd": lr_gd,
        "gd": gradient_descent(q, w0, lr_gd, steps),
        "adagrad": run_update_rule(q, w0, adagrad_step_fn(lr), steps),
        "full": run_update_rule(q, w0, adagrad_step_fn(lr, full_matrix=True), steps),
    }


def start_points(n: int = 24, radius: float = 5.0) -> np.ndarray:
    """``n`` start points evenly spaced on a circle of ``radius`` around the optimum, (n, 2)."""
    angle = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def log_loss_ratios(q: Quadratic, W0, lr=2.0, steps=60, eps=1e-8, lr_gd=None) -> dict:
    """log10(L_T / L_0) from each start point in W0 (n, 2), for GD, Adagrad and full-matrix.

    GD runs at ``lr_gd`` (default: `horizon_tuned_gd_step` over these starts and ``steps``).
    """
    if lr_gd is None:
        lr_gd = horizon_tuned_gd_step(q, W0, steps)
    G = np.zeros(W0.shape + W0.shape[-1:])
    W = np.array(W0, dtype=np.float64)
    for _ in range(steps):
        W, G = full_matrix_adagrad_update(W, q.grad(W), G, lr, eps)
    start = q.loss(W0)
    return {
        "gd": _gd_log_ratios(q, W0, [lr_gd], steps)[0],
        "adagrad": _adagrad_log_ratios(q, W0, lr, steps, eps),
        "full": np.log10(np.maximum(q.loss(W) / start, 1e-300)),
    }


def start_point_study(
    kappa=100.0, angles=(0.0, 45.0), lr=2.0, steps=60, n_starts=24, radius=5.0, lr_gd=None
) -> dict:
    """`log_loss_ratios` from `start_points` at each rotation angle: {angle: {method: (n,)}}."""
    W0 = start_points(n_starts, radius)
    return {
        angle: log_loss_ratios(
            Quadratic.from_kappa(kappa, angle_deg=angle), W0, lr, steps, lr_gd=lr_gd
        )
        for angle in angles
    }


def plot_start_point_study(ax, study: dict, steps: int = 60):
    """One dot per start point: log10 of the loss ratio after ``steps``, per method and angle."""
    width = 0.25
    for a, ratios in enumerate(study.values()):
        for m, (key, (label, color)) in enumerate(QUADRATIC_METHODS.items()):
            x = a + (m - 1) * width
            r = np.maximum(ratios[key], LOG_FLOOR)  # below: rounding level, drawn on the floor
            jitter = np.linspace(-0.06, 0.06, r.size)
            ax.plot(
                x + jitter, r, "o", color=color, ms=4, alpha=0.7, label=label if a == 0 else None
            )
            ax.plot([x - 0.1, x + 0.1], [np.median(r)] * 2, color="black", lw=2)
    ax.set_xticks(range(len(study)), [f"rotation {angle:g}°" for angle in study])
    ax.set_ylabel(f"log₁₀ (loss after {steps} steps / start loss)")
    ax.set_title("One dot per start point on a circle (black bars: medians)", y=1.0)
    ax.axhline(LOG_FLOOR, color="#888888", ls=":", lw=1)
    ax.text(
        0.5,
        LOG_FLOOR + 0.6,
        "rounding level (10⁻³⁰ and below)",
        ha="center",
        fontsize=8,
        color="#555555",
    )
    ax.set_ylim(LOG_FLOOR - 2, 1)
    ax.legend(loc="center", bbox_to_anchor=(0.5, 0.5), fontsize=9)
    return ax
