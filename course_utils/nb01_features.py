"""Notebook 01's real-data example: feature scaling makes least squares ill-conditioned.

Features: the mean pixel value of each 7x7 block of a Fashion-MNIST image (16 features),
standardised; target: 1 for trousers, 0 otherwise; model: linear least squares with a bias,
L(w) = 1/(2n) ||A w - t||^2, Hessian H = A^T A / n. Multiplying one feature by ``scale`` (a
change of units) multiplies its row and column of H by ``scale`` and ``scale**2``, so kappa grows
like scale**2 (`scaled_problem`, `feature_scaling_study`). GD and Adagrad, each at the value of
its grid best for the horizon shown, on rescaled and standardised features (`course_utils.optimizers.adagrad_update`) are compared by
their excess loss (`excess_loss_curve`, `plot_feature_scaling`).
"""

from __future__ import annotations

import numpy as np

from .optimizers import adagrad_update
from .plotting import OPTIMIZER_COLORS, log_axis
from .quadratic import best_fixed_step

TROUSER = 1  # Fashion-MNIST class index of "Trouser"


def block_features(images, n: int = 2000, block: int = 7):
    """Standardised block means (n, (28/block)^2) and targets (n,) of the first ``n`` images."""
    X = np.asarray(images[:n], dtype=np.float64).reshape(n, 28, 28)
    k = 28 // block
    F = X.reshape(n, k, block, k, block).mean(axis=(2, 4)).reshape(n, k * k)
    return (F - F.mean(axis=0)) / F.std(axis=0)


def scaled_problem(F, t, scale: float = 1.0, feature: int = 0):
    """Hessian H and linear term b of the least-squares loss with feature ``feature`` x scale.

    A bias column of ones is appended. L(w) = 1/2 w^T H w - b^T w + const.
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}.")
    A = np.array(F, dtype=np.float64)
    A[:, feature] *= scale
    A = np.hstack([A, np.ones((len(A), 1))])
    return A.T @ A / len(A), A.T @ np.asarray(t, dtype=np.float64) / len(A)


def condition_number(H) -> float:
    """lambda_max / lambda_min of a symmetric positive definite H."""
    ev = np.linalg.eigvalsh(H)
    return float(ev[-1] / ev[0])


def excess_loss_curve(H, b, method: str = "gd", lr: float | None = None, steps: int = 300):
    """(L(w_k) - L*) / (L(w_0) - L*) for k = 0..steps from w_0 = 0.

    ``method="gd"``: GD at ``lr`` (default: its best fixed step 2/(lambda_max + lambda_min));
    ``"adagrad"``: Adagrad with alpha = ``lr`` (course formula, eps = 1e-8).
    """
    if method not in ("gd", "adagrad"):
        raise ValueError(f"method must be 'gd' or 'adagrad', got {method!r}.")
    w_star = np.linalg.solve(H, b)

    def excess(w):
        d = w - w_star
        return 0.5 * d @ H @ d

    if lr is None:
        if method == "adagrad":
            raise ValueError("Adagrad needs its alpha: pass lr.")
        lr = best_fixed_step(np.linalg.eigvalsh(H))
    w, state = np.zeros(len(b)), []
    start = excess(w)
    out = [1.0]
    for _ in range(steps):
        g = H @ w - b
        if method == "gd":
            w = w - lr * g
        else:
            (w,), state = adagrad_update([w], [g], state, lr=lr)
        out.append(excess(w) / start)
    return np.array(out)


# Each method's grid, 7 values (the same budget): GD's step in units of 1/lambda_max up to
# the stability limit 2/lambda_max, Adagrad's alpha by factors of about 3.
GD_STEP_GRID = (0.5, 1.0, 1.5, 1.8, 1.9, 1.95, 1.99)
ADAGRAD_LR_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def feature_scaling_study(
    F, t, scales=(1.0, 10.0, 100.0), steps=300, gd_grid=GD_STEP_GRID, adagrad_lrs=ADAGRAD_LR_GRID
):
    """For each scale: kappa, and GD's and Adagrad's excess-loss curves, each method tuned.

    Both are tuned the same way, for the measure the figure shows: the value of its grid with
    the lowest excess loss after ``steps``. GD's grid is in units of 1/lambda_max(H).
    Returns {scale: dict(kappa, gd, gd_step, gd_asymptotic, adagrad, adagrad_lr)}; ``gd_step``
    is in units of 1/lambda_max, ``gd_asymptotic`` is GD at 2/(lambda_max + lambda_min).
    """
    out = {}
    for scale in scales:
        H, b = scaled_problem(F, t, scale)
        lam_max = np.linalg.eigvalsh(H)[-1]
        gd = {c: excess_loss_curve(H, b, "gd", c / lam_max, steps) for c in gd_grid}
        ada = {lr: excess_loss_curve(H, b, "adagrad", lr, steps) for lr in adagrad_lrs}
        best_gd = min(gd, key=lambda c: gd[c][-1])
        best_ada = min(ada, key=lambda lr: ada[lr][-1])
        out[scale] = dict(
            kappa=condition_number(H),
            gd=gd[best_gd],
            gd_step=best_gd,
            gd_asymptotic=excess_loss_curve(H, b, "gd", None, steps),
            adagrad=ada[best_ada],
            adagrad_lr=best_ada,
        )
    return out


def plot_feature_scaling(ax_kappa, ax_loss, study: dict):
    """Left: kappa against the scale (with a scale^2 line). Right: excess loss at the largest scale."""
    scales = np.array(list(study))
    kappas = np.array([r["kappa"] for r in study.values()])
    ax_kappa.loglog(scales, kappas, "o-", color="black", label="κ of the least-squares Hessian")
    ax_kappa.loglog(
        scales, kappas[-1] * (scales / scales[-1]) ** 2, "--", color="#888888", label="∝ scale²"
    )
    ax_kappa.set_xlabel("scale of feature 1 (change of units)")
    ax_kappa.set_ylabel("condition number κ")
    ax_kappa.set_title("Rescaling one feature: κ grows like scale²", y=1.0)
    ax_kappa.legend(loc="upper left", fontsize=9)
    s_big = scales[-1]
    big, base = study[s_big], study[scales[0]]
    k = np.arange(big["gd"].size)
    ax_loss.plot(
        k,
        big["gd"],
        color=OPTIMIZER_COLORS["gd"],
        label=f"GD (α = {big['gd_step']:g}/$\\lambda_{{max}}$), feature 1 × {s_big:g}",
    )
    ax_loss.plot(
        k,
        base["gd"],
        "--",
        color=OPTIMIZER_COLORS["gd"],
        label=f"GD (α = {base['gd_step']:g}/$\\lambda_{{max}}$), standardised",
    )
    ax_loss.plot(
        k,
        big["adagrad"],
        color=OPTIMIZER_COLORS["adagrad"],
        label=f"Adagrad (α = {big['adagrad_lr']:g}), feature 1 × {s_big:g}",
    )
    ax_loss.plot(
        k,
        base["adagrad"],
        "--",
        color=OPTIMIZER_COLORS["adagrad"],
        label=f"Adagrad (α = {base['adagrad_lr']:g}), standardised",
    )
    ax_loss.set_yscale("log")
    log_axis(ax_loss)
    ax_loss.set_xlabel("step k")
    ax_loss.set_ylabel("relative excess loss (L − L*) / (L₀ − L*)")
    ax_loss.set_ylim(bottom=1e-5)  # room for the legend below the curves
    ax_loss.set_title("Standardising undoes it; Adagrad only part of it", y=1.0)
    ax_loss.legend(loc="lower left", fontsize=9)
    return ax_kappa, ax_loss
