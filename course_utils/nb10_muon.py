"""Notebook 10, section 4: Muon checked against torch.optim.Muon, and the rotation race.

* `muon_update_torch_order`: the same Muon step in torch.optim.Muon's order of operations and
  precision (``lerp_``, ``addmm``, the iteration in bfloat16); `compare_with_torch`: the course's
  `muon_update` (float32) and the torch-ordered copy against torch.optim.Muon, open loop;
* the rotation race: a matrix least-squares problem L(W) = ||W X - Y||^2 / (2N) whose inputs X
  have axis-aligned scales (kappa = 100), and the same problem with the inputs rotated,
  X' = Q X. Its solution is W* Q^T, and from W = 0 a method that is invariant to this
  right-orthogonal map runs W'_t = W_t Q^T exactly (`rotation_race`, `invariance_gaps`);
* `step_cosines`: how closely Shampoo's step (and diagonal Adagrad's, and the gradient) points
  along full-matrix Adagrad's when all see the same gradients;
* `make_rotation_panel`: sliders for the rotation angle and Muon's Newton-Schulz steps.

Every update runs `course_utils.optimizers` (muon_update, adam_update, sign_descent_update,
shampoo_update) and notebook 02's `full_matrix_adagrad_update`.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from course_utils.checkers import compare
from course_utils.nb02_demos import full_matrix_adagrad_update
from course_utils.optimizers import (
    MUON_COEFFICIENTS,
    adagrad_update,
    adam_update,
    muon_update,
    shampoo_update,
    sign_descent_update,
)
from course_utils.plotting import OPTIMIZER_COLORS, log_axis
from course_utils.widgets import SliderPanel, int_slider

# ---------------------------------------------------------------------------------------------
# Against torch.optim.Muon


def newton_schulz_torch_order(G, steps=5, coefficients=MUON_COEFFICIENTS, eps=1e-7,
                              dtype=torch.bfloat16):
    """torch.optim.Muon's iteration: cast to ``dtype`` first, then fused ``addmm`` updates."""
    a, b, c = coefficients
    X = G.to(dtype)
    tall = G.size(0) > G.size(1)
    if tall:
        X = X.T
    X = X.div(X.norm().clamp(min=eps))
    for _ in range(steps):
        A = X @ X.T
        X = torch.addmm(X, torch.addmm(A, A, A, beta=b, alpha=c), X, beta=a)
    return X.T if tall else X


def muon_update_torch_order(params, grads, bufs, lr, momentum=0.95, nesterov=True, ns_steps=5,
                            weight_decay=0.0, dtype=torch.bfloat16):
    """Muon in torch.optim.Muon's order (in place): lerp_ momentum, bf16 iteration, add_(alpha)."""
    for p, g, buf in zip(params, grads, bufs):
        buf.lerp_(g, 1 - momentum)
        u = g.lerp(buf, momentum) if nesterov else buf
        ortho = newton_schulz_torch_order(u, ns_steps, dtype=dtype)
        p.mul_(1 - lr * weight_decay)
        p.add_(ortho, alpha=-lr * max(1.0, p.size(0) / p.size(1)) ** 0.5)


def compare_with_torch(shape=(128, 256), steps=10, lr=0.02, weight_decay=0.1, seed=0) -> dict:
    """Open loop: the same random gradients into torch.optim.Muon, `muon_update` and the copy.

    Returns {"course": CheckResult, "torch order": CheckResult, "moved": max |W_T - W_0|}.
    """
    gen = torch.Generator().manual_seed(seed)
    W0 = torch.randn(shape, generator=gen)
    grads = [torch.randn(shape, generator=gen) for _ in range(steps)]
    p = torch.nn.Parameter(W0.clone())
    reference = torch.optim.Muon([p], lr=lr, weight_decay=weight_decay)
    course, m_state = [W0.clone()], []
    ordered, buf = W0.clone(), torch.zeros_like(W0)
    for g in grads:
        p.grad = g.clone()
        reference.step()
        muon_update(course, [g], m_state, lr=lr, weight_decay=weight_decay)
        muon_update_torch_order([ordered], [g], [buf], lr, weight_decay=weight_decay)
    W = p.detach()
    shape_name = f"{shape[0]}x{shape[1]}"
    return {
        "course": compare(f"muon_update (float32), {shape_name}", course[0], W, rtol=0, atol=1e-3),
        "torch order": compare(f"torch-ordered copy (bfloat16), {shape_name}", ordered, W,
                               rtol=0, atol=0),
        "moved": float((W - W0).abs().max()),
    }


def one_step_differences(shape=(256, 784), seed=0) -> dict:
    """Relative Frobenius differences of one orthogonalised update: what bfloat16 costs."""
    from course_utils.optimizers import newton_schulz

    G = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    exact = newton_schulz(G.double())

    def rel(a, b):
        return float((a.double() - b.double()).norm() / b.double().norm())

    return {
        "course float32 vs float64": rel(newton_schulz(G), exact),
        "torch.optim.Muon (bfloat16) vs float64": rel(newton_schulz_torch_order(G), exact),
        "torch order in float32 vs float64": rel(newton_schulz_torch_order(G, dtype=torch.float32),
                                                 exact),
    }


# ---------------------------------------------------------------------------------------------
# The rotation race

RACE_M, RACE_N, RACE_SAMPLES = 4, 8, 64
RACE_KAPPA = 100.0
RACE_STEPS = 100
RACE_FULL_EPS = 0.1  # a tiny eps divides by ~0 in unvisited directions: rounding grows
# Small step sizes at which every run is numerically stable: the invariance check.
RACE_LRS = {"gd": 0.3, "adam": 0.05, "sign": 0.01, "muon": 0.1, "shampoo": 1.0, "full": 0.5}
RACE_LR_GRID = tuple(float(x) for x in 10.0 ** np.arange(-2.0, 2.01, 0.5))  # 0.01 ... 100
RACE_METHODS = {
    "gd": ("GD", OPTIMIZER_COLORS["gd"]),
    "full": ("full-matrix Adagrad", "#17becf"),
    "shampoo": ("Shampoo", "#bcbd22"),
    "muon": ("Muon", "#2ca02c"),
    "adam": ("Adam", OPTIMIZER_COLORS["adam"]),
    "sign": ("signum", "#e377c2"),
}
INVARIANT = ("gd", "newton", "full", "shampoo", "muon")


@functools.lru_cache(maxsize=8)
def race_data(seed: int = 0):
    """Axis-aligned inputs X (n x N, scales from 1 to 1/sqrt(kappa)), targets Y = W* X."""
    rng = np.random.default_rng(seed)
    scales = RACE_KAPPA ** (-np.linspace(0.0, 1.0, RACE_N) / 2)
    X = scales[:, None] * rng.standard_normal((RACE_N, RACE_SAMPLES))
    W_star = rng.standard_normal((RACE_M, RACE_N))
    return X, W_star @ X


def input_rotation(angle_deg: float, n: int = RACE_N) -> np.ndarray:
    """Q rotating input coordinate pairs (i, n-1-i) by ``angle_deg``: a steep with a flat one."""
    a = np.deg2rad(angle_deg)
    Q = np.eye(n)
    for i in range(n // 2):
        j = n - 1 - i
        Q[[i, i, j, j], [i, j, i, j]] = np.cos(a), -np.sin(a), np.sin(a), np.cos(a)
    return Q


def _loss_and_grad(W, X, Y):
    E = W @ X - Y
    N = X.shape[-1]
    return 0.5 * np.sum(E * E, axis=(-2, -1)) / N, E @ np.swapaxes(X, -1, -2) / N


def race_runs(method: str, angles=(0.0,), ns_steps: int = 5, steps: int = RACE_STEPS, lr=None,
              data_seed: int = 0):
    """(losses (len(angles), steps+1), iterates (steps+1, len(angles), m, n)) of ``method``.

    One batched run: every angle's problem is one entry of the batch. Every method's step size
    decays linearly, lr * (1 - (t-1)/steps); ``lr`` defaults to ``RACE_LRS[method]``.
    ``data_seed`` draws another problem of the same kind (`race_data`).
    """
    X0, Y = race_data(data_seed)
    Q = np.stack([input_rotation(a) for a in angles])
    X = Q @ X0
    W = np.zeros((len(angles), RACE_M, RACE_N))
    lr = RACE_LRS.get(method) if lr is None else lr
    C = X @ np.swapaxes(X, -1, -2) / X.shape[-1]  # the input covariance: the Hessian is I_m (x) C
    if method == "newton":
        C_inv = np.linalg.inv(C)
    elif method not in RACE_METHODS:
        raise ValueError(f"Unknown method {method!r}: choose one of {list(RACE_METHODS)}.")
    s1: list = []
    s2: list = []
    d = RACE_M * RACE_N
    G_full = np.zeros((len(angles), d, d))
    losses, path = [], [W]
    for t in range(1, steps + 1):
        loss, g = _loss_and_grad(W, X, Y)
        losses.append(loss)
        lr_t = None if lr is None else lr * (1 - (t - 1) / steps)  # the same decay for all
        if method == "gd":
            W = W - lr_t * g
        elif method == "newton":
            W = W - g @ C_inv
        elif method == "adam":
            (W,), s1, s2 = adam_update([W], [g], s1, s2, lr=lr_t, t=t)
        elif method == "sign":
            (W,), s1 = sign_descent_update([W], [g], s1, lr=lr_t, beta1=0.9)
        elif method == "muon":
            (W,), s1 = muon_update([W], [g], s1, lr=lr_t, ns_steps=ns_steps)
        elif method == "shampoo":
            (W,), s1, s2 = shampoo_update([W], [g], s1, s2, lr=lr_t)
        else:
            w, G_full = full_matrix_adagrad_update(W.reshape(-1, d), g.reshape(-1, d), G_full, lr_t,
                                                   eps=RACE_FULL_EPS)
            W = w.reshape(W.shape)
        path.append(W)
    losses.append(_loss_and_grad(W, X, Y)[0])
    return np.array(losses).T, np.array(path)


def invariance_gaps(angle_deg: float = 45.0, steps: int = RACE_STEPS) -> dict:
    """{method: max_t ||W'_t - W_t Q^T|| / max_t ||W_t||}: 0 (to rounding) for invariant updates."""
    Q = input_rotation(angle_deg)
    gaps = {}
    for method in ("newton", *RACE_METHODS):
        _, path = race_runs(method, (0.0, angle_deg), steps=steps)
        aligned, rotated = path[:, 0], path[:, 1]
        gaps[method] = float(np.abs(rotated - aligned @ Q.T).max() / np.abs(aligned).max())
    return gaps


@functools.lru_cache(maxsize=64)
def tuned_race_lr(method: str, data_seed: int = 0) -> float:
    """``method``'s step size from `RACE_LR_GRID`: the lowest `race_score` on the aligned problem."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging grid point scores inf
        return min(RACE_LR_GRID, key=lambda lr: race_score(race_runs(method, (0.0,), lr=lr,
                                                                     data_seed=data_seed)[0][0]))


def tuned_race_lrs(data_seed: int = 0) -> dict:
    """Every race method's step size, tuned by one rule (`tuned_race_lr`)."""
    return {m: tuned_race_lr(m, data_seed) for m in RACE_METHODS}


def race_score(losses) -> float:
    """Mean of log10 L(W_t) over all steps, floored at 1e-16 (inf if the run blew up)."""
    losses = np.asarray(losses, dtype=np.float64)
    if not np.all(np.isfinite(losses)) or losses.max() > 1e12:
        return float("inf")
    return float(np.mean(np.log10(np.maximum(losses, 1e-16))))


def rotation_race(angle_deg: float = 45.0, ns_steps: int = 5, data_seed: int = 0) -> dict:
    """{method: (losses aligned, losses rotated)} at the tuned step sizes (`tuned_race_lrs`)."""
    lrs = tuned_race_lrs(data_seed)
    return {m: tuple(race_runs(m, (0.0, angle_deg), ns_steps, lr=lrs[m], data_seed=data_seed)[0])
            for m in RACE_METHODS}


def _cosine(a, b) -> float:
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def step_cosines(angle_deg: float = 45.0, data_seed: int = 0, eps: float = 1e-10) -> dict:
    """{name: cosine per step between that step and full-matrix Adagrad's} on the race problem.

    Every method sees the same gradients: those along GD's run (its tuned step size), a path that
    belongs to none of the methods compared. Each keeps its own accumulator, all with the same
    ``eps``: full-matrix Adagrad (F + eps I)^(-1/2) vec(G), Shampoo L^(-1/4) G R^(-1/4),
    diagonal Adagrad G / sqrt(sum G^2 + eps), and the gradient G itself.
    """
    X0, Y = race_data(data_seed)
    X = input_rotation(angle_deg) @ X0
    _, path = race_runs("gd", (angle_deg,), lr=tuned_race_lr("gd", data_seed), data_seed=data_seed)
    d = RACE_M * RACE_N
    zero = np.zeros((RACE_M, RACE_N))
    F, L, R, D = np.zeros((d, d)), [], [], []
    out: dict = {"Shampoo": [], "diagonal Adagrad": [], "gradient": []}
    for W in path[:-1, 0]:
        g = _loss_and_grad(W, X, Y)[1]
        full, F = full_matrix_adagrad_update(zero.reshape(d), g.reshape(d), F, 1.0, eps=eps)
        (shampoo,), L, R = shampoo_update([zero], [g], L, R, lr=1.0, eps=eps)
        (diagonal,), D = adagrad_update([zero], [g], D, lr=1.0, eps=eps)
        for name, step in (("Shampoo", shampoo), ("diagonal Adagrad", diagonal), ("gradient", -g)):
            out[name].append(_cosine(step, full))
    return {name: np.array(c) for name, c in out.items()}


PANEL_ANGLES = np.arange(0.0, 90.1, 2.5)
PANEL_NS_STEPS = range(0, 11)


@functools.lru_cache(maxsize=1)
def panel_table() -> dict:
    """Every curve the panel can show: {(method, ns_steps or None): losses (angles, steps+1)}."""
    lrs = tuned_race_lrs()
    table = {(m, None): race_runs(m, PANEL_ANGLES, lr=lrs[m])[0] for m in RACE_METHODS if m != "muon"}
    for k in PANEL_NS_STEPS:
        table["muon", k] = race_runs("muon", PANEL_ANGLES, k, lr=lrs["muon"])[0]
    return table


_FLOOR = 1e-16


class RotationRaceDrawer:
    """Left: loss per step with axis-aligned inputs; right: inputs rotated by the slider's angle."""

    def setup(self, fig) -> dict:
        axes = [fig.add_axes((0.11, 0.14, 0.36, 0.74)), fig.add_axes((0.61, 0.14, 0.36, 0.74))]
        lines = {}
        for k, ax in enumerate(axes):
            for m, (label, color) in RACE_METHODS.items():
                (lines[k, m],) = ax.plot([], [], "--" if m == "muon" else "-", color=color, lw=1.8,
                                         label=label)
            ax.set_yscale("log")
            ax.set_ylim(1e-16, 1e2)
            log_axis(ax)
            ax.set(xlim=(0, RACE_STEPS), xlabel="step t")
        axes[0].set_ylabel("loss L(Wₜ)")
        axes[0].set_title("inputs X (axis-aligned scales)")
        axes[0].legend(loc="lower left", fontsize=9)
        return {"axes": axes, "lines": lines}

    def update(self, state, angle=45.0, ns_steps=5) -> None:
        table = panel_table()
        i = int(np.argmin(np.abs(PANEL_ANGLES - float(angle))))
        t = np.arange(RACE_STEPS + 1)
        for m in RACE_METHODS:
            curves = table[m, int(ns_steps) if m == "muon" else None]
            state["lines"][0, m].set_data(t, np.maximum(curves[0], _FLOOR))
            state["lines"][1, m].set_data(t, np.maximum(curves[i], _FLOOR))
        state["axes"][1].set_title(
            f"inputs rotated by {PANEL_ANGLES[i]:g}°, Muon: {int(ns_steps)} NS steps")

    def __call__(self, fig, **values) -> None:
        self.update(self.setup(fig), **values)


def make_rotation_panel() -> SliderPanel:
    """Sliders: the rotation angle of the inputs and Muon's number of Newton-Schulz steps."""
    from course_utils.widgets import float_slider

    controls = {
        "angle": float_slider("rotation θ (°)", 45.0, 0.0, 90.0, step=2.5),
        "ns_steps": int_slider("NS steps k", 5, 0, 10),
    }
    return SliderPanel(RotationRaceDrawer(), controls, figsize=(12.5, 4.8),
                       title="Which updates notice that the inputs were rotated?")
