"""Quadratic losses L(w) = 1/2 w^T H w and what gradient descent does on them.

H = Q diag(h) Q^T with eigenvalues h (curvatures) and, in 2-D, Q a rotation by ``angle_deg``.
The optimum is w* = 0 and L* = 0. Along eigendirection i the GD error is multiplied by
(1 - lr * h_i) each step, which gives every theoretical quantity below in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# A loss above this (or a non-finite one) counts as diverged; the run stops there, before
# anything can overflow.
DIVERGENCE_THRESHOLD = 1e12


def rotation(angle_deg: float) -> np.ndarray:
    """2x2 rotation matrix by ``angle_deg`` degrees (counter-clockwise)."""
    a = np.deg2rad(angle_deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


@dataclass(frozen=True)
class Quadratic:
    """L(w) = 1/2 w^T H w with H = Q diag(h) Q^T.

    ``h``: positive curvatures (eigenvalues). ``angle_deg``: rotation of the eigenvectors (2-D
    only). ``Q``: an explicit orthogonal matrix for n-D problems (default identity).
    """

    h: tuple
    angle_deg: float = 0.0
    Q: np.ndarray | None = None

    def __post_init__(self):
        h = np.asarray(self.h, dtype=np.float64)
        if h.ndim != 1 or h.size < 1:
            raise ValueError(f"h must be a 1-D list of curvatures, got shape {h.shape}.")
        if not np.all(h > 0):
            raise ValueError(f"All curvatures h must be > 0 (a convex bowl), got {h.tolist()}.")
        if self.Q is None:
            if h.size == 2:
                Q = rotation(self.angle_deg)
            elif self.angle_deg:
                raise ValueError(
                    "angle_deg only applies to 2-D problems; pass Q for n-D rotations."
                )
            else:
                Q = np.eye(h.size)
        else:
            Q = np.asarray(self.Q, dtype=np.float64)
            if Q.shape != (h.size, h.size) or not np.allclose(Q.T @ Q, np.eye(h.size), atol=1e-10):
                raise ValueError(f"Q must be an orthogonal {h.size}x{h.size} matrix.")
        object.__setattr__(self, "h", tuple(h.tolist()))
        object.__setattr__(self, "Q", Q)
        H = Q @ np.diag(h) @ Q.T  # computed once: every gradient and loss uses it
        H.flags.writeable = False
        object.__setattr__(self, "_H", H)

    @classmethod
    def from_kappa(cls, kappa: float, h_max: float = 1.0, angle_deg: float = 0.0) -> Quadratic:
        """A 2-D quadratic with curvatures (h_max, h_max / kappa)."""
        if not kappa >= 1:
            raise ValueError(f"kappa = h_max/h_min must be >= 1, got {kappa}.")
        return cls((h_max, h_max / kappa), angle_deg)

    @property
    def dim(self) -> int:
        return len(self.h)

    @property
    def H(self) -> np.ndarray:
        """The Hessian Q diag(h) Q^T (read-only)."""
        return self._H

    @property
    def kappa(self) -> float:
        """Condition number h_max / h_min."""
        return max(self.h) / min(self.h)

    def loss(self, W) -> np.ndarray:
        """L(w) for w of shape (..., d)."""
        W = np.asarray(W, dtype=np.float64)
        return 0.5 * np.einsum("...i,ij,...j->...", W, self.H, W)

    def grad(self, W) -> np.ndarray:
        """Gradient H w for w of shape (..., d)."""
        return np.asarray(W, dtype=np.float64) @ self.H.T

    def to_eigenbasis(self, W) -> np.ndarray:
        """Coordinates of w along the eigenvectors (columns of Q)."""
        return np.asarray(W, dtype=np.float64) @ self.Q


@dataclass
class Trajectory:
    """An optimisation run: iterates ``path`` (k+1, d), ``losses`` (k+1,), divergence info."""

    path: np.ndarray
    losses: np.ndarray
    diverged: bool
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        return len(self.path) - 1


def _check_common(lr: float, steps: int, noise_std: float) -> None:
    if not lr >= 0:
        raise ValueError(f"The learning rate must be >= 0, got lr={lr}.")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps}.")
    if not noise_std >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}.")


def run_update_rule(
    q: Quadratic,
    w0,
    step_fn: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
    steps: int,
    noise_std: float = 0.0,
    seed: int = 0,
) -> Trajectory:
    """Run ``w <- step_fn(w, g, t)`` for t = 1..steps, with g the (optionally noisy) gradient.

    Stops early, marking divergence, when the loss exceeds DIVERGENCE_THRESHOLD.
    """
    _check_common(0.0, steps, noise_std)
    rng = np.random.default_rng(seed)
    w = np.asarray(w0, dtype=np.float64).copy()
    if w.shape != (q.dim,):
        raise ValueError(f"w0 must have shape ({q.dim},), got {w.shape}.")
    path = [w.copy()]
    losses = [float(q.loss(w))]
    for t in range(1, steps + 1):
        g = q.grad(w)
        if noise_std:
            g = g + noise_std * rng.standard_normal(q.dim)
        w = step_fn(w, g, t)
        loss = float(q.loss(w)) if np.all(np.abs(w) < 1e150) else np.inf
        if not loss <= DIVERGENCE_THRESHOLD:
            return Trajectory(np.array(path), np.array(losses), True, t)
        path.append(w.copy())
        losses.append(loss)
    return Trajectory(np.array(path), np.array(losses), False, None)


def gradient_descent(
    q: Quadratic, w0, lr: float, steps: int, noise_std: float = 0.0, seed: int = 0
) -> Trajectory:
    """Plain GD (SGD when noise_std > 0): w <- w - lr * g."""
    _check_common(lr, steps, noise_std)
    return run_update_rule(q, w0, lambda w, g, t: w - lr * g, steps, noise_std, seed)


def contraction_factors(h, lr: float) -> np.ndarray:
    """|1 - lr * h_i|: how much GD shrinks the error along each eigendirection per step."""
    return np.abs(1.0 - lr * np.asarray(h, dtype=np.float64))


def predicted_error(q: Quadratic, w0, lr: float, k) -> np.ndarray:
    """Eigen-coordinates of w_k predicted by theory, (1 - lr h_i)^k * (Q^T w0)_i; shape (len(k), d)."""
    k = np.atleast_1d(np.asarray(k))
    z0 = q.to_eigenbasis(w0)
    factors = 1.0 - lr * np.asarray(q.h)
    return z0[None, :] * factors[None, :] ** k[:, None]


def stability_limit(h) -> float:
    """GD converges on every eigendirection iff lr < 2 / h_max."""
    return 2.0 / float(np.max(h))


def best_fixed_step(h) -> float:
    """The step minimising max_i |1 - lr h_i|: 2 / (h_max + h_min)."""
    return 2.0 / (float(np.max(h)) + float(np.min(h)))


def best_rate(kappa: float) -> float:
    """The contraction factor at the best fixed step: (kappa - 1) / (kappa + 1)."""
    return (kappa - 1.0) / (kappa + 1.0)


def steps_to_tolerance(q: Quadratic, w0, lr: float, tol: float = 1e-6, max_steps: int = 1_000_000):
    """Fewest steps k with ||w_k|| <= tol * ||w0||, from the closed form (None if never)."""
    z0 = np.abs(q.to_eigenbasis(w0))
    rho = contraction_factors(q.h, lr)
    target = tol * np.linalg.norm(z0)
    if np.linalg.norm(z0) == 0:
        return 0
    if np.any((rho >= 1) & (z0 > 0)):
        return None

    # ||z_k||^2 = sum z0_i^2 rho_i^(2k) is decreasing in k: bisect on k.
    def norm_at(k):
        return np.sqrt(np.sum((z0 * rho**k) ** 2))

    lo, hi = 0, 1
    while norm_at(hi) > target:
        hi *= 2
        if hi > max_steps:
            return None
    while lo < hi:
        mid = (lo + hi) // 2
        if norm_at(mid) <= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def sgd_loss_floor(h, lr: float, noise_std: float) -> float:
    """Expected loss SGD settles at with isotropic gradient noise of std ``noise_std``.

    Per eigendirection z <- (1 - lr h) z - lr sigma xi has stationary variance
    lr sigma^2 / (h (2 - lr h)), so E[L] = sum_i lr sigma^2 / (2 (2 - lr h_i)). Infinite when
    lr >= 2 / h_max.
    """
    h = np.asarray(h, dtype=np.float64)
    if lr * h.max() >= 2:
        return float("inf")
    return float(np.sum(lr * noise_std**2 / (2 * (2 - lr * h))))
