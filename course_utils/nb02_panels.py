"""Slider panels of notebook 02's demos: sparse features and Adagrad on the quadratic.

`make_sparse_panel` (one seed of `nb02_demos.sparse_data`), `make_quadratic_panel` (GD, diagonal
and full-matrix Adagrad, `nb02_demos.quadratic_runs`) and `quadratic_comparison_figure`, the
panel's view at several rotation angles as one static figure.
"""

from __future__ import annotations

import numpy as np

from .nb02_demos import (
    QUADRATIC_METHODS,
    QUADRATIC_W0,
    SPARSE_SETTING,
    quadratic_runs,
    sparse_data,
)
from .optimizers import adagrad_update, validate_hyperparameters
from .plotting import OPTIMIZER_COLORS, annotate_divergence, display_points, log_axis
from .widgets import SliderPanel, float_slider, int_slider, log_slider

# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------


def one_seed_runs(x, y, lr_sgd: float, lr_adagrad: float, eps: float = 1e-8):
    """``sgd_sparse`` and ``adagrad_sparse`` for one seed, x (T, 2) and y (T,), on Python floats.

    Returns the SGD and Adagrad paths (T+1, 2) and Adagrad's rates alpha/sqrt(G+eps) (T, 2): the
    same numbers, about 10x faster than NumPy on arrays of two (the live panel redraws with it).
    """
    validate_hyperparameters(lr=lr_sgd)
    sgd, ada, state = [0.0, 0.0], [0.0, 0.0], []
    sgd_path, ada_path, G = [sgd], [list(ada)], []  # adagrad_update updates ada in place
    for (x1, x2), y_t in zip(x.tolist(), y.tolist()):
        r = sgd[0] * x1 + sgd[1] * x2 - y_t
        sgd = [sgd[0] - lr_sgd * r * x1, sgd[1] - lr_sgd * r * x2]
        r = ada[0] * x1 + ada[1] * x2 - y_t
        ada, state = adagrad_update(ada, [r * x1, r * x2], state, lr=lr_adagrad, eps=eps)
        sgd_path.append(sgd)
        ada_path.append(list(ada))
        G.append(list(state))
    eta = lr_adagrad / np.sqrt(np.array(G) + eps)
    return np.array(sgd_path), np.array(ada_path), eta


class SparseDrawer:
    """Panel drawer for the sparse-feature demo, one seed (incremental: see widgets.py)."""

    steps = SPARSE_SETTING["steps"]

    def setup(self, fig):
        ax_lr, ax_w = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
        ada, sgd = OPTIMIZER_COLORS["adagrad"], OPTIMIZER_COLORS["sgd"]
        st = {"ax_lr": ax_lr, "ax_w": ax_w}
        (st["lr_freq"],) = ax_lr.plot([], [], color=ada, lw=1.5, label="Adagrad, frequent")
        (st["lr_rare"],) = ax_lr.plot([], [], color=ada, lw=2.5, ls="--", label="Adagrad, rare")
        (st["lr_sgd"],) = ax_lr.plot([], [], color=sgd, lw=1.5, label="SGD, both")
        (st["active"],) = ax_lr.plot([], [], "|", color="black", ms=10, label="rare active")
        ax_lr.set_yscale("log")
        log_axis(ax_lr)
        ax_lr.set_ylim(1e-4, 10)  # the smallest α of both sliders stays above the spine
        ax_lr.set_xlim(0, self.steps)
        ax_lr.locator_params(axis="x", nbins=5)
        ax_lr.set_xlabel("step t")
        ax_lr.set_ylabel("per-coordinate learning rate")
        ax_lr.set_title("The rare coordinate keeps a large step", y=1.0)
        ax_lr.legend(loc="upper right", fontsize=9)  # above every rate the sliders allow but α = 1
        for key, color, name in (("sgd", sgd, "SGD"), ("ada", ada, "Adagrad")):
            (st[f"{key}_rare"],) = ax_w.plot([], [], color=color, lw=2.5, label=name)
            (st[f"{key}_freq"],) = ax_w.plot([], [], color=color, lw=1, alpha=0.7)
        ax_w.axhline(1.0, color="black", lw=1, ls=":", label="w* = 1")
        ax_w.set_ylim(-0.1, 1.8)
        ax_w.set_xlim(0, self.steps)
        ax_w.locator_params(nbins=5)
        ax_w.set_xlabel("step t")
        ax_w.set_ylabel("weight (thick: rare, thin: frequent)")
        st["title_w"] = ax_w.set_title("", y=1.0)
        ax_w.legend(loc="lower right", fontsize=9)
        return st

    def update(self, st, p_rare, lr_adagrad, lr_sgd, seed=0):
        x, y = sparse_data([seed], **{**SPARSE_SETTING, "p_rare": p_rare})
        x, y = x[:, 0], y[:, 0]
        w_sgd, w_ada, eta = one_seed_runs(x, y, lr_sgd, lr_adagrad)
        t = np.arange(1, self.steps + 1)
        lr_rare = np.where(np.cumsum(x[:, 1]) > 0, eta[:, 1], np.nan)
        active = np.flatnonzero(x[:, 1])
        # 3000 steps on a plot 350 px wide: display_points draws the same lines from 1000 points.
        st["lr_freq"].set_data(*display_points(t, eta[:, 0]))
        st["lr_rare"].set_data(*display_points(t, lr_rare))
        st["lr_sgd"].set_data([0, self.steps], [lr_sgd, lr_sgd])
        st["active"].set_data(t[active], lr_rare[active])
        ts = np.arange(self.steps + 1)
        for key, w in (("sgd", w_sgd), ("ada", w_ada)):
            # Clip for display only: a too-large α makes SGD oscillate far off the axes.
            st[f"{key}_rare"].set_data(*display_points(ts, np.clip(w[:, 1], -1, 3)))
            st[f"{key}_freq"].set_data(*display_points(ts, np.clip(w[:, 0], -1, 3)))
        st["title_w"].set_text(f"{active.size} updates of the rare weight in {self.steps} steps")


def make_sparse_panel() -> SliderPanel:
    """The sparse-feature demo with sliders for the rare feature's frequency and both α."""
    return SliderPanel(
        SparseDrawer(),
        {
            "p_rare": log_slider("p (rare)", SPARSE_SETTING["p_rare"], 0.002, 0.5),
            "lr_adagrad": log_slider("α Adagrad", 0.3, 0.01, 1.0),
            "lr_sgd": log_slider("α SGD", 0.05, 0.001, 1.0),
        },
        figsize=(12, 4.6),
        title="Sparse features: SGD vs Adagrad (one seed)",
    )


class QuadraticDrawer:
    """Panel drawer: GD and both Adagrads on the quadratic; contours redrawn when κ or angle move."""

    def __init__(self, n: int = 161, lim: float = 5.0):
        self.lim = float(lim)
        xs = np.linspace(-self.lim, self.lim, n)
        X, Y = np.meshgrid(xs, xs)
        self.X, self.Y, self.W = X, Y, np.stack([X, Y], axis=-1)

    def setup(self, fig):
        ax_path, ax_loss = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.2)
        st = {"ax_path": ax_path, "ax_loss": ax_loss, "contours": None, "key": None}
        ax_path.set_xlim(-self.lim, self.lim)
        ax_path.set_ylim(-self.lim, self.lim)
        ax_path.set_aspect("equal", adjustable="box")
        ax_path.locator_params(nbins=5)
        ax_path.set_xlabel("w₁")
        ax_path.set_ylabel("w₂")
        ax_path.plot([0], [0], "*", color="black", ms=12)
        (st["start"],) = ax_path.plot([], [], "s", color="black", ms=7, label="start")
        for key, (label, color) in QUADRATIC_METHODS.items():
            style = "--" if key == "full" else "-"
            (st[f"path_{key}"],) = ax_path.plot(
                [], [], style, marker="o", color=color, lw=1.5, ms=2, label=label
            )
            (st[f"loss_{key}"],) = ax_loss.plot([], [], style, color=color, label=label)
        ax_path.legend(loc="lower right", fontsize=9)
        st["title"] = ax_path.set_title("", y=1.0)
        st["diverged"] = annotate_divergence(ax_loss, "")
        ax_loss.set_yscale("log")
        log_axis(ax_loss)
        ax_loss.set_ylim(1e-17, 1e3)  # the 1e-16 floor above the bottom spine
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss L(w)")
        st["loss_title"] = ax_loss.set_title("", y=1.0)
        ax_loss.legend(loc="lower left", fontsize=9)  # the runs start at the top left
        return st

    def update(
        self,
        st,
        lr,
        angle_deg,
        kappa,
        steps,
        w1_0=QUADRATIC_W0[0],
        w2_0=QUADRATIC_W0[1],
        lr_gd=None,
    ):
        # GD's step: the best of its grid for this start and horizon unless given.
        runs = quadratic_runs(kappa, angle_deg, lr, steps, w0=(w1_0, w2_0), lr_gd=lr_gd)
        q = runs["q"]
        if st["key"] != (kappa, angle_deg):
            if st["contours"] is not None:
                st["contours"].remove()
            Z = q.loss(self.W)
            levels = np.geomspace(max(Z.max() * 1e-5, 1e-12), Z.max(), 14)
            st["contours"] = st["ax_path"].contour(
                self.X, self.Y, Z, levels=levels, cmap="Blues_r", linewidths=1.0
            )
            st["key"] = (kappa, angle_deg)
        st["start"].set_data([w1_0], [w2_0])
        notes = []
        for key, (label, _) in QUADRATIC_METHODS.items():
            traj = runs[key]
            st[f"path_{key}"].set_data(traj.path[:, 0], traj.path[:, 1])
            st[f"loss_{key}"].set_data(np.arange(traj.losses.size), np.maximum(traj.losses, 1e-16))
            if traj.diverged:
                notes.append(f"{label} diverged at step {traj.diverged_at}")
        st["diverged"].set_text("\n".join(notes))
        st["diverged"].set_visible(bool(notes))
        st["ax_loss"].set_xlim(0, 1.04 * steps)  # the last tick label stays inside
        st["title"].set_text(f"κ = {q.kappa:.3g}, axes rotated by {angle_deg:g}°")
        st["loss_title"].set_text(f"Loss (floored at 1e-16); GD's step {runs['lr_gd']:.3g}$/h_1$")


def make_quadratic_panel() -> SliderPanel:
    """Adagrad vs GD on the quadratic: sliders for α, rotation, κ, steps and the start point."""
    return SliderPanel(
        QuadraticDrawer(),
        {
            "lr": log_slider("α (Adagrad)", 2.0, 0.01, 10.0),
            "angle_deg": float_slider("rotation (°)", 0.0, 0.0, 90.0, step=5.0),
            "kappa": log_slider("κ", 100.0, 1.0, 1000.0),
            "steps": int_slider("steps", 60, 5, 200),
            "w1_0": float_slider("w₁ start", QUADRATIC_W0[0], -5.0, 5.0, step=0.5),
            "w2_0": float_slider("w₂ start", QUADRATIC_W0[1], -5.0, 5.0, step=0.5),
        },
        figsize=(12, 5.2),
        title="Adagrad on the quadratic",
    )


def quadratic_comparison_figure(
    fig, angles=(0.0, 45.0), lr=2.0, kappa=100.0, steps=60, w0=QUADRATIC_W0, lr_gd=None, lim=5.0
):
    """The quadratic panel's view at several rotation angles, one row each (static figure);
    ``lim`` is the half-width of the path plots' square frame."""
    drawer = QuadraticDrawer(lim=lim)
    for sub, angle in zip(np.atleast_1d(fig.subfigures(len(angles), 1)), angles):
        drawer.update(
            drawer.setup(sub),
            lr=lr,
            angle_deg=angle,
            kappa=kappa,
            steps=steps,
            w1_0=w0[0],
            w2_0=w0[1],
            lr_gd=lr_gd,
        )
    return fig
