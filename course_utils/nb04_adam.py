"""Notebook 04 (Adam): checks against torch.optim and the demos (the race is in `nb04_race`).

Every Adam and Adagrad run here calls `course_utils.optimizers`:

* `compare_with_torch`: the course MLP trained on real Fashion-MNIST batches by torch.optim and
  by the from-scratch update fed the same gradients (open loop), compared in the checker shape;
* `effective_step_demo`: Adam's per-parameter step alpha/(sqrt(v_hat)+eps) for coordinates whose
  gradients differ only by a scale factor (shared noise);
* `mlp_adam_grad_rms`: sqrt(v_hat) of every MLP parameter after some torch.optim.Adam steps;
* `bias_correction_steps` / `bias_correction_on_mlp`: what removing either bias correction does,
  to the step length with a constant gradient and to the MLP's training loss;
* `noise_floor_demo`: constant-step Adam stalls at a noise floor, Adagrad keeps converging.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from course_utils.checkers import CheckResult, compare
from course_utils.cli import limit_threads
from course_utils.optimizers import (
    adagrad_update,
    adam_update,
    adamw_update,
    validate_hyperparameters,
)
from course_utils.plotting import OPTIMIZER_COLORS, log_axis
from course_utils.quadratic import Quadratic

# One colour per parameter group of the course MLP (layer 1, 2, 3 weights, biases), also in 05.
GROUP_COLORS = ("#1f77b4", "#2ca02c", "#8c564b", "#ff7f0e")

# ---------------------------------------------------------------------------------------------
# 1. From scratch vs torch.optim on the course MLP
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def fashion_batches(n_batches: int = 50, batch_size: int = 128, seed: int = 0):
    """The first ``n_batches`` shuffled Fashion-MNIST training batches (X, y), cached."""
    from course_utils.data import iterate_minibatches, load_fashion_mnist

    X_train, y_train, *_ = load_fashion_mnist()
    batches = []
    for X, y in iterate_minibatches(X_train, y_train, batch_size=batch_size, seed=seed):
        batches.append((X, y))
        if len(batches) == n_batches:
            break
    return tuple(batches)


def adam_update_torch_order(
    params, grads, m_state, v_state, lr, beta1, beta2, eps, t, weight_decay=0.0, decoupled=False
):
    """Adam/AdamW with torch.optim's exact order of floating-point operations (in place)."""
    for i, (w, g) in enumerate(zip(params, grads)):
        if decoupled and weight_decay:
            w.mul_(1 - lr * weight_decay)
        elif weight_decay:
            g = g.add(w, alpha=weight_decay)
        m_state[i].lerp_(g, 1 - beta1)
        v_state[i].mul_(beta2).addcmul_(g, g, value=1 - beta2)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        denom = (v_state[i].sqrt() / bias_correction2**0.5).add_(eps)
        w.addcdiv_(m_state[i], denom, value=-lr / bias_correction1)
    return params, m_state, v_state


_KINDS = ("adam", "adam_l2", "adamw")


def _course_step(kind, order, params, grads, m_state, v_state, lr, wd, t):
    """One from-scratch step of ``kind`` in the course's or torch's operation order."""
    if order == "torch":
        return adam_update_torch_order(
            params, grads, m_state, v_state, lr, 0.9, 0.999, 1e-8, t, wd, kind == "adamw"
        )[0]
    if kind == "adamw":
        return adamw_update(params, grads, m_state, v_state, lr=lr, weight_decay=wd, t=t)[0]
    if kind == "adam_l2":
        grads = [g + wd * p for g, p in zip(grads, params)]
    return adam_update(params, grads, m_state, v_state, lr=lr, t=t)[0]


def compare_with_torch(
    kind: str = "adam",
    dtype: torch.dtype = torch.float32,
    steps: int = 50,
    lr: float = 1e-3,
    weight_decay: float = 1e-2,
    order: str = "course",
    verbose: bool = True,
) -> CheckResult:
    """Train the course MLP on Fashion-MNIST batches with torch.optim and from scratch; compare.

    Both updates are fed the same gradients at every step (those of the torch.optim run).
    ``kind``: "adam" (no decay), "adam_l2" (Adam with L2 gradient ``weight_decay*w``) or "adamw"
    (decoupled decay). One copy uses ``torch.optim.Adam``/``AdamW`` (default CPU implementation),
    the other the course's ``adam_update``/``adamw_update`` (``order="course"``) or
    `adam_update_torch_order` (``order="torch"``). Prints ``name | exact | allclose | maxdiff``.
    """
    from course_utils.models import make_mlp

    if kind not in _KINDS:
        raise ValueError(f"Unknown kind {kind!r}: choose one of {', '.join(_KINDS)}.")
    if order not in ("course", "torch"):
        raise ValueError(f"order must be 'course' or 'torch', got {order!r}.")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}.")
    if not 1 <= steps <= 200:
        raise ValueError(f"steps must be between 1 and 200 (the cached batches), got {steps}.")
    validate_hyperparameters(lr=lr, weight_decay=weight_decay)
    wd = 0.0 if kind == "adam" else weight_decay
    reference = make_mlp(seed=0).to(dtype)
    params = [p.detach().clone() for p in reference.parameters()]
    if kind == "adamw":
        opt = torch.optim.AdamW(reference.parameters(), lr=lr, weight_decay=wd)
    else:
        opt = torch.optim.Adam(reference.parameters(), lr=lr, weight_decay=wd)
    loss_fn = torch.nn.CrossEntropyLoss()
    m_state, v_state = [], []
    if order == "torch":
        m_state = [torch.zeros_like(p) for p in params]
        v_state = [torch.zeros_like(p) for p in params]
    with limit_threads(1):
        for t, (X, y) in enumerate(fashion_batches(max(steps, 50))[:steps], start=1):
            # Both updates get the same gradients (those of the torch.optim copy), so any
            # difference comes from the update arithmetic alone, not from diverging training runs.
            opt.zero_grad()
            loss_fn(reference(X.to(dtype)), y).backward()
            grads = [p.grad.clone() for p in reference.parameters()]
            opt.step()
            with torch.no_grad():
                params = _course_step(kind, order, params, grads, m_state, v_state, lr, wd, t)
    fp = "fp32" if dtype == torch.float32 else "fp64"
    torch_name = "AdamW" if kind == "adamw" else "Adam"
    extra = f"(weight_decay={wd:g})" if wd else ""
    name = f"{kind}_update[{order} order] vs torch.optim.{torch_name}{extra}, {fp}, {steps} steps"
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    result = compare(name, params, [p.detach() for p in reference.parameters()], **tol)
    if verbose:
        print(result)
    return result


# ---------------------------------------------------------------------------------------------
# 2. The per-parameter effective step
# ---------------------------------------------------------------------------------------------


@dataclass
class EffectiveStepRun:
    """Per-coordinate histories of a noisy run: ``scales`` (d,), arrays of shape (steps, d)."""

    scales: np.ndarray
    effective_step: np.ndarray  # alpha / (sqrt(v_hat) + eps)
    update: np.ndarray  # |w_t - w_{t-1}|
    grad_rms: np.ndarray  # sqrt(v_hat)
    lr: float


def effective_step_demo(
    scales=(1e-3, 1.0, 1e3),
    lr: float = 0.01,
    steps: int = 300,
    noise: float = 0.5,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    seed: int = 0,
) -> EffectiveStepRun:
    """Adam on L(w) = sum_i s_i (w_i - 1)^2 / 2 with noisy gradients s_i (w_i - 1 + noise*xi_t).

    The coordinates differ only by the gradient scale s_i; the noise xi_t is the same for every
    coordinate, so up to eps the runs are exact rescalings of each other. Returns the effective step
    alpha/(sqrt(v_hat)+eps), the actual step |Delta w| and sqrt(v_hat) at every step (fp64).
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(beta1, beta2))
    s = np.asarray(scales, dtype=np.float64)
    xi = np.random.default_rng(seed).standard_normal(steps)  # one draw per step, shared
    w = np.zeros_like(s)
    m_state, v_state = [], []
    eff, upd, rms = [], [], []
    for t in range(1, steps + 1):
        g = s * (w - 1.0 + noise * xi[t - 1])
        (w_new,), m_state, v_state = adam_update([w], [g], m_state, v_state, lr, beta1, beta2,
                                                 eps, t)
        v_hat = v_state[0] / (1 - beta2**t)
        eff.append(lr / (np.sqrt(v_hat) + eps))
        upd.append(np.abs(w_new - w))
        rms.append(np.sqrt(v_hat))
        w = w_new
    return EffectiveStepRun(s, np.array(eff), np.array(upd), np.array(rms), lr)


LAYER_GROUPS = {
    "1.weight": "layer 1 weights (784×256)",
    "3.weight": "layer 2 weights (256×128)",
    "5.weight": "layer 3 weights (128×10)",
}
BIAS_GROUP = "biases (all layers)"


def mlp_adam_grad_rms(
    steps: int = 100,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    eps: float = 1e-8,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """sqrt(v_hat) of every course-MLP parameter after ``steps`` Adam steps on Fashion-MNIST.

    ``torch.optim.Adam`` (``weight_decay`` > 0 is the L2 term, Adam+L2) on the first ``steps``
    shuffled batches; returns {parameter group: flat float64 array}, layers first, biases last.
    """
    from course_utils.models import make_mlp

    validate_hyperparameters(lr=lr, eps=eps, weight_decay=weight_decay)
    if not 1 <= steps <= 400:
        raise ValueError(f"steps must be between 1 and 400, got {steps}.")
    model = make_mlp(seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, eps=eps)
    loss_fn = torch.nn.CrossEntropyLoss()
    with limit_threads(1):
        for X, y in fashion_batches(steps):
            opt.zero_grad()
            loss_fn(model(X), y).backward()
            opt.step()
    groups: dict[str, list[np.ndarray]] = {}
    beta2 = opt.param_groups[0]["betas"][1]
    for name, p in model.named_parameters():
        state = opt.state[p]
        v_hat = state["exp_avg_sq"].double() / (1 - beta2 ** int(state["step"].item()))
        groups.setdefault(LAYER_GROUPS.get(name, BIAS_GROUP), []).append(
            v_hat.sqrt().numpy().ravel()
        )
    return {k: np.concatenate(groups[k]) for k in [*LAYER_GROUPS.values(), BIAS_GROUP]}


def plot_mlp_effective_step(grad_rms: dict[str, np.ndarray], lr: float = 1e-3, eps: float = 1e-8):
    """Histogram (log x) of alpha/(sqrt(v_hat)+eps) per parameter group of the course MLP."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.8))
    steps = {k: lr / (r + eps) for k, r in grad_rms.items()}
    everything = np.concatenate(list(steps.values()))
    lo = np.floor(np.log10(everything.min()))
    hi = np.ceil(np.log10(everything.max()))
    bins = np.logspace(lo, hi, int(12 * (hi - lo)) + 1)
    for (name, eff), color in zip(steps.items(), GROUP_COLORS):
        ax.hist(eff, bins=bins, weights=np.full(eff.shape, 100.0 / eff.size), histtype="step",
                lw=2, color=color, label=f"{name}, {eff.size:,} parameters")
    ax.axvline(lr, color="black", ls="--", lw=1.2)
    ax.text(lr * 1.15, 0.97, f"α = {lr:g}\n(√v̂ = 1)", transform=ax.get_xaxis_transform(),
            va="top")
    log_axis(ax, "x")
    ax.set(xlabel="effective step α / (√v̂ + ε)", ylabel="% of the group's parameters")
    ax.set_title(f"Course MLP after 100 Adam steps on Fashion-MNIST (α = {lr:g})")
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# 3. Removing the bias correction
# ---------------------------------------------------------------------------------------------

BIAS_VARIANTS = {
    "corrected (Adam)": (True, True),
    "no correction at all": (False, False),
    "only v corrected (m_t not divided)": (False, True),
    "only m corrected (v_t not divided)": (True, False),
}


def bias_correction_steps(
    steps: int = 3000, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
) -> dict[str, np.ndarray]:
    """Measured step length |Delta w_t| / alpha with a constant gradient g = 1, per variant.

    With bias correction the step is exactly alpha from t = 1; the other variants show how
    much too short or too long the first steps are. Runs ``optimizers.adam_update``.
    """
    out = {}
    for name, (cm, cv) in BIAS_VARIANTS.items():
        w, m_state, v_state = np.zeros(1), [], []
        ratios = np.empty(steps)
        for t in range(1, steps + 1):
            (w_new,), m_state, v_state = adam_update(
                [w], [np.ones(1)], m_state, v_state, lr, beta1, beta2, eps, t,
                correct_m=cm, correct_v=cv,
            )
            ratios[t - 1] = abs(w_new[0] - w[0]) / lr
            w = w_new
        out[name] = ratios
    return out


BIAS_LRS = (1e-3, 3e-3, 1e-2)


def bias_correction_on_mlp(
    lr: float = 3e-3, steps: int = 100, seed: int = 0, variants=tuple(BIAS_VARIANTS)
) -> dict[str, np.ndarray]:
    """Training loss per step of the course MLP on Fashion-MNIST for each bias-correction variant.

    The loop is the usual ``zero_grad() / backward() / step()``, with the step done by
    ``optimizers.adam_update`` (and its ``correct_m`` / ``correct_v`` options) on the model's
    tensors; one CPU thread, the same batches and initial weights for every variant.
    """
    from course_utils.models import make_mlp

    validate_hyperparameters(lr=lr)
    if not 1 <= steps <= 400:
        raise ValueError(f"steps must be between 1 and 400, got {steps}.")
    loss_fn = torch.nn.CrossEntropyLoss()
    out = {}
    with limit_threads(1):
        for name in variants:
            correct_m, correct_v = BIAS_VARIANTS[name]
            model = make_mlp(seed=seed)
            params, m_state, v_state = list(model.parameters()), [], []
            losses = np.empty(steps)
            for t, (X, y) in enumerate(fashion_batches(steps), start=1):
                model.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                losses[t - 1] = loss.item()
                with torch.no_grad():
                    new, m_state, v_state = adam_update(
                        [p.detach() for p in params], [p.grad for p in params], m_state,
                        v_state, lr=lr, t=t, correct_m=correct_m, correct_v=correct_v,
                    )
                    for p, value in zip(params, new):
                        p.copy_(value)
            out[name] = losses
    return out


# ---------------------------------------------------------------------------------------------
# 5. The noise floor (preview of notebook 06)
# ---------------------------------------------------------------------------------------------


@dataclass
class NoiseFloorRun:
    """Mean loss over seeds per step for each method; ``predicted`` are the theory lines."""

    losses: dict[str, np.ndarray]
    predicted: dict[str, np.ndarray]
    settings: dict


def noise_floor_demo(
    h=(1.0, 0.1),
    w0=(2.0, 2.0),
    sigma: float = 1.0,
    adam_lrs=(0.05, 0.01),
    adagrad_lr: float = 0.5,
    steps: int = 5000,
    seeds: int = 32,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> NoiseFloorRun:
    """Constant-step Adam and Adagrad on a noisy quadratic, averaged over ``seeds`` runs (fp64).

    Gradients are H w + sigma * xi; all runs are one (seeds, d) array through
    ``optimizers.adam_update`` / ``adagrad_update``. Near the optimum Adam behaves like SGD with step
    alpha/sigma, whose loss settles at about d*alpha*sigma/4; Adagrad's step alpha/(sigma sqrt t)
    keeps shrinking, and its loss keeps falling like d*alpha*sigma/(4 sqrt t).
    """
    if not sigma > 0:
        raise ValueError(f"sigma (the gradient noise) must be > 0, got {sigma}.")
    q = Quadratic(tuple(h))
    H = q.H
    d = q.dim
    t = np.arange(1, steps + 1)

    def run(update):
        rng = np.random.default_rng(0)
        w = np.tile(np.asarray(w0, dtype=np.float64), (seeds, 1))  # one row per run
        state = ([], [])
        losses = np.empty(steps)
        for k in range(1, steps + 1):
            g = w @ H.T + sigma * rng.standard_normal(w.shape)
            w = update(w, g, k, state)
            losses[k - 1] = np.mean(0.5 * np.einsum("si,ij,sj->s", w, H, w))
        return losses

    def adam(lr):
        def update(w, g, k, state):
            return adam_update([w], [g], *state, lr, beta1, beta2, eps, k)[0][0]

        return update

    def adagrad(w, g, k, state):
        return adagrad_update([w], [g], state[0], adagrad_lr, eps)[0][0]

    losses, predicted = {}, {}
    for lr in adam_lrs:
        losses[f"Adam, constant α = {lr:g}"] = run(adam(lr))
        predicted[f"Adam, constant α = {lr:g}"] = np.full(steps, d * lr * sigma / 4)
    losses[f"Adagrad, α = {adagrad_lr:g}"] = run(adagrad)
    predicted[f"Adagrad, α = {adagrad_lr:g}"] = d * adagrad_lr * sigma / (4 * np.sqrt(t))
    settings = dict(h=tuple(h), sigma=sigma, steps=steps, seeds=seeds, d=d)
    return NoiseFloorRun(losses, predicted, settings)


# ---------------------------------------------------------------------------------------------
# 7. Static figures for the notebook (pyplot figures, saved with save_figure)
# ---------------------------------------------------------------------------------------------

_SCALE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c")


def plot_effective_step(run: EffectiveStepRun):
    """Left: alpha/(sqrt(v_hat)+eps) per coordinate; right: the actual step |Delta w| / alpha."""
    import matplotlib.pyplot as plt

    fig, (ax_eff, ax_upd) = plt.subplots(1, 2, figsize=(12, 4.4))
    t = np.arange(1, len(run.effective_step) + 1)
    # Identical curves must stay visible: widest solid below, narrower dashed and dotted on top.
    widths, styles = (4.0, 2.4, 1.2), ("-", "--", ":")
    for i, s in enumerate(run.scales):
        label = f"gradient scale s = {s:g}"
        ax_eff.plot(t, run.effective_step[:, i], color=_SCALE_COLORS[i % 3], label=label)
        ax_upd.plot(t, run.update[:, i] / run.lr, color=_SCALE_COLORS[i % 3], lw=widths[i % 3],
                    ls=styles[i % 3], label=label)
    log_axis(ax_eff, "y")
    ax_eff.set(xlabel="step t", ylabel=r"$\alpha\,/\,(\sqrt{\hat v_t}+\epsilon)$")
    ax_eff.set_title(f"effective step per parameter (α = {run.lr:g})")
    # between the curves at 1e-2 and 1e-5, clear of both
    ax_eff.legend(loc="center right", bbox_to_anchor=(1.0, 0.3), fontsize=9)
    ax_upd.axhline(1.0, color="black", ls="--", lw=1, label=r"$|\Delta w_t| = \alpha$")
    ax_upd.set(xlabel="step t", ylabel=r"$|\Delta w_t|\,/\,\alpha$", ylim=(0, 1.6))
    ax_upd.set_title("actual step |Δw|/α: the same curve for every scale")
    ax_upd.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


def _math_label(name: str) -> str:
    """A variant's name with m_t and v_t in mathtext (no raw underscores in a legend)."""
    return name.replace("m_t", "$m_t$").replace("v_t", "$v_t$")


def plot_bias_correction(steps: dict[str, np.ndarray], mlp: dict[str, np.ndarray], lr: float):
    """Left: step length / alpha with g = 1 per variant; right: the MLP's training loss per step."""
    import matplotlib.pyplot as plt

    colors = ("#d62728", "black", "#1f77b4", "#ff7f0e")
    styles = ("-", "--", "-.", ":")
    fig, (ax_step, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.4))
    for (name, ratio), c, ls in zip(steps.items(), colors, styles):
        ax_step.plot(np.arange(1, len(ratio) + 1), ratio, color=c, ls=ls, label=_math_label(name))
    log_axis(ax_step, "x")
    log_axis(ax_step, "y")
    ax_step.set(xlabel="step t", ylabel=r"$|\Delta w_t|\,/\,\alpha$")
    ax_step.set_title("constant gradient g = 1: step length relative to α")
    ax_step.legend(fontsize=9)
    for (name, losses), c, ls in zip(mlp.items(), colors, styles):
        ax_loss.plot(np.arange(1, len(losses) + 1), losses, color=c, ls=ls, lw=1.4,
                     label=_math_label(name))
    log_axis(ax_loss, "y")
    ax_loss.set(xlabel="step t", ylabel="training loss (mini-batch)")
    ax_loss.set_title(f"course MLP on Fashion-MNIST, Adam α = {lr:g}")
    ax_loss.legend(fontsize=9, loc="upper right")
    fig.tight_layout()
    return fig


def plot_noise_floor(run: NoiseFloorRun):
    """Mean loss per step (log-log) for each method, with the predicted floor / decay dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.8))
    colors = ("#d62728", "#ff9896", OPTIMIZER_COLORS["adagrad"])
    t = np.arange(1, run.settings["steps"] + 1)
    for (name, losses), c in zip(run.losses.items(), colors):
        ax.plot(t, losses, color=c, label=name)
        ax.plot(t, run.predicted[name], color=c, ls="--", lw=1.2)
    ax.plot([], [], color="gray", ls="--", lw=1.2, label="prediction: dασ/4 and dασ/(4√t)")
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set(xlabel="step t", ylabel="mean loss over runs")
    s = run.settings
    ax.set_title(f"noisy gradients (σ = {s['sigma']:g}), h = {s['h']}, mean of {s['seeds']} runs")
    ax.legend()
    fig.tight_layout()
    return fig
