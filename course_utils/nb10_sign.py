"""Notebook 10, section 1: sign descent as the limit of Adam, on the quadratic and on the MLP.

* `adam_equals_sign`: Adam with beta1 = beta2 = 0 and eps = 0 against signSGD, on gradients
  spanning 60 orders of magnitude;
* `sign_path`, `quadratic_runs`, `quadratic_floors`: signSGD, signum and Adam on notebook 04's
  axis-aligned quadratic (h = (1, 0.02)), exact or noisy gradients; `plot_quadratic_runs`;
* `variance_factor_on_mlp`: Balles & Hennig's reading of Adam, m_hat/sqrt(v_hat) =
  sign(m_hat) * |m_hat|/sqrt(v_hat), with the second factor read from torch.optim.Adam's state
  after training the course MLP; `plot_variance_factor`.

Every update runs `course_utils.optimizers` (sign_descent_update, adam_update).
"""

from __future__ import annotations

import numpy as np
import torch

from course_utils.models import make_mlp
from course_utils.nb04_adam import fashion_batches
from course_utils.nb04_race import adam_path
from course_utils.optimizers import adam_update, sign_descent_update
from course_utils.plotting import OPTIMIZER_COLORS, log_axis
from course_utils.quadratic import Quadratic, Trajectory, run_update_rule

SIGN_PROBLEM = Quadratic(h=(1.0, 0.02))  # notebook 04's race, axis-aligned (kappa = 50)
SIGN_W0 = np.array([-4.0, 3.0])
SIGN_COLOR = "#ff7f0e"
SIGNUM_COLOR = "#e377c2"
STEPS = 400


def adam_equals_sign(n: int = 1000, lr: float = 0.1, seed: int = 0) -> float:
    """Largest |Adam(beta1 = beta2 = 0, eps = 0) step - signSGD step| over n random gradients."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(n) * 10.0 ** rng.uniform(-30, 30, n)
    w = rng.standard_normal(n)
    (adam,), _, _ = adam_update([w.copy()], [g], [], [], lr=lr, beta1=0.0, beta2=0.0, eps=0.0)
    (sign,), _ = sign_descent_update([w.copy()], [g], [], lr=lr)
    return float(np.max(np.abs(adam - sign)))


def sign_path(q: Quadratic, w0, lr: float, beta1: float = 0.0, steps: int = STEPS,
              noise_std: float = 0.0, seed: int = 0) -> Trajectory:
    """signSGD (beta1 = 0) or signum on a quadratic (``optimizers.sign_descent_update``)."""
    m_state: list = []

    def step(w, g, t):
        return sign_descent_update([w], [g], m_state, lr, beta1)[0][0]

    return run_update_rule(q, w0, step, steps, noise_std, seed)


def quadratic_runs(lr: float, noise_std: float = 0.0, seed: int = 0, steps: int = STEPS) -> dict:
    """{label: (Trajectory, color, linestyle)} for signSGD, Adam with beta2 = 0 and 0.999, signum."""
    q, w0, kw = SIGN_PROBLEM, SIGN_W0, dict(steps=steps, noise_std=noise_std, seed=seed)
    return {
        "signSGD": (sign_path(q, w0, lr, 0.0, **kw), SIGN_COLOR, "-"),
        "Adam, β₁ = β₂ = 0": (adam_path(q, w0, lr, 0.0, 0.0, **kw), "black", ":"),
        "Adam, β₁ = 0, β₂ = 0.999": (adam_path(q, w0, lr, 0.0, 0.999, **kw),
                                     OPTIMIZER_COLORS["adam"], "-"),
        "signum, β₁ = 0.9": (sign_path(q, w0, lr, 0.9, **kw), SIGNUM_COLOR, "-"),
        "Adam, β₁ = 0.9, β₂ = 0.999": (adam_path(q, w0, lr, 0.9, 0.999, **kw),
                                       OPTIMIZER_COLORS["adamw"], "--"),
    }


def late_log_loss(traj: Trajectory, start: int = STEPS // 2) -> float:
    """Mean of log10 L(w_t) over t >= start (floored at 1e-300): where a run settles."""
    if traj.diverged:
        return float("inf")
    return float(np.mean(np.log10(np.maximum(traj.losses[start:], 1e-300))))


def quadratic_floors(lrs, noise_std: float = 0.0, seeds=(0,)) -> dict:
    """{(label, lr): array over seeds of `late_log_loss`} for every run of `quadratic_runs`."""
    out: dict = {}
    for lr in lrs:
        for seed in seeds:
            for label, (traj, *_) in quadratic_runs(lr, noise_std, seed).items():
                out.setdefault((label, lr), []).append(late_log_loss(traj))
    return {k: np.array(v) for k, v in out.items()}


def plot_quadratic_runs(axes, runs_exact: dict, runs_noisy: list, lr: float, noise_std: float):
    """Loss per step of `quadratic_runs`: exact gradients (left); noisy ones (right), the mean of
    log10 L(w_t) over the seeds of ``runs_noisy`` (a list of `quadratic_runs` results)."""
    for label, (traj, color, style) in runs_exact.items():
        lw = 2.5 if style == ":" else 1.4
        axes[0].plot(np.maximum(traj.losses, 1e-30), style, color=color, lw=lw, label=label)
    for label, (_, color, style) in runs_noisy[0].items():
        logs = np.mean([np.log10(np.maximum(r[label][0].losses, 1e-300)) for r in runs_noisy], axis=0)
        axes[1].plot(10.0**logs, style, color=color, lw=2.5 if style == ":" else 1.6, label=label)
    titles = ("exact gradients", f"noisy gradients, σ = {noise_std:g}: mean of log₁₀ L over "
              f"{len(runs_noisy)} seeds")
    for ax, title in zip(axes, titles):
        ax.set_yscale("log")
        log_axis(ax)
        ax.set(xlabel="step t", ylabel="loss L(wₜ)", xlim=(0, STEPS))
        ax.set_title(f"{title}, α = {lr:g}", y=1.0, fontsize=11)
    axes[0].set_ylim(1e-30, 1e2)
    axes[1].set_ylim(1e-3, 1e2)
    axes[0].legend(loc="lower left", fontsize=9)
    return axes


def variance_factor_on_mlp(steps: int = 200, lr: float = 1e-3, seed: int = 0) -> dict:
    """{layer: |m_hat| / sqrt(v_hat) per weight} after ``steps`` torch.optim.Adam steps on the MLP.

    Adam's step is lr * sign(m_hat) * |m_hat|/sqrt(v_hat) (eps aside): the sign's magnitude is
    shrunk by this factor, about 1/sqrt(1 + var/mean^2) of the recent gradients (Balles &
    Hennig). Weights whose gradient was exactly zero all along are left out (the factor is 0/0).
    """
    model = make_mlp(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for X, y in fashion_batches(steps, seed=seed):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    names = ["layer 1 weights", "layer 1 biases", "layer 2 weights", "layer 2 biases",
             "layer 3 weights", "layer 3 biases"]
    beta1, beta2 = opt.defaults["betas"]
    out = {}
    for name, p in zip(names, model.parameters()):
        state = opt.state[p]
        m_hat = state["exp_avg"] / (1 - beta1**steps)
        v_hat = state["exp_avg_sq"] / (1 - beta2**steps)
        keep = v_hat > 0
        out[name] = (m_hat[keep].abs() / v_hat[keep].sqrt()).numpy().astype(np.float64)
    return out


def plot_variance_factor(ax, factors: dict):
    """Histogram of |m_hat|/sqrt(v_hat) for the weight matrices (1 = a full sign step)."""
    names = ("layer 1 weights", "layer 2 weights", "layer 3 weights")
    top = max(1.0, max(float(factors[name].max()) for name in names))
    bins = np.arange(0.0, top + 0.025, 0.025)
    for name, color in (("layer 1 weights", "#1f77b4"), ("layer 2 weights", "#ff7f0e"),
                        ("layer 3 weights", "#2ca02c")):
        f = factors[name]
        ax.hist(f, bins=bins, histtype="step", lw=2, color=color, density=True,
                label=f"{name} (median {np.median(f):.2f})")
    ax.axvline(1.0, color="black", ls=":", lw=1.5)
    ax.set(xlabel="|m̂| / √v̂  (Adam's step / sign descent's step)", ylabel="density (log scale)",
           xlim=(0, bins[-1]), yscale="log")
    ax.set_title("Adam = sign × variance factor, course MLP after 200 steps", y=1.0)
    ax.legend(loc="upper right", fontsize=9)
    return ax


def pure_noise_factor(steps: int = 200, n: int = 100_000, beta1: float = 0.9,
                      beta2: float = 0.999, seed: int = 0) -> np.ndarray:
    """Adam's variance factor |m_hat| / sqrt(v_hat) after ``steps`` steps of pure noise.

    Each of ``n`` weights sees independent standard normal gradients (mean 0), the
    bias-corrected moments are those of ``torch.optim.Adam`` without epsilon.
    """
    if steps < 1 or n < 1:
        raise ValueError(f"steps and n must be >= 1, got steps={steps}, n={n}.")
    rng = np.random.default_rng(seed)
    m = np.zeros(n)
    v = np.zeros(n)
    for _ in range(steps):
        g = rng.standard_normal(n)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**steps)
    v_hat = v / (1 - beta2**steps)
    return np.abs(m_hat) / np.sqrt(v_hat)
