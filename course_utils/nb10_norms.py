"""Notebook 10, sections 2-3: steepest descent under a norm, and from full-matrix Adagrad to Shampoo.

* `steepest_directions`: the unit-norm direction D maximising <G, D> for the l2 (Frobenius),
  l-infinity (largest entry) and spectral norms: G/||G||_F, sign(G), U V^T; `best_random_gain`
  checks each against many random unit directions; `mlp_gradient` gives a real gradient matrix;
* `plot_singular_values`: the singular values of that gradient, of sign(G), of U V^T and of
  Newton-Schulz after k steps (one update's spectrum against the gradient's);
* `memory_floats`, `time_preconditioner_steps`: state size (exact) and seconds per step
  (interleaved repeats, minimum) of diagonal Adagrad, Shampoo and full-matrix Adagrad on an
  m x n weight matrix.

Updates run `course_utils.optimizers` (adagrad_update, shampoo_update, newton_schulz) and
notebook 02's full-matrix Adagrad step written with BLAS products (`full_matrix_step`).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from course_utils.cli import limit_threads
from course_utils.models import make_mlp
from course_utils.nb04_adam import fashion_batches
from course_utils.optimizers import adagrad_update, newton_schulz, shampoo_update

NORM_COLORS = {"l2": "#1f77b4", "linf": "#8c564b", "spectral": "#2ca02c", "ns": "#d62728"}


def steepest_directions(G: np.ndarray) -> dict:
    """{norm: D} with ||D|| = 1 in that norm and <G, D> as large as possible."""
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return {"l2": G / np.linalg.norm(G), "linf": np.sign(G), "spectral": U @ Vt}


def norm_of(D: np.ndarray, which: str) -> float:
    """||D|| in the Frobenius (l2), max-entry (linf) or spectral norm."""
    if which == "l2":
        return float(np.linalg.norm(D))
    if which == "linf":
        return float(np.abs(D).max())
    if which == "spectral":
        return float(np.linalg.norm(D, 2))
    raise ValueError(f"Unknown norm {which!r}: choose l2, linf or spectral.")


def best_random_gain(G: np.ndarray, which: str, n: int = 2000, seed: int = 0) -> float:
    """The largest <G, D> over ``n`` random directions D scaled to unit ``which``-norm."""
    rng = np.random.default_rng(seed)
    best = -np.inf
    for _ in range(n):
        D = rng.standard_normal(G.shape)
        best = max(best, float(np.sum(G * D)) / norm_of(D, which))
    return best


def mlp_gradient(layer: int = 2, steps: int = 20, seed: int = 0) -> np.ndarray:
    """The gradient of one weight matrix of the course MLP (float64) after ``steps`` Adam steps."""
    with limit_threads(1):
        model = make_mlp(seed)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        for X, y in fashion_batches(steps + 1, seed=seed):
            opt.zero_grad()
            loss_fn(model(X), y).backward()
            opt.step()
    weight = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][layer - 1].weight
    return weight.grad.double().numpy()


def mlp_nesterov_buffer(layer: int = 1, steps: int = 20, momentum: float = 0.95,
                        seed: int = 0) -> np.ndarray:
    """Muon's Nesterov input u = (1-mu) g + mu m for one weight matrix of the course MLP.

    m = mu m + (1-mu) g accumulates the gradients of ``steps`` Adam steps (the trajectory of
    `mlp_gradient`); returns u at the last gradient (float64).
    """
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}.")
    with limit_threads(1):
        model = make_mlp(seed)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        weight = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][layer - 1].weight
        buf = torch.zeros_like(weight)
        for X, y in fashion_batches(steps + 1, seed=seed):
            opt.zero_grad()
            loss_fn(model(X), y).backward()
            buf = momentum * buf + (1 - momentum) * weight.grad
            opt.step()
    u = (1 - momentum) * weight.grad + momentum * buf
    return u.double().numpy()


def plot_singular_values(ax, G: np.ndarray, ns_steps=(1, 3, 5)):
    """Sorted singular values, each divided by the largest, of G, sign(G), U V^T, Newton-Schulz."""
    def sv(M):
        s = np.linalg.svd(M, compute_uv=False)
        return s / s.max()

    k = np.arange(1, min(G.shape) + 1)
    rank = gradient_rank(G)
    ax.plot(k, sv(G), color=NORM_COLORS["l2"], lw=2.5, label="gradient G (and GD's step)")
    ax.plot(k, sv(np.sign(G)), color=NORM_COLORS["linf"], lw=2, label="sign(G) (sign descent)")
    ax.plot(k[:rank], np.ones(rank), color=NORM_COLORS["spectral"], lw=3,
            label=f"U Vᵀ (spectral steepest descent), rank {rank}")
    for j, steps in enumerate(ns_steps):
        s = np.linalg.svd(newton_schulz(G, steps), compute_uv=False)
        ax.plot(k, s, color=NORM_COLORS["ns"], lw=1.2 + 0.5 * j, alpha=0.4 + 0.3 * j,
                ls=("--", "-.", "-")[j % 3], label=f"Newton-Schulz, {steps} step{'s' * (steps > 1)}")
    ax.set_yscale("log")
    ax.set(xlabel="index i (sorted)", ylabel="singular value σᵢ (G, sign(G): largest = 1)",
           xlim=(1, k[-1]), ylim=(1e-4, 3))
    ax.set_title(f"One update's singular values, layer weights {G.shape[0]}×{G.shape[1]}", y=1.0)
    ax.legend(loc="center right", fontsize=9)
    return ax


def gradient_rank(G: np.ndarray, rtol: float = 1e-10) -> int:
    """Number of singular values above ``rtol`` times the largest (U V^T keeps only these)."""
    s = np.linalg.svd(G, compute_uv=False)
    return int(np.sum(s > rtol * s[0]))


def lifted_fraction(G: np.ndarray, steps: int = 5, low: float = 0.5, high: float = 1.5) -> float:
    """Fraction of Newton-Schulz's singular values (after ``steps``) inside [low, high]."""
    s = np.linalg.svd(newton_schulz(G, steps), compute_uv=False)
    return float(np.mean((s >= low) & (s <= high)))


# ---------------------------------------------------------------------------------------------
# Section 3: what each preconditioner costs


def memory_floats(m: int, n: int) -> dict:
    """Floats of optimizer state for an m x n weight: diagonal G, Shampoo's L and R, full G."""
    return {"diagonal Adagrad": m * n, "Shampoo": m * m + n * n, "full-matrix Adagrad": (m * n) ** 2}


def _step_fns(m: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((m, n))
    w = np.zeros((m, n))
    diag: list = []
    L: list = []
    R: list = []
    G_full = np.zeros((m * n, m * n))
    return {
        "diagonal Adagrad": lambda: adagrad_update([w], [g], diag, lr=0.1),
        "Shampoo": lambda: shampoo_update([w], [g], L, R, lr=0.1),
        "full-matrix Adagrad": lambda: full_matrix_step(w.ravel(), g.ravel(), G_full, 0.1),
    }


def full_matrix_step(w, g, G, lr: float, eps: float = 1e-8):
    """Notebook 02's full-matrix Adagrad step, G += g g^T; w -= lr (G + eps I)^(-1/2) g, with every
    product a BLAS call (for timing; equal to `nb02_demos.full_matrix_adagrad_update`)."""
    G = G + np.outer(g, g)
    lam, V = np.linalg.eigh(G + eps * np.eye(len(g)))
    return w - lr * (V @ (lam**-0.5 * (V.T @ g))), G


def time_preconditioner_steps(m: int, n: int, repeats: int = 5, seed: int = 0) -> dict:
    """Seconds per step on an m x n matrix: {method: (min, max)} over interleaved repeats."""
    fns = _step_fns(m, n, seed)
    times: dict = {k: [] for k in fns}
    with limit_threads(1):
        for fn in fns.values():
            fn()  # first call: allocations
        for _ in range(repeats):
            for k, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
    return {k: (float(np.min(t)), float(np.max(t))) for k, t in times.items()}
