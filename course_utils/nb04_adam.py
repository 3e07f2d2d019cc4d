"""Notebook 04 (Adam): checks against torch.optim, demos, the quadratic race panel, exercises.

Everything here runs on the CPU in well under a second, so a notebook cell can call it live:

* `compare_with_torch`: the course MLP trained on real Fashion-MNIST batches by a from-scratch
  update and by ``torch.optim.Adam``/``AdamW`` side by side, compared in the checker shape;
* `effective_step_demo`: Adam's per-parameter step alpha/(sqrt(v_hat)+eps) for coordinates whose
  gradients differ by orders of magnitude;
* `bias_correction_steps` / `bias_correction_on_quadratic`: what removing the bias correction
  does to the first steps, measured;
* `make_race_panel`: Adam vs SGD vs Adagrad on notebook 01's quadratic with sliders;
* `noise_floor_demo`: constant-step Adam stalls at a noise floor, Adagrad keeps converging;
* exercises (RMSProp, AMSGrad) with reference solutions, typical wrong answers and checkers.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch

from course_utils.checkers import CheckResult, compare
from course_utils.optimizers import adam_update, adamw_update, validate_hyperparameters
from course_utils.plotting import (
    OPTIMIZER_COLORS,
    annotate_divergence,
    log_axis,
)
from course_utils.quadratic import Quadratic, Trajectory, gradient_descent, run_update_rule
from course_utils.widgets import SliderPanel, float_slider, log_slider

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


@contextlib.contextmanager
def single_thread():
    """Run torch on one CPU thread inside the block, then restore the previous setting.

    The MLP's small matrix products gain little from a second thread, while on a busy machine
    (a laptop running other programs, a shared CI runner) two-thread runs were measured 10-20
    times slower than one-thread runs; one thread also fixes the order of floating-point sums.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


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
    with single_thread():
        for t, (X, y) in enumerate(fashion_batches(max(steps, 50))[:steps], start=1):
            # Both updates get the same gradients (those of the torch.optim copy), so any
            # difference comes from the update arithmetic alone, not from diverging training runs.
            opt.zero_grad()
            loss_fn(reference(X.to(dtype)), y).backward()
            grads = [p.grad.clone() for p in reference.parameters()]
            opt.step()
            with torch.no_grad():
                if order == "torch":
                    adam_update_torch_order(
                        params,
                        grads,
                        m_state,
                        v_state,
                        lr,
                        0.9,
                        0.999,
                        1e-8,
                        t,
                        wd,
                        kind == "adamw",
                    )
                elif kind == "adamw":
                    params, _, _ = adamw_update(params, grads, m_state, v_state, lr=lr,
                                                weight_decay=wd, t=t)
                else:
                    if kind == "adam_l2":
                        grads = [g + wd * p for g, p in zip(grads, params)]
                    params, _, _ = adam_update(params, grads, m_state, v_state, lr=lr, t=t)
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
    """Adam on L(w) = sum_i s_i (w_i - 1)^2 / 2 with noisy gradients s_i (w_i - 1 + noise*xi).

    The coordinates differ only by the gradient scale s_i. Returns the effective step
    alpha/(sqrt(v_hat)+eps), the actual step |Delta w| and sqrt(v_hat) at every step (fp64).
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(beta1, beta2))
    s = np.asarray(scales, dtype=np.float64)
    rng = np.random.default_rng(seed)
    w = np.zeros_like(s)
    m, v = np.zeros_like(s), np.zeros_like(s)
    eff, upd, rms = [], [], []
    for t in range(1, steps + 1):
        g = s * (w - 1.0 + noise * rng.standard_normal(s.shape))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        step = lr * m_hat / (np.sqrt(v_hat) + eps)
        w = w - step
        eff.append(lr / (np.sqrt(v_hat) + eps))
        upd.append(np.abs(step))
        rms.append(np.sqrt(v_hat))
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
    with single_thread():
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
    for (name, eff), color in zip(steps.items(), ("#1f77b4", "#2ca02c", "#8c564b", "#ff7f0e")):
        ax.hist(eff, bins=bins, weights=np.full(eff.shape, 100.0 / eff.size), histtype="step",
                lw=2, color=color, label=f"{name}, {eff.size:,} parameters")
    ax.axvline(lr, color="black", ls="--", lw=1.2)
    ax.text(lr * 1.15, 0.97, f"α = {lr:g}", transform=ax.get_xaxis_transform(), va="top")
    ax.set_xscale("log")
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


def _adam_variant_step(w, g, m, v, t, lr, beta1, beta2, eps, correct_m, correct_v):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t) if correct_m else m
    v_hat = v / (1 - beta2**t) if correct_v else v
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def bias_correction_steps(
    steps: int = 3000, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
) -> dict[str, np.ndarray]:
    """Measured step length |Delta w_t| / alpha with a constant gradient g = 1, per variant.

    With bias correction the step is exactly alpha from t = 1; the other variants show how
    much too short or too long the first steps are.
    """
    out = {}
    for name, (cm, cv) in BIAS_VARIANTS.items():
        w, m, v = 0.0, 0.0, 0.0
        ratios = np.empty(steps)
        for t in range(1, steps + 1):
            w_new, m, v = _adam_variant_step(w, 1.0, m, v, t, lr, beta1, beta2, eps, cm, cv)
            ratios[t - 1] = abs(w_new - w) / lr
            w = w_new
        out[name] = ratios
    return out


def bias_correction_on_quadratic(
    q: Quadratic | None = None,
    w0=None,
    lr: float = 0.1,
    steps: int = 60,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> dict[str, Trajectory]:
    """Adam with and without bias correction on the race quadratic (fp64, no noise)."""
    q = q if q is not None else RACE_PROBLEMS["axis-aligned (κ = 50)"]
    w0 = RACE_W0 if w0 is None else w0
    runs = {}
    for name, (cm, cv) in BIAS_VARIANTS.items():
        state = {"m": np.zeros(q.dim), "v": np.zeros(q.dim)}

        def step(w, g, t, cm=cm, cv=cv, state=state):
            w, state["m"], state["v"] = _adam_variant_step(
                w, g, state["m"], state["v"], t, lr, beta1, beta2, eps, cm, cv
            )
            return w

        runs[name] = run_update_rule(q, w0, step, steps)
    return runs


# ---------------------------------------------------------------------------------------------
# 4. Adam vs SGD vs Adagrad on the quadratic (the race panel)
# ---------------------------------------------------------------------------------------------

# Notebook 01's quadratic, h = (1, 0.02), in its rotated form and aligned with the axes.
RACE_PROBLEMS = {
    "axis-aligned (κ = 50)": Quadratic(h=(1.0, 0.02), angle_deg=0.0),
    "rotated 45° (κ = 50)": Quadratic(h=(1.0, 0.02), angle_deg=45.0),
}
RACE_DEFAULT = "axis-aligned (κ = 50)"
RACE_W0 = np.array([-4.0, 3.0])
RACE_STEPS = 100
_XLIM, _YLIM = (-5.0, 5.0), (-4.0, 4.0)
_LOSS_FLOOR = 1e-10


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
    """Adagrad (course formula, eps inside the root) on a quadratic, as a Trajectory."""
    validate_hyperparameters(lr=lr, eps=eps)
    G = np.zeros(q.dim)

    def step(w, g, t):
        G[:] = G + g * g
        return w - lr * g / np.sqrt(G + eps)

    return run_update_rule(q, w0, step, steps, noise_std, seed)


def sgd_lr(q: Quadratic) -> float:
    """SGD's best fixed step on q, 2/(h_max + h_min) (notebook 01)."""
    return 2.0 / (max(q.h) + min(q.h))


def race(
    q: Quadratic, lr: float, beta1: float, beta2: float, steps: int = RACE_STEPS, noise: float = 0.0
):
    """The three runs of the race: {name: (Trajectory, color, label)}.

    ``noise`` > 0 adds Gaussian noise of that standard deviation to every gradient (the same
    seeded draws for all three methods), which turns GD into SGD.
    """
    lr_sgd = sgd_lr(q)
    gd_name = "SGD" if noise else "GD"
    return {
        "sgd": (
            gradient_descent(q, RACE_W0, lr_sgd, steps, noise_std=noise, seed=0),
            OPTIMIZER_COLORS["sgd"],
            f"{gd_name}, best fixed α = {lr_sgd:.2f}",
        ),
        "adagrad": (
            adagrad_path(q, RACE_W0, lr, steps=steps, noise_std=noise, seed=0),
            OPTIMIZER_COLORS["adagrad"],
            f"Adagrad, α = {lr:.3g}",
        ),
        "adam": (
            adam_path(q, RACE_W0, lr, beta1, beta2, steps=steps, noise_std=noise, seed=0),
            OPTIMIZER_COLORS["adam"],
            f"Adam, α = {lr:.3g}, β₁ = {beta1:.2f}, β₂ = {beta2:g}",
        ),
    }


@functools.lru_cache(maxsize=8)
def _contour_grid(problem: str, n: int = 90):
    q = RACE_PROBLEMS[problem]
    xs, ys = np.linspace(*_XLIM, n), np.linspace(*_YLIM, int(n * 0.8))
    X, Y = np.meshgrid(xs, ys)
    Z = q.loss(np.stack([X, Y], axis=-1))
    return X, Y, Z, np.geomspace(1e-2, Z.max(), 10)


class RaceDrawer:
    """Draws the race; ``setup``/``update`` let a SliderPanel change data without re-plotting.

    Left: contours and the three paths; right: loss per step (log scale, floored at 1e-10).
    Calling the object, ``RaceDrawer()(fig, **values)``, does both at once (for static figures).
    """

    def setup(self, fig) -> dict:
        # Fixed axes rectangles: tight_layout would cost a second full draw on every redraw.
        ax_path = fig.add_axes((0.06, 0.12, 0.42, 0.78))
        ax_loss = fig.add_axes((0.58, 0.12, 0.40, 0.78))
        ax_path.plot(0, 0, "*", color="black", markersize=12)
        ax_path.plot(*RACE_W0, "s", color="black", markersize=7)
        ax_path.set(xlim=_XLIM, ylim=_YLIM, xlabel="$w_1$", ylabel="$w_2$", aspect="equal")
        ax_path.set(xticks=[-4, -2, 0, 2, 4], yticks=[-4, -2, 0, 2, 4])
        paths, curves = {}, {}
        for name in ("sgd", "adagrad", "adam"):
            color = OPTIMIZER_COLORS[name]
            # One artist per path (line and markers together) keeps the redraw fast.
            (paths[name],) = ax_path.plot([], [], "o-", color=color, lw=1.3, ms=2.5)
            (curves[name],) = ax_loss.plot([], [], color=color, label=name)
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(_LOSS_FLOOR / 2, 1e2)
        log_axis(ax_loss)
        ax_loss.set(xlim=(0, RACE_STEPS), xticks=[0, 25, 50, 75, 100], xlabel="step t")
        ax_loss.set(ylabel="loss L(w_t)  (floored at 1e-10)")
        ax_loss.set_title("loss per step")
        legend = ax_loss.legend(loc="lower left", fontsize=9)
        annotate_divergence(ax_loss, "a run diverged (stopped)")
        warning = ax_loss.texts[-1]
        warning.set_visible(False)
        return dict(
            ax_path=ax_path, paths=paths, curves=curves, legend=legend, warning=warning,
            problem=None, contour=None,
        )

    def update(
        self, state, lr=0.1, beta1=0.9, beta2=0.999, problem=RACE_DEFAULT, noise=0.0
    ) -> None:
        if problem not in RACE_PROBLEMS:
            raise ValueError(f"Unknown problem {problem!r}: choose one of {list(RACE_PROBLEMS)}.")
        q = RACE_PROBLEMS[problem]
        ax_path = state["ax_path"]
        if problem != state["problem"]:
            if state["contour"] is not None:
                state["contour"].remove()
            X, Y, Z, levels = _contour_grid(problem)
            state["contour"] = ax_path.contour(
                X, Y, Z, levels=levels, colors="#9ab", linewidths=0.8, zorder=0
            )
            state["problem"] = problem
        noisy = f", noise σ = {noise:.2g}" if noise else ""
        ax_path.set_title(f"{RACE_STEPS} steps, {problem}{noisy}")
        runs = race(q, lr, beta1, beta2, noise=noise)
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
    controls = {
        "lr": log_slider("α (lr)", 0.1, 0.001, 1.0),  # grid 10^(k/20): 0.1 on it
        "beta1": float_slider("β₁", 0.9, 0.0, 0.99, step=0.01),
        "beta2": widgets.SelectionSlider(
            options=BETA2_CHOICES,
            value=0.999,
            description="β₂",
            style={"description_width": "110px"},
            layout=widgets.Layout(width="340px"),
        ),
        "problem": widgets.Dropdown(
            options=list(RACE_PROBLEMS),
            value="axis-aligned (κ = 50)",
            description="problem",
            style={"description_width": "110px"},
            layout=widgets.Layout(width="340px"),
        ),
        "noise": float_slider("σ (noise)", 0.0, 0.0, 1.0, step=0.05),
    }
    return SliderPanel(
        RaceDrawer(), controls, figsize=(12, 4.8), title="Adam vs GD vs Adagrad on a quadratic"
    )


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

    Gradients are H w + sigma * xi. Near the optimum Adam behaves like SGD with step
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
        w = np.tile(np.asarray(w0, dtype=np.float64), (seeds, 1))
        state = [np.zeros_like(w) for _ in range(3)]
        losses = np.empty(steps)
        for k in range(1, steps + 1):
            g = w @ H.T + sigma * rng.standard_normal(w.shape)
            w = update(w, g, k, state)
            losses[k - 1] = np.mean(0.5 * np.einsum("si,ij,sj->s", w, H, w))
        return losses

    def adam(lr):
        def update(w, g, k, state):
            m, v, _ = state
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            return w - lr * (m / (1 - beta1**k)) / (np.sqrt(v / (1 - beta2**k)) + eps)

        return update

    def adagrad(w, g, k, state):
        G = state[2]
        G += g * g
        return w - adagrad_lr * g / np.sqrt(G + eps)

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
    for i, s in enumerate(run.scales):
        label = f"gradient scale s = {s:g}"
        ax_eff.plot(t, run.effective_step[:, i], color=_SCALE_COLORS[i % 3], label=label)
        ax_upd.plot(t, run.update[:, i] / run.lr, color=_SCALE_COLORS[i % 3], lw=1.2, label=label)
    ax_eff.set_yscale("log")
    ax_eff.set(xlabel="step t", ylabel="α / (√v̂ + ε)")
    ax_eff.set_title(f"effective step per parameter (α = {run.lr:g})")
    ax_eff.legend()
    ax_upd.axhline(1.0, color="black", ls="--", lw=1, label="|Δw| = α")
    ax_upd.set(xlabel="step t", ylabel="|Δw_t| / α", ylim=(0, 1.6))
    ax_upd.set_title("actual step |Δw|/α: the same for every scale")
    ax_upd.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


def plot_bias_correction(steps: dict[str, np.ndarray], runs: dict[str, Trajectory]):
    """Left: step length / alpha with g = 1 per variant; right: the quadratic's loss per step."""
    import matplotlib.pyplot as plt

    colors = ("#d62728", "black", "#1f77b4", "#ff7f0e")
    styles = ("-", "--", "-.", ":")
    fig, (ax_step, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.4))
    for (name, ratio), c, ls in zip(steps.items(), colors, styles):
        ax_step.plot(np.arange(1, len(ratio) + 1), ratio, color=c, ls=ls, label=name)
    ax_step.set(xscale="log", yscale="log", xlabel="step t", ylabel="|Δw_t| / α")
    ax_step.set_title("constant gradient g = 1: step length relative to α")
    ax_step.legend(fontsize=9)
    for (name, traj), c, ls in zip(runs.items(), colors, styles):
        ax_loss.plot(traj.losses, color=c, ls=ls, label=name)
    ax_loss.set(yscale="log", xlabel="step t", ylabel="loss L(w_t)")
    ax_loss.set_title("Adam (α = 0.1) on the κ = 50 quadratic")
    ax_loss.legend(fontsize=9)
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
    ax.set(xscale="log", yscale="log", xlabel="step t", ylabel="mean loss over runs")
    s = run.settings
    ax.set_title(f"noisy gradients (σ = {s['sigma']:g}), h = {s['h']}, mean of {s['seeds']} runs")
    ax.legend()
    fig.tight_layout()
    return fig
