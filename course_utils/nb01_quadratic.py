"""Figures and the live panel of notebook 01 (the ill-conditioned quadratic)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.ticker import NullLocator

from .plotting import annotate_divergence, log_axis, plot_contours, plot_trajectory
from .quadratic import (
    Quadratic,
    Trajectory,
    best_fixed_step,
    gradient_descent,
    run_update_rule,
    sgd_loss_floor,
    steps_to_tolerance,
)
from .widgets import SliderPanel, float_slider, int_slider, log_slider

LOSS_FLOOR = 1e-16  # losses below this are drawn at it: machine precision, nothing to see below
LEGEND_GAP = 0.03  # axes fraction between the panel's legend and the lowest curve
BOX = 1.25


def _eigen_arrows(ax, q: Quadratic, scale: float = 0.9):
    """Arrows along the eigenvectors, labelled with their curvatures."""
    for i, (h, color) in enumerate(zip(q.h, ("#b00020", "#2a7f2a"))):
        v = q.Q[:, i] * scale
        ax.annotate(
            "",
            xy=v,
            xytext=(0, 0),
            arrowprops=dict(arrowstyle="->", color=color, lw=2, alpha=0.6),
            zorder=1,
        )
        label = "steep" if i == 0 else "flat"
        ax.text(
            v[0] * 1.08,
            v[1] * 1.08,
            f"$h_{i + 1}$={h:.3g}\n({label})",
            color=color,
            fontsize=9,
            ha="center",
            va="center",
        )


def draw_landscape(
    ax,
    q: Quadratic,
    traj: Trajectory | None = None,
    arrows: bool = True,
    box: float = BOX,
    color: str = "#d62728",
    label: str | None = None,
):
    """Contours of q, the optimum, eigenvector arrows and (optionally) a GD path on ``ax``."""
    plot_contours(ax, q.loss, (-box, box), (-box, box), levels=12, n=90)
    ax.plot(0, 0, "*", color="gold", markersize=16, markeredgecolor="black", zorder=5)
    if arrows:
        _eigen_arrows(ax, q)
    if traj is not None:
        plot_trajectory(ax, traj.path, color=color, label=label)
        if traj.diverged:
            annotate_divergence(ax, f"diverged at step {traj.diverged_at}")
    return ax


def decade_limits(low: float, high: float, margin: float = 3.0) -> tuple[float, float]:
    """Log-axis limits around [low, high] (both > 0), widened by ``margin`` and snapped to whole
    decades, so a live panel's axes change only when the data cross a decade (faster redraws)."""
    return (
        10.0 ** np.floor(np.log10(low / margin)),
        10.0 ** np.ceil(np.log10(high * margin)),
    )


def loss_limits(low: float, high: float, band: float = 0.0, min_decades: int = 2):
    """Log-axis limits that fit curves spanning [low, high] (both > 0), in whole decades.

    The top is the first whole decade at or above ``3 * high``. The bottom is the highest whole
    decade that leaves the lowest ``band`` of the axis's height (an axes fraction in [0, 1))
    below ``low``, where a legend in the lower corner does not cover the curves, and lies at
    least ``min_decades`` below the top. Whole decades keep the limits (and so the ticks) the
    same while the data move inside a decade, which keeps a live panel's redraws fast.
    """
    if not (0 < low <= high < np.inf):
        raise ValueError(f"need 0 < low <= high < inf, got low={low!r}, high={high!r}.")
    if not 0 <= band < 1:
        raise ValueError(f"band is an axes fraction in [0, 1), got {band!r}.")
    top = np.ceil(np.log10(3.0 * high) - 1e-9)
    # (log low - bottom) >= band * (top - bottom): the curves stay above the band
    bottom = np.floor((np.log10(low) - band * top) / (1.0 - band) + 1e-9)
    return float(10.0 ** min(bottom, top - min_decades)), float(10.0**top)


def _legend_band(ax, legend, cache: dict) -> float:
    """The fraction of ``ax``'s height that its lower-corner ``legend`` covers, plus LEGEND_GAP.

    Measured from the legend's drawn extent, and measured again only when the axes' place or
    the legend's font size changes (the live panel enlarges its text once, after its setup).
    """
    key = (ax.bbox.bounds, tuple(t.get_fontsize() for t in legend.get_texts()))
    if cache.get("key") != key:
        fig = ax.get_figure()
        canvas = fig.canvas
        renderer = canvas.get_renderer() if hasattr(canvas, "get_renderer") else fig._get_renderer()
        top = legend.get_window_extent(renderer).y1
        cache["key"], cache["band"] = key, (top - ax.bbox.y0) / ax.bbox.height + LEGEND_GAP
    return cache["band"]


def _loss_axis(ax):
    log_axis(ax, numticks=6)
    ax.set_xlabel("step k")
    ax.set_ylabel("loss $L(w_k)$")


def plot_divergence_threshold(fig, h=(1.0, 0.1), factors=(1.9, 1.99, 2.01, 2.1), steps=60):
    """Loss curves at lr = factor / h_max around the stability limit 2/h_max."""
    q = Quadratic(h)
    ax = fig.add_subplot()
    w0 = np.array([1.0, 1.0])
    for f in factors:
        traj = gradient_descent(q, w0, f / max(h), steps)
        ax.plot(
            np.maximum(traj.losses, LOSS_FLOOR),
            label=f"$\\alpha = {f}/h_1$" + (" (diverges)" if f > 2 else ""),
        )
    _loss_axis(ax)
    ax.set_title(
        f"Just below $2/h_1$ GD converges, just above it blows up ($h_1$={h[0]}, $h_2$={h[1]})"
    )
    ax.legend(ncol=2)
    return fig


def plot_rate_per_direction(fig, q: Quadratic, lr: float, steps: int = 80, w0=(1.0, 1.0)):
    """Measured |error| along each eigendirection against (1 - lr h_i)^k, log scale."""
    traj = gradient_descent(q, w0, lr, steps)
    z = np.abs(q.to_eigenbasis(traj.path))
    k = np.arange(len(z))
    z0 = np.abs(q.to_eigenbasis(np.asarray(w0, float)))
    ax = fig.add_subplot()
    for i, (h, color) in enumerate(zip(q.h, ("#b00020", "#2a7f2a"))):
        rho = abs(1 - lr * h)
        ax.plot(
            k,
            np.maximum(z[:, i], LOSS_FLOOR),
            "o",
            ms=4,
            color=color,
            alpha=0.6,
            label=f"measured, direction {i + 1} ($h_{i + 1}$={h:g})",
        )
        ax.plot(
            k,
            np.maximum(z0[i] * rho**k, LOSS_FLOOR),
            "-",
            color=color,
            label=f"predicted $|1-\\alpha h_{i + 1}|^k$ = {rho:.3f}$^k$",
        )
    _loss_axis(ax)
    ax.set_ylabel("|error| along eigendirection")
    ax.set_title(f"Each direction shrinks at its own rate ($\\alpha$ = {lr:g})")
    ax.legend(fontsize=9)
    return fig


def _power_of_ten(x: float) -> str:
    """Mathtext for x: ``10^{-6}`` for a power of ten, else the plain number."""
    e = round(float(np.log10(x)))
    return f"10^{{{e}}}" if np.isclose(x, 10.0**e) else f"{x:g}"


def plot_steps_vs_kappa(fig, kappas=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000), tol=1e-6):
    """Steps to shrink the error by ``tol`` at the best fixed step and at lr = 1/h_1, vs kappa."""
    w0 = np.array([1.0, 1.0])
    best, simple = [], []
    for kappa in kappas:
        q = Quadratic.from_kappa(kappa)
        best.append(steps_to_tolerance(q, w0, best_fixed_step(q.h), tol))
        simple.append(steps_to_tolerance(q, w0, 1.0 / max(q.h), tol))
    ax = fig.add_subplot()
    k = np.asarray(kappas, dtype=float)
    ax.loglog(
        k, np.maximum(best, 1), "o-", label="$\\alpha = 2/(h_1+h_2)$ (best fixed step)"
    )
    ax.loglog(k, np.maximum(simple, 1), "s-", label="$\\alpha = 1/h_1$")
    ax.loglog(
        k,
        k * np.log(1 / tol) / 2,
        "--",
        color="#555555",
        label="$\\frac{\\kappa}{2}\\ln(1/tol)$: linear in $\\kappa$",
    )
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set(
        xlabel="condition number $\\kappa$",
        ylabel=f"steps until $\\|w_k\\| \\leq {_power_of_ten(tol)}\\,\\|w_0\\|$",
        title="The cost of ill-conditioning: steps grow linearly with $\\kappa$",
    )
    ax.legend(fontsize=10)
    return fig, np.array(best), np.array(simple)


def plot_zigzag_grid(fig, kappas=(2, 50), lr_factors=(0.1, 1.8), angle_deg=45.0, steps=40):
    """The 2x2 zigzag figure: kappa x lr (in units of 1/lambda_max) on a 45-degree rotated bowl."""
    axes = fig.subplots(len(kappas), len(lr_factors))
    for r, kappa in enumerate(kappas):
        q = Quadratic.from_kappa(kappa, angle_deg=angle_deg)
        w0 = np.array([-1.0, 0.2])
        for c, f in enumerate(lr_factors):
            ax = axes[r, c]
            traj = gradient_descent(q, w0, f / max(q.h), steps)
            draw_landscape(ax, q, traj)
            ax.set_title(
                f"$\\kappa$ = {kappa}, $\\alpha$ = {f}/$h_1$, "
                f"loss after {steps}: {traj.losses[-1]:.1e}",
                fontsize=11,
            )
    fig.suptitle("Gradient descent on $L(w)=\\frac{1}{2}w^\\top H w$, H rotated 45°", fontsize=14)
    fig.tight_layout()
    return fig


# Step grid in units of 1/(largest curvature), the same for GD and the per-coordinate method.
STEP_GRID = (0.5, 1.0, 1.5, 1.8, 1.9, 1.95, 1.99)


def _tuned(q: Quadratic, w0, steps: int, scale: np.ndarray, lam_max: float) -> np.ndarray:
    """The step vector scale * c / lam_max, c from STEP_GRID, with the lowest loss after steps."""
    best = None
    for c in STEP_GRID:
        step = scale * c / lam_max
        loss = run_update_rule(q, w0, lambda w, g, t, s=step: w - s * g, steps).losses[-1]
        if best is None or loss < best[0]:
            best = (loss, step)
    return best[1]


def jacobi_step(q: Quadratic, w0=None, steps: int | None = None) -> np.ndarray:
    """Per-coordinate steps c d_i with d_i = 1 / H_ii, c in units of 1/lambda_max(D^1/2 H D^1/2).

    Without ``w0`` and ``steps``, c is the best asymptotic step 2/(lambda_max + lambda_min) of
    the scaled problem; with them, the value of STEP_GRID best after ``steps`` from ``w0``.
    """
    d = 1.0 / np.diag(q.H)
    ev = np.linalg.eigvalsh(np.sqrt(d)[:, None] * q.H * np.sqrt(d)[None, :])
    if w0 is None or steps is None:
        return d * best_fixed_step(ev)
    return _tuned(q, w0, steps, d, ev[-1])


def jacobi_kappa(q: Quadratic) -> float:
    """Condition number left after Jacobi scaling: kappa of D^(1/2) H D^(1/2), D = diag(1/H_ii)."""
    d = 1.0 / np.diag(q.H)
    ev = np.linalg.eigvalsh(np.sqrt(d)[:, None] * q.H * np.sqrt(d)[None, :])
    return float(ev[-1] / ev[0])


def preconditioning_runs(kappa=50.0, angle_deg=0.0, steps=30, w0=(-1.0, 0.6)):
    """GD and GD with Jacobi per-coordinate steps on one quadratic, each step tuned for ``steps``."""
    q = Quadratic.from_kappa(kappa, angle_deg=angle_deg)
    step = jacobi_step(q, w0, steps)
    lr_gd = float(_tuned(q, w0, steps, np.ones(1), max(q.h))[0])
    return {
        "q": q,
        "lr_gd": lr_gd,
        "gd": gradient_descent(q, w0, lr_gd, steps),
        "jacobi": run_update_rule(q, w0, lambda w, g, t: w - step * g, steps),
    }


def plot_preconditioning(fig, kappa=50.0, angles=(0.0, 10.0, 45.0), steps=30):
    """GD vs diagonal (Jacobi) preconditioning, per-coordinate steps 1/H_ii, at several angles."""
    axes = fig.subplots(1, len(angles))
    for ax, angle in zip(axes, angles):
        runs = preconditioning_runs(kappa, angle, steps)
        q, gd, pre = runs["q"], runs["gd"], runs["jacobi"]
        reach = max(BOX, 1.05 * float(np.abs(pre.path).max()))  # keep every point in view
        draw_landscape(ax, q, arrows=False, box=reach)  # contours fill the whole frame
        ax.plot(
            *gd.path.T,
            "-o",
            color="#d62728",
            lw=4,
            ms=5,
            alpha=0.45,
            label=f"GD, α = {runs['lr_gd'] * max(q.h):g}/$h_1$: loss {gd.losses[-1]:.1e}",
        )
        ax.plot(
            *pre.path.T,
            "--o",
            color="#2ca02c",
            lw=1.5,
            ms=2.5,
            label=f"per-coordinate: loss {pre.losses[-1]:.1e}",
        )
        ax.plot(*gd.path[0], "s", color="black", ms=7, label="start")
        ax.set_title(
            f"rotation {angle:.0f}°: diag(H) = ({q.H[0, 0]:.2f}, {q.H[1, 1]:.2f}),\n"
            f"κ after scaling {jacobi_kappa(q):.3g}",
            fontsize=11,
        )
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(
        "Per-coordinate steps $c/H_{ii}$ ($c$ tuned): their gain shrinks as the bowl rotates "
        f"($\\kappa$={kappa:g}, {steps} steps)"
    )
    fig.tight_layout()
    return fig


def sgd_mean_loss(q: Quadratic, w0, lr: float, steps: int, noise_std: float, seeds=range(2000)):
    """SGD with isotropic gradient noise on many seeds at once: loss per step, (steps+1, S).

    The same recursion as `gradient_descent` (w <- w - lr (H w + sigma xi)), vectorised over seeds.
    """
    seeds = list(seeds)
    rngs = [np.random.default_rng(seed) for seed in seeds]
    noise = np.stack([r.standard_normal((steps, q.dim)) for r in rngs], axis=1)  # (T, S, d)
    W = np.tile(np.asarray(w0, dtype=np.float64), (len(seeds), 1))
    losses = [q.loss(W)]
    for xi in noise:
        W = W - lr * (q.grad(W) + noise_std * xi)
        losses.append(q.loss(W))
    return np.array(losses)


def plot_sgd_noise_floor(
    fig, kappa=10.0, noise_std=0.1, lr_factors=(0.2, 0.5, 1.0), steps=400, seeds=range(2000)
):
    """SGD with gradient noise: mean loss over many seeds (solid), one seed (faint), theory."""
    q = Quadratic.from_kappa(kappa)
    ax = fig.add_subplot()
    w0 = np.array([1.0, 1.0])
    out = {}
    for f, color in zip(lr_factors, ("#1f77b4", "#ff7f0e", "#d62728")):
        lr = f / max(q.h)
        losses = sgd_mean_loss(q, w0, lr, steps, noise_std, seeds)
        ax.plot(losses[:, 0], color=color, alpha=0.25, lw=0.8)
        ax.plot(losses.mean(axis=1), color=color, lw=2, label=f"SGD, $\\alpha$ = {f}/$h_1$: mean")
        floor = sgd_loss_floor(q.h, lr, noise_std)
        ax.axhline(floor, color=color, ls="--", lw=1.5)
        out[f] = (losses, floor)
    ax.plot([], [], color="gray", alpha=0.4, lw=0.8, label="one seed (faint, same colours)")
    ax.plot(
        [],
        [],
        color="gray",
        ls="--",
        lw=1.5,
        label="theory $\\mathbb{E}[L]$ (dashed, same colours)",
    )
    _loss_axis(ax)
    ax.set_title(
        f"Noisy gradients ($\\sigma$={noise_std}): mean over {len(list(seeds))} seeds settles "
        "on the theory"
    )
    ax.legend(loc="upper right", fontsize=9)
    return fig, out


def level_ellipses(q: Quadratic, box: float, n_levels: int = 12, points: int = 120):
    """Contour lines of a 2-D quadratic, exactly: the ellipses L(w) = c, with their colours.

    The levels are geometric, from the largest loss on the square [-box, box]² down by 10⁴, and
    coloured like ``contour(..., cmap="Blues_r")`` colours them. On the level c the
    eigen-coordinates are z_i = √(2c / h_i) (cos θ, sin θ) and w = Q z; no grid is evaluated,
    so a redraw costs a fraction of ``contour``'s.
    """
    h = np.asarray(q.h)
    corners = np.array([[box, box], [box, -box]])
    top = float(q.loss(corners).max())  # a quadratic's maximum on a square is at a corner
    levels = np.geomspace(max(top * 1e-4, 1e-12), top, n_levels)
    theta = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.stack([np.cos(theta), np.sin(theta)], axis=-1)  # (points, 2)
    z = np.sqrt(2.0 * levels[:, None, None] / h[None, None, :]) * circle[None]
    segments = z @ q.Q.T  # (levels, points, 2) in w coordinates
    colors = plt.get_cmap("Blues_r")(Normalize(levels.min(), levels.max())(levels))
    return segments, colors


class GDPanelDrawer:
    """Draws notebook 01's panel: contours + GD path (left), loss vs step with theory (right).

    ``setup`` builds the axes and artists once; ``update`` only changes their data, which keeps
    a redraw fast (see course_utils.widgets). Titles use plain unicode, not mathtext, for speed.
    """

    def setup(self, fig):
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=(1, 1.25)))
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.22)
        ax1.set_xlim(-BOX, BOX)
        ax1.set_ylim(-BOX, BOX)
        ax1.set_aspect("equal", adjustable="box")
        ax1.set(xlabel="$w_1$", ylabel="$w_2$")
        ax1.plot(0, 0, "*", color="gold", markersize=16, markeredgecolor="black", zorder=5)
        st = {"ax1": ax1, "ax2": ax2}
        st["contours"] = ax1.add_collection(LineCollection([], linewidths=1.0), autolim=False)
        (st["path"],) = ax1.plot([], [], "o-", color="#d62728", lw=1.5, markersize=3, alpha=0.9)
        (st["start"],) = ax1.plot([], [], "s", color="black", markersize=7)
        st["arrows"] = [
            ax1.annotate(
                "",
                xy=(0, 0),
                xytext=(0, 0),
                arrowprops=dict(arrowstyle="->", color=c, lw=2, alpha=0.6),
                zorder=1,
            )
            for c in ("#b00020", "#2a7f2a")
        ]
        st["arrow_labels"] = [
            ax1.text(
                0,
                0,
                "",
                color=c,
                fontsize=9,
                ha="center",
                va="center",
                zorder=6,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1),
            )
            for c in ("#b00020", "#2a7f2a")
        ]
        st["diverged1"] = annotate_divergence(ax1, "")
        (st["loss"],) = ax2.plot([], [], color="#d62728", label="measured loss $L(w_k)$")
        (st["theory"],) = ax2.plot(
            [],
            [],
            "--",
            color="#555555",
            label="theory, noise-free: $\\sum_i \\frac{h_i}{2}(1-\\alpha h_i)^{2k} z_{i,0}^2$",
        )
        st["floor"] = ax2.axhline(1.0, color="#1f77b4", ls=":")
        st["floor_label"] = ax2.text(
            0.98,
            0.0,
            "SGD noise floor (theory)",
            color="#1f77b4",
            fontsize=9,
            ha="right",
            va="bottom",
            transform=ax2.get_yaxis_transform(),
        )
        _loss_axis(ax2)
        st["legend"] = ax2.legend(fontsize=9, loc="lower left")
        st["legend_band"] = {}
        st["diverged2"] = annotate_divergence(ax2, "", y=0.55)
        return st

    def update(self, st, kappa, lr_scaled, angle, steps, noise, w1_0, w2_0):
        ax1, ax2 = st["ax1"], st["ax2"]
        q = Quadratic.from_kappa(kappa, h_max=1.0, angle_deg=angle)
        lr = lr_scaled / max(q.h)
        w0 = np.array([w1_0, w2_0])
        traj = gradient_descent(q, w0, lr, steps, noise_std=noise, seed=0)

        segments, colors = level_ellipses(q, BOX)
        st["contours"].set_segments(segments)
        st["contours"].set_color(colors)
        st["path"].set_data(traj.path[:, 0], traj.path[:, 1])
        st["start"].set_data([w0[0]], [w0[1]])
        for i, (arrow, label) in enumerate(zip(st["arrows"], st["arrow_labels"])):
            # An eigenvector's sign is arbitrary: point away from the start, off GD's path.
            v = q.Q[:, i] * (0.9 if q.Q[:, i] @ w0 <= 0 else -0.9)
            arrow.xy = tuple(v)
            label.set_position((v[0] * 1.1, v[1] * 1.1))
            label.set_text(f"h{'₁₂'[i]} = {q.h[i]:.3g}")
        st["diverged1"].set_text(f"diverged at step {traj.diverged_at}" if traj.diverged else "")
        st["diverged1"].set_visible(traj.diverged)
        ax1.set_title(f"κ = {kappa:.3g},  α·h₁ = {lr_scaled:.2f},  rotation {angle:.0f}°")

        k = np.arange(len(traj.losses))
        losses = np.maximum(traj.losses, LOSS_FLOOR)
        st["loss"].set_data(k, losses)
        z0 = q.to_eigenbasis(w0)
        h = np.asarray(q.h)
        rho = np.abs(1 - lr * h)
        kk = np.arange(steps + 1)
        # Only evaluate theory where it stays below the divergence threshold: no overflow.
        safe = np.ones_like(kk, dtype=bool)
        if rho.max() > 1:
            safe = kk * np.log(rho.max()) < np.log(1e14)
        kk = kk[safe]
        predicted = 0.5 * np.sum(
            h[None, :] * (z0[None, :] * rho[None, :] ** kk[:, None]) ** 2, axis=1
        )
        st["theory"].set_data(kk, np.maximum(predicted, LOSS_FLOOR))
        floor = sgd_loss_floor(h, lr, noise) if noise > 0 else np.inf
        st["floor"].set_visible(bool(np.isfinite(floor)))
        st["floor_label"].set_visible(bool(np.isfinite(floor)))
        if np.isfinite(floor):
            st["floor"].set_ydata([floor, floor])
            st["floor_label"].set_y(floor)
        # The loss axis fits the curves (and the noise floor), with room for the legend below them.
        shown = np.concatenate([losses, np.maximum(predicted, LOSS_FLOOR), [floor]])
        shown = shown[np.isfinite(shown)]
        band = _legend_band(ax2, st["legend"], st["legend_band"])
        ax2.set_ylim(*loss_limits(shown.min(), shown.max(), band))
        ax2.set_xlim(0, 1.04 * steps)  # the last tick label stays inside the figure
        diverges = lr_scaled > 2
        ax2.set_title(
            "DIVERGES: α·h₁ > 2"
            if diverges
            else f"slowest factor max |1 - α·hᵢ| = {rho.max():.4f}",
            color="#b00020" if diverges else "black",
        )
        st["diverged2"].set_text(f"loss > 1e12 at step {traj.diverged_at}" if traj.diverged else "")
        st["diverged2"].set_visible(traj.diverged)


def make_gd_panel() -> SliderPanel:
    """Notebook 01's live panel: kappa, alpha*lambda_max, rotation, steps, noise, start point."""
    controls = {
        "kappa": log_slider("κ (cond.)", 10.0, 1.0, 1000.0),
        "lr_scaled": float_slider("α·h₁", 1.0, 0.05, 2.1, step=0.05),
        "angle": float_slider("rotation °", 45.0, 0.0, 90.0, step=5.0),
        "steps": int_slider("steps k", 60, 5, 400, step=5),
        "noise": float_slider("noise σ", 0.0, 0.0, 0.5, step=0.01),
        "w1_0": float_slider("w₁ start", -1.0, -1.0, 1.0, step=0.05),
        "w2_0": float_slider("w₂ start", 0.5, -1.0, 1.0, step=0.05),
    }
    return SliderPanel(
        GDPanelDrawer(),
        controls,
        figsize=(11.5, 4.8),
        title="Gradient descent on an ill-conditioned quadratic",
    )
