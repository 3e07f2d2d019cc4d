"""Experiments, figures and slider panels for notebook 02 (Adagrad).

* figure 2.1: Adagrad's effective learning rate alpha / sqrt(G + eps) for parameters with small,
  medium and large gradients (`effective_lr_history`, `plot_effective_lr`);
* the eps-placement lesson: the course's sqrt(G + eps) against torch's sqrt(G) + eps
  (`first_step_size`, `one_step_comparison`, `compare_with_torch_on_mlp`, `plot_drift`);
* a sparse-feature demo (`sparse_regression`), the stall (`stall_run`) and Adagrad on the
  quadratic of notebook 01, axis-aligned or rotated (`quadratic_runs`);
* panel factories (`make_effective_lr_panel`, `make_sparse_panel`, `make_quadratic_panel`);
* exercise checkers with the typical wrong answers (`check_adagrad_torch_eps`,
  `check_stall_steps`).

Everything but the torch comparisons runs in float64 numpy and is seeded, so printed numbers are
reproducible.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .checkers import compare
from .optimizers import CourseAdagrad, adagrad_update, validate_hyperparameters
from .plotting import OPTIMIZER_COLORS, annotate_divergence, log_axis
from .quadratic import Quadratic, best_fixed_step, gradient_descent, run_update_rule
from .widgets import SliderPanel, float_slider, int_slider, log_slider

# Typical gradient magnitudes of three parameters in figure 2.1: small, medium, large.
GRADIENT_SCALES = {"small": 0.01, "medium": 0.1, "large": 1.0}
_SCALE_COLORS = {"small": "#2ca02c", "medium": "#ff7f0e", "large": "#1f77b4"}
_TORCH_COLOR = "#7f7f7f"


# --------------------------------------------------------------------------------------------
# Figure 2.1: effective learning rate
# --------------------------------------------------------------------------------------------


def sample_gradients(scales, steps: int = 500, seed: int = 0) -> np.ndarray:
    """Noisy gradients g[t, i] of typical size scales[i]: scale * (1 + 0.3 N(0,1)), random sign."""
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps}.")
    scales = np.asarray(scales, dtype=np.float64)
    if scales.ndim != 1 or not np.all(scales > 0):
        raise ValueError(f"scales must be a 1-D list of positive gradient sizes, got {scales}.")
    rng = np.random.default_rng(seed)
    size = np.abs(1.0 + 0.3 * rng.standard_normal((steps, scales.size)))
    sign = rng.choice([-1.0, 1.0], size=(steps, scales.size))
    return sign * size * scales


def effective_lr_history(grads, lr: float, eps: float, eps_inside_sqrt: bool = True):
    """Effective learning rate after each step, shape like ``grads`` (T, n).

    Course: lr / sqrt(G_t + eps). torch: lr / (sqrt(G_t) + eps). G_t = sum of g^2 up to step t.
    """
    validate_hyperparameters(lr=lr, eps=eps)
    G = np.cumsum(np.asarray(grads, dtype=np.float64) ** 2, axis=0)
    denom = np.sqrt(G + eps) if eps_inside_sqrt else np.sqrt(G) + eps
    return lr / denom


def plot_effective_lr(
    ax,
    lr: float = 0.1,
    eps: float = 1e-8,
    scales: dict | None = None,
    steps: int = 500,
    seed: int = 0,
    show_torch: bool = False,
    show_steps: bool = False,
):
    """Figure 2.1: alpha / sqrt(G_t + eps) over steps for small, medium and large gradients.

    ``show_torch`` adds torch's alpha / (sqrt(G_t) + eps) dashed; ``show_steps`` adds the typical
    step |Δw| = effective lr x |g| in thin lines (it is the same for all three).
    """
    scales = dict(GRADIENT_SCALES if scales is None else scales)
    grads = sample_gradients(list(scales.values()), steps, seed)
    t = np.arange(1, steps + 1)
    course = effective_lr_history(grads, lr, eps, eps_inside_sqrt=True)
    torch_conv = effective_lr_history(grads, lr, eps, eps_inside_sqrt=False) if show_torch else None
    for i, (name, scale) in enumerate(scales.items()):
        color = _SCALE_COLORS.get(name, None)
        ax.plot(t, course[:, i], color=color, label=f"{name} |g| ≈ {scale:g}")
        if torch_conv is not None:
            ax.plot(t, torch_conv[:, i], "--", color=color, lw=1.5)
    if show_torch:
        ax.plot([], [], "--", color=_TORCH_COLOR, lw=1.5, label="torch: α/(√G + ε)")
    if show_steps:
        step = lr / np.sqrt(t)
        ax.plot(t, step, ":", color="black", lw=1.5, label="typical step α/√t")
    ax.set_yscale("log")
    log_axis(ax)
    ax.set_xlabel("step t")
    ax.set_ylabel("effective learning rate α / √(G + ε)")
    ax.set_title(f"Adagrad's effective learning rate (α = {lr:g}, ε = {eps:.0e})", y=1.0)
    ax.legend(loc="upper right")
    return ax


# --------------------------------------------------------------------------------------------
# The eps-placement lesson
# --------------------------------------------------------------------------------------------


def first_step_size(g_abs, lr: float, eps: float, eps_inside_sqrt: bool = True) -> np.ndarray:
    """|Δw| of Adagrad's first step for gradient size |g| (G = g^2): course or torch convention."""
    validate_hyperparameters(lr=lr, eps=eps)
    g = np.abs(np.asarray(g_abs, dtype=np.float64))
    denom = np.sqrt(g * g + eps) if eps_inside_sqrt else g + eps
    return lr * g / denom


def one_step_comparison(lr: float = 0.01, eps: float = 1e-10, dtype=torch.float64, n: int = 61):
    """One step from the same weights with gradients 1e-9..10: each implementation vs torch.

    Returns a dict of CheckResult: the list function ``adagrad_update`` (course convention),
    ``CourseAdagrad(eps_inside_sqrt=False)`` (torch convention); each against
    ``torch.optim.Adagrad(lr, eps=eps)``.
    """
    g = torch.logspace(-9, 1, n, dtype=dtype) * torch.tensor([1.0, -1.0], dtype=dtype).repeat(n)[:n]
    w0 = torch.linspace(-1, 1, n, dtype=dtype)

    def torch_step(opt_cls, **kw):
        w = w0.clone().requires_grad_(True)
        opt = opt_cls([w], lr=lr, eps=eps, **kw)
        w.grad = g.clone()
        opt.step()
        return w.detach()

    expected = torch_step(torch.optim.Adagrad)
    course, _ = adagrad_update([w0.clone()], [g.clone()], [], lr=lr, eps=eps)
    torch_conv = torch_step(CourseAdagrad, eps_inside_sqrt=False)
    return {
        "adagrad_update (course, eps inside)": compare(
            "adagrad_update vs torch.optim.Adagrad", course[0], expected
        ),
        "CourseAdagrad(eps_inside_sqrt=False)": compare(
            "CourseAdagrad(eps_inside_sqrt=False) vs torch.optim.Adagrad", torch_conv, expected
        ),
    }


def make_mlp(dtype=torch.float32, hidden: int = 64, seed: int = 0) -> torch.nn.Module:
    """A small 784-hidden-10 MLP for Fashion-MNIST, seeded."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, 10),
    )
    return model.to(dtype)


def compare_with_torch_on_mlp(
    X,
    y,
    convention: str = "course",
    dtype=torch.float32,
    steps: int = 200,
    lr: float = 0.01,
    eps: float = 1e-10,
    batch_size: int = 128,
    seed: int = 0,
):
    """Train two identical MLPs in lockstep on the same batches: torch.optim.Adagrad and ours.

    ``convention="course"`` steps ours with the list function ``adagrad_update`` (eps inside the
    root); ``"torch"`` uses ``CourseAdagrad(eps_inside_sqrt=False)``. Returns (CheckResult on the
    final parameters, max |parameter difference| after each step as an array of length steps).
    """
    if convention not in ("course", "torch"):
        raise ValueError(f"convention must be 'course' or 'torch', got {convention!r}.")
    if len(X) < batch_size:
        raise ValueError(f"Need at least batch_size={batch_size} examples, got {len(X)}.")
    threads = torch.get_num_threads()
    # One thread: these models are tiny, and on a busy 2-core machine two threads only contend.
    torch.set_num_threads(1)
    try:
        return _lockstep(X, y, convention, dtype, steps, lr, eps, batch_size, seed)
    finally:
        torch.set_num_threads(threads)


def _lockstep(X, y, convention, dtype, steps, lr, eps, batch_size, seed):
    ref, ours = make_mlp(dtype, seed=seed), make_mlp(dtype, seed=seed)
    ref_opt = torch.optim.Adagrad(ref.parameters(), lr=lr, eps=eps)
    ours_params = list(ours.parameters())
    ours_opt = CourseAdagrad(ours_params, lr=lr, eps=eps, eps_inside_sqrt=False)
    state: list = []
    gen = torch.Generator().manual_seed(seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    drift = np.empty(steps)
    for k in range(steps):
        idx = torch.randint(0, len(X), (batch_size,), generator=gen)
        xb, yb = X[idx].to(dtype), y[idx]
        for model in (ref, ours):
            model.zero_grad()
            loss_fn(model(xb), yb).backward()
        ref_opt.step()
        if convention == "torch":
            ours_opt.step()
        else:
            with torch.no_grad():
                new, state = adagrad_update(
                    [p.detach().clone() for p in ours_params],
                    [p.grad for p in ours_params],
                    state,
                    lr=lr,
                    eps=eps,
                )
                for p, w in zip(ours_params, new):
                    p.copy_(w)
        with torch.no_grad():
            drift[k] = max(
                (a - b).abs().max().item() for a, b in zip(ours.parameters(), ref.parameters())
            )
    label = "adagrad_update" if convention == "course" else "CourseAdagrad(eps_inside_sqrt=False)"
    result = compare(
        f"{label} vs torch.optim.Adagrad, {steps} steps, {str(dtype).replace('torch.', '')}",
        [p.detach() for p in ours.parameters()],
        [p.detach() for p in ref.parameters()],
    )
    return result, drift


def plot_drift(ax, drifts: dict):
    """Max |parameter difference| to torch.optim.Adagrad over steps, one line per run."""
    styles = [dict(lw=4, alpha=0.5), dict(lw=1.5, ls="--"), dict(lw=1.5, ls=":")]
    for (label, d), style in zip(drifts.items(), styles * len(drifts)):
        d = np.asarray(d, dtype=np.float64)
        if np.all(d == 0):
            label += ": identical (0 at every step)"
        ax.plot(np.arange(1, d.size + 1), d, label=label, **style)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("training step")
    ax.set_ylabel("max |w_ours − w_torch|")
    ax.set_title("Difference from torch.optim.Adagrad (same batches, same init)", y=1.0)
    ax.legend(loc="center right", fontsize=9)
    return ax


# --------------------------------------------------------------------------------------------
# Sparse features
# --------------------------------------------------------------------------------------------


class SparseRun(dict):
    """Result of `sparse_regression`: a dict of arrays, keys documented there."""


def sparse_regression(
    p_rare: float = 0.02,
    p_frequent: float = 0.9,
    lr_adagrad: float = 0.5,
    lr_sgd: float = 0.05,
    steps: int = 1000,
    noise: float = 0.1,
    eps: float = 1e-8,
    seed: int = 0,
) -> SparseRun:
    """Online linear regression y = x·w* + noise with a frequent and a rare binary feature.

    x_i = 1 with probability p_i, else 0 (so the rare coordinate's gradient is 0 most of the
    time); w* = (1, 1), w starts at 0. Each step sees one example. Returns arrays over steps:
    ``w_sgd``, ``w_adagrad`` (T+1, 2), ``lr_eff`` (T, 2) Adagrad's α/√(G+ε), ``x`` (T, 2).
    """
    for name, p in (("p_rare", p_rare), ("p_frequent", p_frequent)):
        if not 0 < p <= 1:
            raise ValueError(f"{name} must be a probability in (0, 1], got {p}.")
    validate_hyperparameters(lr=lr_adagrad, eps=eps)
    validate_hyperparameters(lr=lr_sgd)
    rng = np.random.default_rng(seed)
    x = (rng.random((steps, 2)) < np.array([p_frequent, p_rare])).astype(np.float64)
    y = x.sum(axis=1) + noise * rng.standard_normal(steps)
    # Plain Python floats: two coordinates, so numpy's per-call overhead would dominate.
    s1, s2, a1, a2, G1, G2 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    path_sgd, path_ada, lr_eff = [(0.0, 0.0)], [(0.0, 0.0)], []
    for (x1, x2), y_t in zip(x.tolist(), y.tolist()):
        r = s1 * x1 + s2 * x2 - y_t
        s1, s2 = s1 - lr_sgd * r * x1, s2 - lr_sgd * r * x2
        r = a1 * x1 + a2 * x2 - y_t
        g1, g2 = r * x1, r * x2
        G1, G2 = G1 + g1 * g1, G2 + g2 * g2
        e1, e2 = lr_adagrad / (G1 + eps) ** 0.5, lr_adagrad / (G2 + eps) ** 0.5
        a1, a2 = a1 - e1 * g1, a2 - e2 * g2
        path_sgd.append((s1, s2))
        path_ada.append((a1, a2))
        lr_eff.append((e1, e2))
    return SparseRun(
        w_sgd=np.array(path_sgd),
        w_adagrad=np.array(path_ada),
        lr_eff=np.array(lr_eff),
        x=x,
        lr_sgd=lr_sgd,
        lr_adagrad=lr_adagrad,
    )


# --------------------------------------------------------------------------------------------
# The stall
# --------------------------------------------------------------------------------------------


class StallRun(dict):
    """Result of `stall_run`: a dict of arrays, keys documented there."""


def stall_run(
    distance: float = 100.0,
    lr: float = 0.5,
    steps: int = 2000,
    delta: float = 0.25,
    beta2: float = 0.9,
    eps: float = 1e-8,
) -> StallRun:
    """A long gentle slope: the Huber loss of w - w* started `distance` away (|g| = delta there).

    Adagrad's steps are α/√t whatever the slope, so it covers only about 2α√T in T steps.

    Runs Adagrad (G = sum g^2), SGD with the same α, and an EMA of g^2 (RMSProp, β₂ = beta2).
    Returns ``t``, the distance left ``gap_<method>`` (T+1,) and the step sizes ``step_<method>``.
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(beta2,))
    if not distance > 0 or not delta > 0:
        raise ValueError("distance and delta must be > 0.")
    w_star = float(distance)

    def grad(w):
        return float(np.clip(w - w_star, -delta, delta))

    out = StallRun(t=np.arange(steps + 1))
    for method in ("adagrad", "sgd", "rmsprop"):
        w, acc = 0.0, 0.0
        gaps, sizes = [w_star - w], []
        for t in range(1, steps + 1):
            g = grad(w)
            if method == "adagrad":
                acc += g * g
                step = lr * g / np.sqrt(acc + eps)
            elif method == "rmsprop":
                acc = beta2 * acc + (1 - beta2) * g * g
                step = lr * g / np.sqrt(acc / (1 - beta2**t) + eps)
            else:
                step = lr * g
            w -= step
            gaps.append(w_star - w)
            sizes.append(abs(step))
        out[f"gap_{method}"] = np.array(gaps)
        out[f"step_{method}"] = np.array(sizes)
    out.update(distance=distance, lr=lr, delta=delta)
    return out


def steps_to_cover(distance: float, lr: float) -> int:
    """Fewest Adagrad steps with |g| constant to cover ``distance``: lr Σ 1/√t >= distance."""
    validate_hyperparameters(lr=lr)
    if not lr > 0 or not distance > 0:
        raise ValueError("distance and lr must be > 0.")
    # lr Σ_{t<=T} t^{-1/2} is about lr (2√T - 1.46); refine exactly from that estimate.
    T = max(1, int(((distance / lr + 1.4603545088) / 2) ** 2) - 3)
    covered = lr * np.sum(1 / np.sqrt(np.arange(1, T + 1, dtype=np.float64)))
    while covered < distance:
        T += 1
        covered += lr / np.sqrt(T)
    while T > 1 and covered - lr / np.sqrt(T) >= distance:
        covered -= lr / np.sqrt(T)
        T -= 1
    return T


def plot_stall(ax_gap, ax_step, run: StallRun):
    """Left: distance still to go. Right: step size |Δw| on log-log axes (Adagrad ∝ 1/√t)."""
    t = run["t"]
    labels = {
        "sgd": (f"SGD, α g (|g| = {run['delta']:g})", OPTIMIZER_COLORS["sgd"]),
        "rmsprop": ("EMA of g² (RMSProp, β₂ = 0.9)", OPTIMIZER_COLORS["rmsprop"]),
        "adagrad": ("Adagrad, α g / √G", OPTIMIZER_COLORS["adagrad"]),
    }
    for key, (label, color) in labels.items():
        ax_gap.plot(t, run[f"gap_{key}"], color=color, label=label)
        ax_step.plot(t[1:], np.maximum(run[f"step_{key}"], 1e-6), color=color, label=label)
    ax_gap.axhline(0, color="black", lw=1)
    ax_gap.set_xlabel("step t")
    ax_gap.set_ylabel("distance to the optimum |w* − w|")
    ax_gap.set_title(f"Adagrad stalls on a long slope (α = {run['lr']:g})", y=1.0)
    ax_gap.legend(loc="upper right", fontsize=9)
    ax_step.set_xscale("log")
    ax_step.set_yscale("log")
    log_axis(ax_step, "x")
    log_axis(ax_step, "y")
    ax_step.set_ylim(1e-3, 2 * run["lr"])
    ax_step.set_xlabel("step t")
    ax_step.set_ylabel("step size |Δw|")
    ax_step.set_title("Adagrad's step shrinks like α/√t", y=1.0)
    return ax_gap, ax_step


# --------------------------------------------------------------------------------------------
# Adagrad on the quadratic of notebook 01
# --------------------------------------------------------------------------------------------


def adagrad_step_fn(lr: float, eps: float = 1e-8) -> Callable:
    """A ``step_fn(w, g, t)`` for `run_update_rule` that keeps Adagrad's G between calls."""
    validate_hyperparameters(lr=lr, eps=eps)
    state: list = []

    def step(w, g, t):
        params, _ = adagrad_update([w], [g], state, lr=lr, eps=eps)
        return params[0]

    return step


QUADRATIC_W0 = (-4.0, 3.0)


def quadratic_runs(
    kappa: float = 100.0, angle_deg: float = 0.0, lr: float = 2.0, steps: int = 60, w0=QUADRATIC_W0
) -> dict:
    """GD at its best fixed step 2/(h_max + h_min) and Adagrad with α = lr on one quadratic."""
    q = Quadratic.from_kappa(kappa, h_max=1.0, angle_deg=angle_deg)
    return {
        "q": q,
        "gd": gradient_descent(q, w0, best_fixed_step(q.h), steps),
        "adagrad": run_update_rule(q, w0, adagrad_step_fn(lr), steps),
    }


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------


class EffectiveLrDrawer:
    """Panel drawer for figure 2.1 plus the first-step curve (incremental: see widgets.py)."""

    steps = 300

    def __init__(self, seed: int = 0):
        # Unit-size samples: the gradients of a parameter of size s are s times these.
        self.unit = sample_gradients([1.0, 1.0, 1.0], self.steps, seed)
        self.t = np.arange(1, self.steps + 1)
        self.g = np.geomspace(1e-12, 1.0, 200)

    def setup(self, fig):
        ax1, ax2 = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.9, wspace=0.28)
        st = {"ax1": ax1, "ax2": ax2, "course": [], "torch": [], "marks": []}
        for name in GRADIENT_SCALES:
            color = _SCALE_COLORS[name]
            st["course"].append(ax1.plot([], [], color=color, label=name)[0])
            st["torch"].append(ax1.plot([], [], "--", color=color, lw=1.5)[0])
            st["marks"].append(ax2.plot([], [], "o", color=color, ms=8)[0])
        ax1.plot([], [], "--", color=_TORCH_COLOR, lw=1.5, label="torch: α/(√G + ε)")
        ax1.set_yscale("log")
        log_axis(ax1)
        ax1.set_xlim(0, self.steps)
        ax1.set_xlabel("step t")
        ax1.set_ylabel("effective learning rate")
        st["leg1"] = ax1.legend(loc="upper right", fontsize=9)
        st["title1"] = ax1.set_title("", y=1.0)
        (st["first_course"],) = ax2.plot(
            [], [], color=OPTIMIZER_COLORS["adagrad"], label="course: √(g² + ε)"
        )
        (st["first_torch"],) = ax2.plot([], [], "--", color=_TORCH_COLOR, label="torch: √(g²) + ε")
        st["knee_course"] = ax2.axvline(1e-5, color=OPTIMIZER_COLORS["adagrad"], lw=1, alpha=0.6)
        st["knee_torch"] = ax2.axvline(1e-10, color=_TORCH_COLOR, lw=1, alpha=0.6)
        ax2.set_xscale("log")
        log_axis(ax2, "x")
        ax2.set_xlim(1e-12, 1.0)
        ax2.set_ylim(0, 1.12)
        ax2.locator_params(axis="y", nbins=5)
        ax2.set_xlabel("gradient size |g| (first step)")
        ax2.set_ylabel("first step |Δw| / α")
        ax2.legend(loc="center right", fontsize=9)
        ax2.set_title("Knees at |g| = √ε (course) and |g| = ε (torch)", y=1.0)
        return st

    def update(self, st, lr, eps, small):
        scales = {
            "small": small,
            "medium": GRADIENT_SCALES["medium"],
            "large": GRADIENT_SCALES["large"],
        }
        grads = self.unit * np.array(list(scales.values()))
        course = effective_lr_history(grads, lr, eps, True)
        torch_conv = effective_lr_history(grads, lr, eps, False)
        for i, (name, scale) in enumerate(scales.items()):
            st["course"][i].set_data(self.t, course[:, i])
            st["torch"][i].set_data(self.t, torch_conv[:, i])
            st["leg1"].get_texts()[i].set_text(f"{name} |g| ≈ {scale:.2g}")
            st["marks"][i].set_data([scale], [first_step_size(scale, lr, eps, True) / lr])
        st["ax1"].set_ylim(lr * 1e-3, lr * 1e7)
        st["title1"].set_text(f"α/√(G + ε): α = {lr:.3g}, ε = {eps:.0e}")
        st["first_course"].set_data(self.g, first_step_size(self.g, lr, eps, True) / lr)
        st["first_torch"].set_data(self.g, first_step_size(self.g, lr, eps, False) / lr)
        st["knee_course"].set_xdata([np.sqrt(eps)] * 2)
        st["knee_torch"].set_xdata([eps] * 2)


def make_effective_lr_panel() -> SliderPanel:
    """Figure 2.1 plus the first-step curve, with sliders for α, ε and the small gradient size."""
    return SliderPanel(
        EffectiveLrDrawer(),
        {
            "lr": log_slider("α (lr)", 0.1, 1e-3, 1.0),
            "eps": log_slider("ε", 1e-8, 1e-12, 1e-2),
            "small": log_slider("small |g|", 0.01, 1e-6, 0.05),
        },
        figsize=(12, 4.6),
        title="Adagrad's effective learning rate and ε",
    )


class SparseDrawer:
    """Panel drawer for the sparse-feature demo (incremental)."""

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
        ax_lr.set_ylim(1e-4, 10)
        ax_lr.set_xlim(0, 1000)
        ax_lr.locator_params(axis="x", nbins=5)
        ax_lr.set_xlabel("step t")
        ax_lr.set_ylabel("per-coordinate learning rate")
        ax_lr.set_title("The rare coordinate keeps a large step", y=1.0)
        ax_lr.legend(loc="lower left", fontsize=9)
        for key, color, name in (("sgd", sgd, "SGD"), ("ada", ada, "Adagrad")):
            (st[f"{key}_rare"],) = ax_w.plot([], [], color=color, lw=2.5, label=name)
            (st[f"{key}_freq"],) = ax_w.plot([], [], color=color, lw=1, alpha=0.7)
        ax_w.axhline(1.0, color="black", lw=1, ls=":", label="w* = 1")
        ax_w.set_ylim(-0.1, 1.6)
        ax_w.set_xlim(0, 1000)
        ax_w.locator_params(nbins=5)
        ax_w.set_xlabel("step t")
        ax_w.set_ylabel("weight (thick: rare, thin: frequent)")
        st["title_w"] = ax_w.set_title("", y=1.0)
        ax_w.legend(loc="lower right", fontsize=9)
        return st

    def update(self, st, p_rare, lr_adagrad, lr_sgd):
        run = sparse_regression(p_rare=p_rare, lr_adagrad=lr_adagrad, lr_sgd=lr_sgd)
        steps = run["x"].shape[0]
        t = np.arange(1, steps + 1)
        seen = np.cumsum(run["x"][:, 1]) > 0
        lr_rare = np.where(seen, run["lr_eff"][:, 1], np.nan)
        active = np.flatnonzero(run["x"][:, 1])
        st["lr_freq"].set_data(t, run["lr_eff"][:, 0])
        st["lr_rare"].set_data(t, lr_rare)
        st["lr_sgd"].set_data([0, steps], [lr_sgd, lr_sgd])
        st["active"].set_data(t[active], lr_rare[active])
        ts = np.arange(steps + 1)
        for key, name in (("sgd", "w_sgd"), ("ada", "w_adagrad")):
            # Clip for display only: a too-large α makes SGD oscillate far off the axes.
            st[f"{key}_rare"].set_data(ts, np.clip(run[name][:, 1], -1, 3))
            st[f"{key}_freq"].set_data(ts, np.clip(run[name][:, 0], -1, 3))
        st["title_w"].set_text(f"{active.size} updates of the rare weight in {steps} steps")


def make_sparse_panel() -> SliderPanel:
    """The sparse-feature demo with sliders for the rare feature's frequency and both α."""
    return SliderPanel(
        SparseDrawer(),
        {
            "p_rare": log_slider("p (rare)", 0.02, 0.002, 0.5),
            "lr_adagrad": log_slider("α Adagrad", 0.5, 0.01, 1.0),
            "lr_sgd": log_slider("α SGD", 0.05, 0.001, 1.0),
        },
        figsize=(12, 4.6),
        title="Sparse features: SGD vs Adagrad",
    )


class QuadraticDrawer:
    """Panel drawer: GD and Adagrad on the quadratic, contours redrawn only when κ or angle move."""

    lim = 5.0

    def __init__(self, n: int = 70):
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
        ax_path.plot(*QUADRATIC_W0, "s", color="black", ms=7, label="start")
        for key, label in (("gd", "GD, best fixed step"), ("adagrad", "Adagrad")):
            color = OPTIMIZER_COLORS[key]
            (st[f"path_{key}"],) = ax_path.plot(
                [], [], "-o", color=color, lw=1.5, ms=2, label=label
            )
            (st[f"loss_{key}"],) = ax_loss.plot([], [], color=color, label=label)
        ax_path.legend(loc="lower right", fontsize=9)
        st["title"] = ax_path.set_title("", y=1.0)
        st["diverged"] = annotate_divergence(ax_loss, "")
        ax_loss.set_yscale("log")
        log_axis(ax_loss)
        ax_loss.set_ylim(1e-16, 1e3)
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss L(w)")
        ax_loss.set_title("Loss (floored at 1e-16)", y=1.0)
        ax_loss.legend(loc="upper right", fontsize=9)
        return st

    def update(self, st, lr, angle_deg, kappa, steps):
        runs = quadratic_runs(kappa, angle_deg, lr, steps)
        q = runs["q"]
        if st["key"] != (kappa, angle_deg):
            if st["contours"] is not None:
                st["contours"].remove()
            Z = q.loss(self.W)
            levels = np.geomspace(max(Z.max() * 1e-4, 1e-12), Z.max(), 12)
            st["contours"] = st["ax_path"].contour(
                self.X, self.Y, Z, levels=levels, cmap="Blues_r", linewidths=1.0
            )
            st["key"] = (kappa, angle_deg)
        notes = []
        for key in ("gd", "adagrad"):
            traj = runs[key]
            st[f"path_{key}"].set_data(traj.path[:, 0], traj.path[:, 1])
            st[f"loss_{key}"].set_data(np.arange(traj.losses.size), np.maximum(traj.losses, 1e-16))
            if traj.diverged:
                notes.append(
                    f"{'GD' if key == 'gd' else 'Adagrad'} diverged at step {traj.diverged_at}"
                )
        st["diverged"].set_text("\n".join(notes))
        st["diverged"].set_visible(bool(notes))
        st["ax_loss"].set_xlim(0, steps)
        st["title"].set_text(f"κ = {q.kappa:.3g}, axes rotated by {angle_deg:g}°")


def make_quadratic_panel() -> SliderPanel:
    """Adagrad vs GD on the quadratic with sliders for α, the rotation angle, κ and steps."""
    return SliderPanel(
        QuadraticDrawer(),
        {
            "lr": log_slider("α (Adagrad)", 2.0, 0.01, 10.0),
            "angle_deg": float_slider("rotation (°)", 0.0, 0.0, 90.0, step=5.0),
            "kappa": log_slider("κ", 100.0, 1.0, 1000.0),
            "steps": int_slider("steps", 60, 5, 200),
        },
        figsize=(12, 5.2),
        title="Adagrad on the quadratic",
    )


def quadratic_comparison_figure(
    fig, angles=(0.0, 45.0), lr: float = 2.0, kappa: float = 100.0, steps: int = 60
):
    """The quadratic panel's view at several rotation angles, one row each (static figure)."""
    drawer = QuadraticDrawer()
    for sub, angle in zip(np.atleast_1d(fig.subfigures(len(angles), 1)), angles):
        drawer.update(drawer.setup(sub), lr=lr, angle_deg=angle, kappa=kappa, steps=steps)
    return fig
