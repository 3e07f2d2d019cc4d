"""Adagrad's update, its effective learning rate and the eps placement, for notebook 02.

* figure 2.1: Adagrad's effective learning rate alpha / sqrt(G + eps) and the measured steps
  |Δw| for parameters with small, medium and large gradients (`effective_lr_history`,
  `plot_effective_lr`);
* the eps-placement lesson: the course's sqrt(G + eps) against torch's sqrt(G) + eps
  (`first_step_size`, `one_step_comparison`, `compare_with_torch_on_mlp`, `plot_drift`) and its
  panel (`make_effective_lr_panel`);
* `steps_to_cover`: how many steps Adagrad needs to cover a distance with constant |g|.

The sparse-feature demo, the stall and the quadratic are in `nb02_demos`. Everything but the
torch comparisons runs in float64 numpy and is seeded, so printed numbers are reproducible.
"""

from __future__ import annotations

import numpy as np
import torch

from .checkers import compare
from .models import make_mlp
from .nb01_quadratic import decade_limits
from .optimizers import CourseAdagrad, adagrad_update, validate_hyperparameters
from .plotting import log_axis
from .widgets import SliderPanel, log_slider

# Typical gradient magnitudes of three parameters in figure 2.1: small, medium, large.
GRADIENT_SCALES = {"small": 0.01, "medium": 0.1, "large": 1.0}
# The slides colour the large-gradient parameter green.
_SCALE_COLORS = {"small": "#1f77b4", "medium": "#ff7f0e", "large": "#2ca02c"}
_TORCH_COLOR = "#7f7f7f"
# torch's curves: thin black dashes drawn over the course's, visible where the two coincide.
_TORCH_ON_TOP = dict(color="black", lw=1.0, ls=(0, (3, 3)), zorder=3)
# The course's MLP (course_utils.models.make_mlp) with narrower hidden layers: 52,650 weights.
MLP_HIDDEN = (64, 32)


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
):
    """Figure 2.1: alpha / sqrt(G_t + eps) over steps for small, medium and large gradients.

    ``show_torch`` adds torch's alpha / (sqrt(G_t) + eps) dashed.
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
            ax.plot(t, torch_conv[:, i], **_TORCH_ON_TOP)
    for scale in scales.values():  # the law alpha / (|g| sqrt(t)): slope -1/2 on log-log axes
        ax.plot(t, lr / (scale * np.sqrt(t)), ":", color="black", lw=1)
    ax.plot([], [], ":", color="black", lw=1, label="α/(|g|√t)")
    if show_torch:
        ax.plot([], [], label="torch: α/(√G + ε), on top", **_TORCH_ON_TOP)
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis(ax, "x")
    log_axis(ax)
    ax.set_xlabel("step t")
    ax.set_ylabel("effective learning rate α / √(G + ε)")
    ax.set_title(f"Adagrad's effective learning rate (α = {lr:g}, ε = {eps:.0e})", y=1.0)
    ax.legend(loc="upper right")
    return ax


def measured_steps(lr=0.1, eps=1e-8, scales=None, steps=500, seed=0) -> np.ndarray:
    """The steps |Δw_t| = eta_t |g_t| Adagrad takes for figure 2.1's parameters, (T, n)."""
    scales = dict(GRADIENT_SCALES if scales is None else scales)
    grads = sample_gradients(list(scales.values()), steps, seed)
    return np.abs(grads) * effective_lr_history(grads, lr, eps)


def plot_measured_steps(ax, lr=0.1, eps=1e-8, scales=None, steps=500, seed=0):
    """Figure 2.1's second panel: the measured steps |Δw_t| of the three parameters, log-log."""
    scales = dict(GRADIENT_SCALES if scales is None else scales)
    dw = measured_steps(lr, eps, scales, steps, seed)
    t = np.arange(1, steps + 1)
    for i, name in enumerate(scales):
        ax.plot(
            t,
            dw[:, i],
            color=_SCALE_COLORS.get(name, None),
            lw=1,
            alpha=0.8,
            label=f"{name} |g| ≈ {scales[name]:g}",
        )
    ax.plot(t, lr / np.sqrt(t), ":", color="black", lw=2, label="α/√t")
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set_xlabel("step t")
    ax.set_ylabel(r"measured step $|\Delta w_t| = \eta_t\,|g_t|$")
    ax.set_title("The steps themselves: the same for all three", y=1.0)
    ax.legend(loc="lower left")
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


def _lockstep(X, y, convention, dtype, steps, lr, eps, batch_size, seed, record=None):
    ref, ours = (make_mlp(seed=seed, hidden=MLP_HIDDEN).to(dtype) for _ in range(2))
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
            if record is not None:
                _record_anatomy(record, ours_params, ref.parameters(), lr, eps)
    label = "adagrad_update" if convention == "course" else "CourseAdagrad(eps_inside_sqrt=False)"
    result = compare(
        f"{label} vs torch.optim.Adagrad, {steps} steps, {str(dtype).replace('torch.', '')}",
        [p.detach() for p in ours.parameters()],
        [p.detach() for p in ref.parameters()],
    )
    return result, drift


def _record_anatomy(record: dict, ours, ref, lr: float, eps: float) -> None:
    g = torch.cat([p.grad.flatten() for p in ours]).abs()
    tiny = (g > 0) & (g < eps**0.5)
    record.setdefault("ever", torch.zeros_like(tiny))
    record["ever"] |= tiny
    diff = torch.cat([(a - b).flatten() for a, b in zip(ours, ref)]).abs()
    record.setdefault("tiny", []).append(int(tiny.sum()))
    record.setdefault("ever_tiny", []).append(int(record["ever"].sum()))
    record.setdefault("apart", []).append(int((diff > lr).sum()))


def drift_anatomy(X, y, steps: int = 200, lr: float = 0.01, eps: float = 1e-10, seed: int = 0):
    """Where the course-vs-torch drift comes from, step by step (float64, one thread).

    Returns arrays over steps: ``tiny``, gradient entries of the course run that are nonzero but
    below sqrt(eps); ``ever_tiny``, weights that have had such a gradient at least once so far;
    ``apart``, weights more than ``lr`` apart from torch's; and ``n``, the number of weights.
    """
    record: dict = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _lockstep(X, y, "course", torch.float64, steps, lr, eps, 128, seed, record)
    finally:
        torch.set_num_threads(threads)
    out = {key: np.array(record[key]) for key in ("tiny", "ever_tiny", "apart")}
    out["n"] = int(record["ever"].numel())
    return out


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
    ax.set_ylabel(r"max $|w_{ours} - w_{torch}|$")
    ax.set_title("Difference from torch.optim.Adagrad (same batches, same init)", y=1.0)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.06), fontsize=9)  # under the curves
    return ax


# --------------------------------------------------------------------------------------------
# The stall (the demo itself is in nb02_demos)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Panels
# --------------------------------------------------------------------------------------------


class EffectiveLrDrawer:
    """Panel drawer for figure 2.1 plus the first-step curve (incremental: see widgets.py)."""

    steps = 300
    lr_range = (1e-3, 1.0)  # the α slider's range

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
            st["torch"].append(ax1.plot([], [], **_TORCH_ON_TOP)[0])
            st["marks"].append(ax2.plot([], [], "o", color=color, ms=8, clip_on=False)[0])
        ax1.plot([], [], label="torch: α/(√G + ε), on top", **_TORCH_ON_TOP)
        ax1.set_yscale("log")
        log_axis(ax1)
        ax1.set_xlim(0, self.steps)
        ax1.set_xlabel("step t")
        ax1.set_ylabel("effective learning rate")
        st["leg1"] = ax1.legend(loc="upper right", fontsize=9)
        st["title1"] = ax1.set_title("", y=1.0)
        # Black, not the Adagrad green: the large-gradient parameter's dot is green.
        (st["first_course"],) = ax2.plot([], [], color="black", label="course: √(g² + ε)")
        (st["first_torch"],) = ax2.plot([], [], "--", color=_TORCH_COLOR, label="torch: √(g²) + ε")
        st["knee_course"] = ax2.axvline(1e-5, color="black", lw=1, alpha=0.6)
        st["knee_torch"] = ax2.axvline(1e-10, color=_TORCH_COLOR, lw=1, alpha=0.6)
        ax2.set_xscale("log")
        log_axis(ax2, "x")
        ax2.set_xlim(1e-12, 1.0)
        ax2.set_ylim(0, 1.12)
        ax2.locator_params(axis="y", nbins=5)
        ax2.set_xlabel("gradient size |g| (first step)")
        ax2.set_ylabel("first step |Δw| / α")
        ax2.legend(loc="lower right", fontsize=9)  # empty: both curves are at 1 there
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
        low = min(float(course.min()), float(torch_conv.min()))
        high = max(float(course.max()), float(torch_conv.max()))
        # The effective rate is proportional to α: the y-range covers every α on the slider, so
        # moving α shifts the curves against fixed axes instead of relabelling the axis.
        lr_min, lr_max = self.lr_range
        st["ax1"].set_ylim(
            *decade_limits(low * min(1.0, lr_min / lr), high * max(1.0, lr_max / lr))
        )
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
            "lr": log_slider("α (lr)", 0.1, *EffectiveLrDrawer.lr_range),
            "eps": log_slider("ε", 1e-8, 1e-12, 1e-2),
            "small": log_slider("small |g|", 0.01, 1e-6, 0.05),
        },
        figsize=(12, 4.6),
        title="Adagrad's effective learning rate and ε",
    )
