"""Notebook 05 (AdamW): L2 in Adam vs decoupled weight decay, measured and made visible.

* `torch_decay_factor` / `torch_shrink_over_run`: what ``torch.optim.AdamW`` steps do to a weight
  with zero gradient (each multiplies by ``1 - lr*weight_decay``; the paper's lambda is not
  multiplied by alpha);
* `effective_decay_l2`: the per-parameter decay lambda*alpha/(sqrt(v_hat)+eps) that Adam+L2 applies
  to the course MLP after some steps on real Fashion-MNIST batches, vs AdamW's single alpha*lambda;
* `decay_toy` / `make_decay_panel`: three parameters that differ only in gradient scale, under
  Adam, Adam+L2 and AdamW (``optimizers.adam_update`` / ``adamw_update``), with sliders for
  lambda and alpha;
* exercises: an AdamW step and the paper-to-torch conversion, with checkers naming the mistakes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from course_utils.nb04_adam import mlp_adam_grad_rms
from course_utils.optimizers import adam_update, adamw_update, validate_hyperparameters
from course_utils.plotting import OPTIMIZER_COLORS
from course_utils.widgets import SliderPanel, log_slider

# ---------------------------------------------------------------------------------------------
# 1. torch's parameterisation: lr * weight_decay
# ---------------------------------------------------------------------------------------------


def torch_decay_factor(lr: float, weight_decay: float) -> float:
    """Measured w_1 / w_0 after one ``torch.optim.AdamW`` step with a zero gradient (fp64)."""
    validate_hyperparameters(lr=lr, weight_decay=weight_decay)
    w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=weight_decay)
    w.grad = torch.zeros_like(w)  # m = v = 0: the Adam part of the step is exactly 0
    opt.step()
    return float(w.item())


def torch_shrink_over_run(lr: float, weight_decay: float, steps: int) -> float:
    """Measured w_steps / w_0 after ``steps`` ``torch.optim.AdamW`` steps with zero gradients.

    That is what the decoupled decay alone does over a training run: (1 - lr*weight_decay)^steps.
    """
    validate_hyperparameters(lr=lr, weight_decay=weight_decay)
    w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=weight_decay)
    w.grad = torch.zeros_like(w)
    for _ in range(steps):
        opt.step()
    return float(w.item())


def paper_to_torch_weight_decay(lambda_paper: float, lr: float) -> float:
    """torch's ``weight_decay`` that decays by the paper's lambda per step: lambda / lr."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0 to convert a decay rate, got {lr}.")
    validate_hyperparameters(weight_decay=lambda_paper)
    return lambda_paper / lr


# ---------------------------------------------------------------------------------------------
# 2. The effective per-parameter decay of Adam+L2 on the course MLP
# ---------------------------------------------------------------------------------------------


@dataclass
class EffectiveDecay:
    """Per-step decay rates of Adam+L2 by parameter group, and AdamW's single rate alpha*lambda."""

    per_group: dict[str, np.ndarray]
    adamw_rate: float
    lr: float
    weight_decay: float
    steps: int

    @property
    def all_rates(self) -> np.ndarray:
        return np.concatenate(list(self.per_group.values()))


def effective_decay_l2(
    steps: int = 100,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    eps: float = 1e-8,
    seed: int = 0,
) -> EffectiveDecay:
    """Train the course MLP with ``torch.optim.Adam(weight_decay=...)`` (L2) on ``steps``
    Fashion-MNIST batches, then return lambda*alpha/(sqrt(v_hat)+eps) for every parameter.

    That is the fraction of w the L2 term removes per step once Adam divides it by
    sqrt(v_hat) + eps; AdamW removes alpha*lambda from every parameter.
    """
    grad_rms = mlp_adam_grad_rms(steps, lr, weight_decay, eps, seed)
    per_group = {k: lr * weight_decay / (r + eps) for k, r in grad_rms.items()}
    return EffectiveDecay(per_group, lr * weight_decay, lr, weight_decay, steps)


def l2_tail(
    steps: int = 100, lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0,
    threshold: float = 1e-2, small: float = 1e-3,
) -> dict:
    """Layer 2 of the course MLP after the Adam+L2 run of `effective_decay_l2`: its weights whose
    rate lambda*alpha/(sqrt(v_hat)+eps) exceeds ``threshold`` (and 1), and how large they are.

    Returns the layer's size, the counts above ``threshold`` and above 1, the median |w| of
    each group at the end, the layer's median |w| at the start, and AdamW's total shrinkage
    1 - (1 - alpha*lambda)^steps for comparison. To tell how far the tail has gone toward zero,
    it also reruns plain Adam (no decay, the same batches) and returns the fraction of the tail
    with |w| < ``small``, the fraction of the whole layer with |w| < ``small`` at the start,
    after plain Adam and after Adam+L2, and the median over the tail of |w| (Adam+L2) /
    |w| (plain Adam), weight by weight.
    """
    from course_utils.cli import limit_threads
    from course_utils.models import make_mlp
    from course_utils.nb04_adam import fashion_batches

    validate_hyperparameters(lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    runs = {}
    for name, wd in (("l2", weight_decay), ("plain", 0.0)):
        model = make_mlp(seed=seed)
        layer = model[3].weight
        w0 = layer.detach().double().abs().numpy().ravel().copy()
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd, eps=1e-8)
        with limit_threads(1):
            for X, y in fashion_batches(steps):
                opt.zero_grad()
                loss_fn(model(X), y).backward()
                opt.step()
        runs[name] = (opt.state[layer], layer.detach().double().abs().numpy().ravel())
    state, w = runs["l2"]
    w_plain = runs["plain"][1]
    v_hat = state["exp_avg_sq"].double() / (1 - 0.999 ** int(state["step"].item()))
    rate = (lr * weight_decay / (v_hat.sqrt() + 1e-8)).numpy().ravel()
    tail, huge = rate > threshold, rate > 1
    return dict(
        size=w.size, tail=int(tail.sum()), huge=int(huge.sum()),
        tail_median_abs_w=float(np.median(w[tail])) if tail.any() else math.nan,
        huge_median_abs_w=float(np.median(w[huge])) if huge.any() else math.nan,
        start_median_abs_w=float(np.median(w0)),
        adamw_shrinkage=1 - (1 - lr * weight_decay) ** steps,
        tail_small_fraction=float(np.mean(w[tail] < small)) if tail.any() else math.nan,
        layer_small_fraction={"start": float(np.mean(w0 < small)),
                              "plain Adam": float(np.mean(w_plain < small)),
                              "Adam+L2": float(np.mean(w < small))},
        tail_vs_plain=float(np.median(w[tail] / np.maximum(w_plain[tail], 1e-300)))
        if tail.any() else math.nan,
    )


def plot_effective_decay(result: EffectiveDecay):
    """Histogram (log x) of Adam+L2's per-step decay per parameter group, AdamW's rate marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5))
    rates = result.all_rates
    lo = math.floor(math.log10(min(rates.min(), result.adamw_rate)))
    hi = math.ceil(math.log10(rates.max()))
    bins = np.logspace(lo, hi, 12 * (hi - lo) + 1)
    from course_utils.nb04_adam import GROUP_COLORS

    for (name, r), c in zip(result.per_group.items(), GROUP_COLORS):
        weights = np.full(r.shape, 100.0 / r.size)
        ax.hist(
            r,
            bins=bins,
            weights=weights,
            histtype="step",
            lw=2,
            color=c,
            label=f"Adam+L2: {name}, {r.size:,} parameters",
        )
    ax.axvline(result.adamw_rate, color=OPTIMIZER_COLORS["adamw"], lw=3)
    ax.text(
        result.adamw_rate * 1.25,
        0.97,
        f"AdamW: αλ = {result.adamw_rate:.0e}\nfor every parameter",
        transform=ax.get_xaxis_transform(),
        va="top",
        color=OPTIMIZER_COLORS["adamw"],
        fontsize=11,
    )
    ax.set_xscale("log")
    ax.set(
        xlabel=r"L2 decay per step and per unit of $w$: $\lambda\alpha\,/\,(\sqrt{\hat v_t}+\epsilon)$",
        ylabel="% of the group's parameters",
    )
    ax.set_title(
        f"Course MLP after {result.steps} Adam steps on Fashion-MNIST "
        f"(α = {result.lr:g}, λ = {result.weight_decay:g})"
    )
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# 3. The toy: three parameters that differ only in gradient scale
# ---------------------------------------------------------------------------------------------

TOY_SCALES = (10.0, 1.0, 0.1)
TOY_STEPS = 300
TOY_SIGMA = 0.5
FINAL_WINDOW = 100  # "final" weights: the mean over the last 100 steps (200-300)
METHODS = ("Adam (no decay)", "Adam+L2", "AdamW")


@dataclass
class DecayToy:
    """``path`` (steps+1, 3 methods, 3 params); ``rates`` (3 methods, 3 params) at the end."""

    path: np.ndarray
    rates: np.ndarray
    final: np.ndarray  # mean over the last FINAL_WINDOW steps, (3 methods, 3 params)
    lr: float
    weight_decay: float
    scales: tuple


def decay_toy(
    lr: float = 0.01,
    weight_decay: float = 1.0,
    scales=TOY_SCALES,
    sigma: float = TOY_SIGMA,
    steps: int = TOY_STEPS,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    seed: int = 0,
) -> DecayToy:
    """L(w) = sum_i s_i (w_i - 1)^2 / 2 with gradients s_i (w_i - 1 + sigma*xi_t), the same xi_t
    for every i, from w = 0: Adam, Adam+L2 (g + lambda w) and AdamW (w *= 1 - alpha*lambda).

    The parameters differ only in the gradient scale s_i, to which Adam is blind; the decay
    rates returned are lambda*alpha/(sqrt(v_hat)+eps) for Adam+L2 and alpha*lambda for AdamW.
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(beta1, beta2), weight_decay=weight_decay)
    s = np.asarray(scales, dtype=np.float64)
    xi = np.random.default_rng(seed).standard_normal(steps)
    # Python floats, one list per method: the same arithmetic as NumPy arrays of three, about
    # twice as fast (a live panel reruns this on every slider move).
    scale = s.tolist()
    W = [[0.0] * s.size for _ in METHODS]  # Adam, Adam+L2, AdamW
    states = [([], []) for _ in METHODS]
    path = np.empty((steps + 1, len(METHODS), s.size))
    path[0] = 0.0
    kw = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    for t, noise in enumerate((sigma * xi).tolist(), start=1):
        g = [[si * (wi - 1.0 + noise) for si, wi in zip(scale, w)] for w in W]
        W[0], *_ = adam_update(W[0], g[0], *states[0], t=t, **kw)
        l2 = [gi + weight_decay * wi for gi, wi in zip(g[1], W[1])]
        W[1], *_ = adam_update(W[1], l2, *states[1], t=t, **kw)
        W[2], *_ = adamw_update(W[2], g[2], *states[2], weight_decay=weight_decay, t=t, **kw)
        path[t] = W
    v_hat_l2 = np.array(states[1][1]) / (1 - beta2**steps)
    rates = np.zeros((len(METHODS), s.size))
    rates[1] = lr * weight_decay / (np.sqrt(v_hat_l2) + eps)
    rates[2] = lr * weight_decay
    final = path[-FINAL_WINDOW:].mean(axis=0)
    return DecayToy(path, rates, final, lr, weight_decay, tuple(s.tolist()))


_SCALE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c")


class DecayToyDrawer:
    """Left: w_i(t) under Adam+L2 (one color per scale) and AdamW; right: final weights as bars."""

    def setup(self, fig) -> dict:
        ax_w, ax_bar = fig.subplots(1, 2)  # gridspec axes: the panel fits their margins
        t = np.arange(TOY_STEPS + 1)
        lines = {}
        ax_w.axhline(1.0, color="black", lw=0.8, ls=":")
        (lines["adam"],) = ax_w.plot(
            t, t * 0.0, color="#888", lw=3, alpha=0.5, label="Adam, no decay"
        )
        for i in range(len(TOY_SCALES)):
            (lines["adamw", i],) = ax_w.plot(
                t,
                t * 0.0,
                color=OPTIMIZER_COLORS["adamw"],
                lw=2.5 - 0.7 * i,
                label="AdamW" if i == 0 else None,
            )
        for i, s in enumerate(TOY_SCALES):
            (lines["l2", i],) = ax_w.plot(
                t,
                t * 0.0,
                color=_SCALE_COLORS[i],
                ls="--",
                lw=1.8,
                label=f"Adam+L2, s = {s:g}",
            )
        ax_w.set(xlim=(0, TOY_STEPS), ylim=(-0.1, 1.8), xlabel="step t", ylabel="weight $w_i$")
        ax_w.set(xticks=[0, 100, 200, 300], yticks=[0, 0.5, 1.0, 1.5])
        ax_w.legend(loc="upper left", fontsize=9, ncol=2)
        title_w = ax_w.set_title("")
        x = np.arange(len(TOY_SCALES))
        width = 0.38
        bars_l2 = ax_bar.bar(
            x - width / 2,
            [0] * 3,
            width,
            color=_SCALE_COLORS,
            alpha=0.55,
            hatch="//",
            edgecolor="black",
            label="Adam+L2",
        )
        bars_w = ax_bar.bar(
            x + width / 2,
            [0] * 3,
            width,
            color=OPTIMIZER_COLORS["adamw"],
            edgecolor="black",
            label="AdamW",
        )
        ax_bar.axhline(1.0, color="black", lw=0.8, ls=":")
        labels = [
            ax_bar.text(xi, 0, "", ha="center", va="bottom", fontsize=9)
            for xi in np.concatenate([x - width / 2, x + width / 2])
        ]
        ax_bar.set(xticks=x, xticklabels=[f"s = {s:g}" for s in TOY_SCALES], ylim=(0, 1.5))
        ax_bar.set(yticks=[0, 0.5, 1.0, 1.5], ylabel="mean of w over steps 200-300")
        ax_bar.set_title("late weights (labels: decay per step)")
        ax_bar.legend(loc="upper right", fontsize=9)
        ax_bar.grid(False, axis="x")
        return dict(lines=lines, title=title_w, bars_l2=bars_l2, bars_w=bars_w, labels=labels)

    def update(self, state, weight_decay=1.0, lr=0.01) -> None:
        toy = decay_toy(lr=lr, weight_decay=weight_decay)
        lines = state["lines"]
        lines["adam"].set_ydata(np.clip(toy.path[:, 0, 0], -0.2, 1.6))
        for i in range(len(TOY_SCALES)):
            lines["adamw", i].set_ydata(np.clip(toy.path[:, 2, i], -0.2, 1.6))
            lines["l2", i].set_ydata(np.clip(toy.path[:, 1, i], -0.2, 1.6))
        state["title"].set_text(f"{TOY_STEPS} noisy steps, λ = {weight_decay:.3g}, α = {lr:.3g}")
        heights = np.concatenate([toy.final[1], toy.final[2]])
        rates = np.concatenate([toy.rates[1], toy.rates[2]])
        for bar, h in zip(list(state["bars_l2"]) + list(state["bars_w"]), heights):
            bar.set_height(np.clip(h, 0.0, 1.45))
        for text, h, r in zip(state["labels"], heights, rates):
            text.set_y(min(max(h, 0.0), 1.3) + 0.02)
            mantissa, exponent = f"{r:.1e}".split("e")
            text.set_text(f"{mantissa}e{int(exponent)}")  # 1.6e-3

    def __call__(self, fig, **values) -> None:
        self.update(self.setup(fig), **values)


def make_decay_panel() -> SliderPanel:
    """Sliders: λ (weight decay, torch convention) and α (learning rate), both log scale."""
    controls = {
        # Limits and defaults on the sliders' grid 10^(k/20); alpha*lambda stays below 1.
        "weight_decay": log_slider("λ (weight decay)", 1.0, 1e-3, 10**0.5),
        "lr": log_slider("α (lr)", 0.01, 1e-3, 0.1),
    }
    return SliderPanel(
        DecayToyDrawer(), controls, figsize=(12, 4.8), title="Adam+L2 vs AdamW: who gets decayed?"
    )
