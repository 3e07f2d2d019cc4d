"""Accumulation vs exponential moving averages (EMAs) and bias correction, for notebook 03.

* figure 2.2: Adagrad's sum of squares G_t grows without bound while EMAs of g^2 with
  beta2 = 0.9, 0.99, 0.999 stabilize and recover after gradient spikes
  (`spiky_gradients`, `accumulate`, `ema`, `plot_ema_vs_accumulation`);
* the bias of an EMA started at zero: with constant g, m_t = (1 - beta^t) g
  (`constant_gradient_check`);
* figure 2.3: uncorrected m_t, v_t start near zero, m_hat, v_hat do not
  (`plot_bias_correction`); `section2_figure` combines figures 2.1-2.3;
* the panel factory `make_ema_panel` and the exercise checkers `check_ema_bias_correction`,
  `check_warmup_steps`.

All numbers are float64 numpy and seeded.
"""

from __future__ import annotations

import numpy as np

from .checkers import CheckResult, compare
from .nb02_adagrad import plot_effective_lr
from .optimizers import adam_update
from .plotting import OPTIMIZER_COLORS, display_points, log_axis
from .widgets import SliderPanel, float_slider

BETA2_VALUES = (0.9, 0.99, 0.999)
# Light to dark: the longer the memory, the darker the line.
_BETA_COLORS = {0.9: "#fdae6b", 0.99: "#e6550d", 0.999: "#7f2704"}
_CORRECTED_COLOR = OPTIMIZER_COLORS["adam"]


def _check_beta(beta: float, name: str = "beta") -> None:
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"{name}={beta!r} must lie in [0, 1): an EMA needs 0 <= beta < 1.")


def spiky_gradients(
    steps: int = 3000,
    mean: float = 1.0,
    noise: float = 0.5,
    spike: float = 10.0,
    spike_at=(1000, 2000),
    spike_len: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """Gradients g_t = mean + noise * N(0,1), except g_t = spike for spike_len steps at spike_at."""
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps}.")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise}.")
    rng = np.random.default_rng(seed)
    g = mean + noise * rng.standard_normal(int(steps))
    for start in spike_at:
        if not 0 <= start < steps:
            raise ValueError(f"spike step {start} is outside 0..{steps - 1}.")
        g[start : start + spike_len] = spike
    return g


def accumulate(x) -> np.ndarray:
    """Adagrad's running sum G_t = x_1 + ... + x_t (pass x = g**2)."""
    return np.cumsum(np.asarray(x, dtype=np.float64))


def ema(x, beta: float) -> np.ndarray:
    """Uncorrected EMA started at zero: m_t = beta m_{t-1} + (1 - beta) x_t, t = 1..T."""
    _check_beta(beta)
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    m = 0.0
    for t, value in enumerate(x.tolist()):
        m = beta * m + (1.0 - beta) * value
        out[t] = m
    return out


def bias_correct(m, beta: float) -> np.ndarray:
    """m_hat_t = m_t / (1 - beta^t) for t = 1..T."""
    _check_beta(beta)
    m = np.asarray(m, dtype=np.float64)
    t = np.arange(1, m.shape[0] + 1)
    return m / (1.0 - beta**t)


def recovery_steps(beta: float, fraction: float = 0.01) -> int:
    """Steps until a spike's weight in an EMA has decayed to ``fraction``: ceil(ln f / ln beta)."""
    _check_beta(beta)
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}.")
    if beta == 0:
        return 1
    return int(np.ceil(np.log(fraction) / np.log(beta)))


def constant_gradient_check(g: float = 2.0, beta: float = 0.9, steps: int = 50) -> CheckResult:
    """Run the EMA recursion on a constant g and compare with the closed form (1 - beta^t) g."""
    m = ema(np.full(steps, g), beta)
    closed = (1.0 - beta ** np.arange(1, steps + 1)) * g
    return compare(f"m_t = (1 - β^t) g, β = {beta}, {steps} steps", m, closed, rtol=1e-12, atol=0)


def ema_spread(beta: float, steps: int = 10_000, seeds=range(400), mean=1.0, noise=0.5):
    """Std over seeds of the EMA of g^2 at step ``steps``, for g = mean + noise N(0, 1)."""
    _check_beta(beta)
    z = np.stack([np.random.default_rng(seed).standard_normal(steps) for seed in seeds], axis=1)
    v = np.zeros(z.shape[1])
    for z_t in z:
        g = mean + noise * z_t
        v = beta * v + (1 - beta) * g * g
    return float(v.std())


def ema_spread_theory(beta: float, mean=1.0, noise=0.5) -> float:
    """Stationary std of an EMA of g^2: sqrt((1 - beta)/(1 + beta) Var(g^2)).

    For g = mean + noise N(0, 1), Var(g^2) = 4 mean^2 noise^2 + 2 noise^4.
    """
    _check_beta(beta)
    var = 4 * mean**2 * noise**2 + 2 * noise**4
    return float(np.sqrt((1 - beta) / (1 + beta) * var))


def adam_step_ratio(beta1=0.9, beta2=0.999, steps=1000, correct_m=True, correct_v=True, g=1.0):
    """Adam's step |Δw_t| / alpha for a constant gradient g, from `optimizers.adam_update`.

    Corrected: 1 at every step. Uncorrected: (1 - beta1^t) / sqrt(1 - beta2^t).
    """
    w, m, v, out = [np.zeros(1)], [], [], []
    for t in range(1, steps + 1):
        old = w[0]
        w, m, v = adam_update(
            w,
            [np.full(1, g)],
            m,
            v,
            lr=1.0,
            beta1=beta1,
            beta2=beta2,
            eps=0.0,
            t=t,
            correct_m=correct_m,
            correct_v=correct_v,
        )
        out.append(abs(float((w[0] - old)[0])))
    return np.array(out)


ADAM_VARIANTS = {
    "no correction": dict(correct_m=False, correct_v=False),
    "only m corrected": dict(correct_m=True, correct_v=False),
    "only v corrected": dict(correct_m=False, correct_v=True),
    "both corrected (Adam)": dict(correct_m=True, correct_v=True),
}


def plot_adam_step_ratio(ax, beta1=0.9, beta2=0.999, steps=1000):
    """Adam's step over alpha for a constant gradient, with and without each bias correction."""
    styles = {
        "no correction": dict(color=_CORRECTED_COLOR, ls="--", lw=2),
        "only m corrected": dict(color="#9467bd", ls=":", lw=1.5),
        "only v corrected": dict(color="#8c564b", ls="-.", lw=1.5),
        "both corrected (Adam)": dict(color=_CORRECTED_COLOR, ls="-", lw=2),
    }
    t = np.arange(1, steps + 1)
    for name, options in ADAM_VARIANTS.items():
        ax.plot(t, adam_step_ratio(beta1, beta2, steps, **options), label=name, **styles[name])
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set_xlabel("step t")
    ax.set_ylabel(r"Adam's step $|\Delta w_t|/\alpha$ (constant gradient)")
    ax.set_title(
        f"Adam's step with and without bias correction (β₁ = {beta1:g}, β₂ = {beta2:g})", y=1.0
    )
    ax.legend(loc="upper right", fontsize=9)
    return ax


# --------------------------------------------------------------------------------------------
# Figures 2.2 and 2.3
# --------------------------------------------------------------------------------------------


def plot_gradient_signal(ax, g) -> None:
    """The squared gradients g_t² the accumulators see (log y)."""
    t = np.arange(1, len(g) + 1)
    ax.plot(t, np.maximum(np.asarray(g) ** 2, 1e-6), color="#555555", lw=0.6)
    log_axis(ax)
    ax.set_ylabel(r"$g_t^2$")
    ax.set_title("Squared gradients: noise plus two spikes", y=1.0)


def plot_ema_vs_accumulation(
    ax, g, beta2s=BETA2_VALUES, legend: bool = True, average=False, colors: dict | None = None
):
    """Figure 2.2: Adagrad's G_t (or its average G_t / t) against the EMAs v_t of g², log y.

    ``average=True`` plots G_t / t, which has the units of v_t (a mean of g²), so the two compare
    like with like; ``False`` plots the sum itself, as the slides' figure 2.2 does. ``colors``
    maps "adagrad" and each beta2 to a colour (default: the course's colours).
    """
    colors = {"adagrad": OPTIMIZER_COLORS["adagrad"], **_BETA_COLORS, **(colors or {})}
    g2 = np.asarray(g, dtype=np.float64) ** 2
    t = np.arange(1, g2.size + 1)
    G = accumulate(g2)
    label = r"Adagrad: $G_t/t$ = mean of all $g^2$" if average else r"Adagrad: $G_t = \Sigma g^2$"
    ax.plot(t, G / t if average else G, color=colors["adagrad"], lw=2.5, label=label)
    for beta2 in beta2s:
        ax.plot(
            t,
            np.maximum(ema(g2, beta2), 1e-6),
            color=colors.get(beta2, None),
            label=f"EMA $v_t$, β₂ = {beta2:g}",
        )
    log_axis(ax)
    ax.set_xlabel("step t")
    ax.set_ylabel("average of g²" if average else "accumulated g²")
    title = (
        "$G_t/t$ keeps every spike; EMAs forget them"
        if average
        else "Sum of squares grows forever; EMAs stabilize and recover"
    )
    ax.set_title(title, y=1.0)
    if legend:
        ax.legend(loc="lower right", fontsize=9)
    return ax


def plot_bias_correction(
    ax_m,
    ax_v,
    g,
    beta1: float = 0.9,
    beta2: float = 0.999,
    true_m: float | None = None,
    true_v: float | None = None,
    steps=None,
):
    """Figure 2.3: uncorrected m_t, v_t and corrected m_hat, v_hat over the first steps."""
    _check_beta(beta1, "beta1")
    _check_beta(beta2, "beta2")
    g = np.asarray(g, dtype=np.float64)
    if steps is not None:
        g = g[:steps]
    t = np.arange(1, g.size + 1)
    m, v = ema(g, beta1), ema(g * g, beta2)
    panels = (
        (
            ax_m,
            m,
            bias_correct(m, beta1),
            true_m,
            "m",
            "β₁",
            beta1,
            "first moment (mean of g)",
            r"\beta_1",
        ),
        (
            ax_v,
            v,
            bias_correct(v, beta2),
            true_v,
            "v",
            "β₂",
            beta2,
            "second moment (mean of g²)",
            r"\beta_2",
        ),
    )
    for ax, raw, corrected, true, sym, bsym, beta, ylabel, btex in panels:
        ax.plot(t, raw, color=_CORRECTED_COLOR, ls="--", lw=2, label=f"uncorrected ${sym}_t$")
        ax.plot(
            t,
            corrected,
            color=_CORRECTED_COLOR,
            lw=1.5,
            label=f"corrected $\\hat {{{sym}}}_t = {sym}_t/(1-{btex}^t)$",
        )
        if true is not None:
            ax.axhline(true, color="black", ls=":", lw=1.5, label=f"true value {true:.3g}")
        ax.set_xlabel("step t")
        ax.set_ylabel(ylabel)
        ax.set_title(f"${sym}_t$ with {bsym} = {beta:g}", y=1.0)
        ax.legend(loc="lower right" if sym == "m" else "center right", fontsize=9)
        top = max(float(np.max(corrected)), float(np.max(raw)), true or 0.0)
        ax.set_ylim(min(0.0, float(np.min(corrected))) - 0.05 * top, 1.15 * top + 1e-12)
    return ax_m, ax_v


def section2_figure(fig, lr: float = 0.1, eps: float = 1e-8, seed: int = 0):
    """Figures 2.1-2.3 on one 2x2 grid, as the course shows them (a)-(d)."""

    axes = fig.subplots(2, 2)
    plot_effective_lr(axes[0, 0], lr=lr, eps=eps, seed=seed)
    axes[0, 0].set_title("2.1  Adagrad effective learning rate α/√(G + ε)", y=1.0)
    # Slide 10's colours: Adagrad red; the EMAs blue, green and purple.
    slide_colors = {"adagrad": "#d62728", 0.9: "#1f77b4", 0.99: "#2ca02c", 0.999: "#9467bd"}
    plot_ema_vs_accumulation(axes[0, 1], spiky_gradients(seed=seed), colors=slide_colors)
    axes[0, 1].set_title("2.2  Σ g² grows; EMAs stabilize and recover", y=1.0)
    g = spiky_gradients(steps=300, spike_at=(), seed=seed)
    plot_bias_correction(axes[1, 0], axes[1, 1], g, true_m=1.0, true_v=1.25)
    axes[1, 0].set_title("2.3  first moment, β₁ = 0.9", y=1.0)
    axes[1, 1].set_title("2.3  second moment, β₂ = 0.999", y=1.0)
    fig.tight_layout()
    return axes


# --------------------------------------------------------------------------------------------
# Panel
# --------------------------------------------------------------------------------------------

_PANEL_STEPS = 8000
# One burst at steps 3001-3005: late enough that v has settled, with 5000 steps to watch it fade.
_PANEL_SPIKES = (3000,)
_BIAS_STEPS = 200


def _snapped_limits(bottom: float, top: float) -> tuple[float, float]:
    """Linear-axis limits around [bottom <= 0, top > 0] on a grid of 0.25 (1 above 4, 5 above
    20), so a live panel's axes change only when the data cross a grid line (faster redraws)."""
    step = 0.25 if top <= 4 else 1.0 if top <= 20 else 5.0
    return np.floor(bottom / step) * step - 0.1 * step / 0.25, np.ceil(1.05 * top / step) * step


class EmaDrawer:
    """Panel drawer: Σ g² vs one EMA (left), bias correction of m and v (middle, right)."""

    def __init__(self, seed: int = 0):
        # Standard normal draws fixed once: the noise slider scales them, so a redraw only
        # changes what the slider changes.
        self.z_long = spiky_gradients(_PANEL_STEPS, mean=0.0, noise=1.0, spike_at=(), seed=seed)
        self.z_short = self.z_long[:_BIAS_STEPS]
        self.t_long = np.arange(1, _PANEL_STEPS + 1)
        self.t_short = np.arange(1, _BIAS_STEPS + 1)

    def setup(self, fig):
        ax_acc, ax_m, ax_v = fig.subplots(1, 3)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.13, top=0.9, wspace=0.3)
        st = {"ax_m": ax_m, "ax_v": ax_v}
        (st["G"],) = ax_acc.plot(
            [], [], color=OPTIMIZER_COLORS["adagrad"], lw=2.5, label=r"$G_t/t$ (Adagrad)"
        )
        (st["v_before"],) = ax_acc.plot(
            [], [], color="black", ls=":", lw=1, label="2 v before burst"
        )
        (st["v_long"],) = ax_acc.plot([], [], color=_BETA_COLORS[0.99], label="EMA")
        log_axis(ax_acc)
        ax_acc.set_ylim(1e-2, 1e5)  # a burst of 100 gives g² = 1e4
        ax_acc.set_xlim(0, _PANEL_STEPS)
        ax_acc.locator_params(axis="x", nbins=4)
        ax_acc.set_xlabel("step t")
        ax_acc.set_ylabel("average of g²")
        st["title_acc"] = ax_acc.set_title("", y=1.0)
        st["leg_acc"] = ax_acc.legend(loc="lower right", fontsize=9, handlelength=1.2)
        for ax, sym, ylabel in ((ax_m, "m", "mean of g"), (ax_v, "v", "mean of g²")):
            (st[f"raw_{sym}"],) = ax.plot(
                [], [], color=_CORRECTED_COLOR, ls="--", lw=2, label="uncorrected"
            )
            (st[f"hat_{sym}"],) = ax.plot(
                [], [], color=_CORRECTED_COLOR, lw=1.5, label="corrected, ÷ (1 − βᵗ)"
            )
            st[f"true_{sym}"] = ax.axhline(1.0, color="black", ls=":", lw=1.5, label="true value")
            ax.set_xlim(0, _BIAS_STEPS)
            ax.locator_params(nbins=4)
            ax.set_xlabel("step t")
            ax.set_ylabel(ylabel)
            st[f"title_{sym}"] = ax.set_title("", y=1.0)
        # One legend serves both moment axes: fewer texts, faster redraws.
        # Upper right: the top limit is the largest g², which the averages stay well below late.
        ax_v.legend(loc="upper right", fontsize=9, handlelength=1.5)
        return st

    def update(self, st, beta1, beta2, spike, noise):
        g = 1.0 + noise * self.z_long
        for start in _PANEL_SPIKES:
            g[start : start + 5] = spike
        g2 = g * g
        v = ema(g2, beta2)
        before = v[_PANEL_SPIKES[0] - 1]  # v_3000, just before the burst
        # 8000 steps on a plot 250 px wide: display_points draws the same line from 1000 points.
        st["G"].set_data(*display_points(self.t_long, accumulate(g2) / self.t_long))
        st["v_long"].set_data(*display_points(self.t_long, np.maximum(v, 1e-6)))
        st["v"] = v  # every step's v_t, for exercise 5 (the line draws 1000 of them)
        st["v_before"].set_data([0, _PANEL_STEPS], [2 * before, 2 * before])
        st["leg_acc"].get_texts()[2].set_text(f"EMA, β₂ = {beta2:g}")
        first = _PANEL_SPIKES[0] + 1
        st["title_acc"].set_text(f"Burst g = {spike:g} at t = {first}-{first + 4}")
        g = 1.0 + noise * self.z_short
        for sym, x, beta, true, bsym in (
            ("m", g, beta1, 1.0, "β₁"),
            ("v", g * g, beta2, 1.0 + noise**2, "β₂"),
        ):
            raw = ema(x, beta)
            hat = bias_correct(raw, beta)
            st[f"raw_{sym}"].set_data(self.t_short, raw)
            st[f"hat_{sym}"].set_data(self.t_short, hat)
            st[f"true_{sym}"].set_ydata([true, true])
            # Both curves are weighted averages of x (weights summing to 1 for hat, to less for
            # raw), so x's range bounds them for every β: the axes stay put while β moves.
            bottom, top = min(0.0, float(x.min())), max(float(x.max()), true)
            st[f"ax_{sym}"].set_ylim(*_snapped_limits(bottom, top))
            st[f"title_{sym}"].set_text(f"${sym}_t$ with {bsym} = {beta:g} (true {true:.3g})")


def make_ema_panel() -> SliderPanel:
    """EMA vs accumulation and bias correction, with sliders for β₁, β₂, spike size and noise."""
    return SliderPanel(
        EmaDrawer(),
        {
            "beta1": float_slider("β₁", 0.9, 0.0, 0.99, step=0.01),
            "beta2": float_slider("β₂", 0.99, 0.5, 0.999, step=0.001),
            "spike": float_slider("spike size", 10.0, 0.0, 100.0, step=1.0),
            "noise": float_slider("noise σ", 0.5, 0.0, 2.0, step=0.05),
        },
        figsize=(15, 4.6),
        title="EMAs and bias correction",
    )
