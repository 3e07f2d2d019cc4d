"""Adagrad, Adam and AdamW written from scratch with the course's (textbook) formulas.

Two layers share one set of formulas:

* list functions (`adagrad_update`, `rmsprop_update`, `adam_update`, `adamw_update`) that take
  parameter and gradient lists (torch tensors or NumPy arrays of any shape, so a batch of runs
  is one array) and return the updated parameters and state. Every demo of the course runs these
  (the variants the lessons measure are their options), so a notebook can show the algorithm in
  a few lines and the demos run the one checked implementation;
* `torch.optim.Optimizer` subclasses (`CourseAdagrad`, `CourseAdam`, `CourseAdamW`) that plug
  into ``zero_grad() / backward() / step()`` and ``state_dict()``.

Notebook 10 adds sign descent (`sign_descent_update`, signSGD and signum), the Newton-Schulz
iteration and Muon (`newton_schulz`, `muon_update`, checked against torch.optim.Muon) and Shampoo
(`shampoo_update`), with `CourseSignDescent` and `CourseMuon` as torch optimizers.

The course writes Adagrad with eps *inside* the square root, sqrt(G + eps); torch.optim puts it
outside, sqrt(G) + eps. `CourseAdagrad(eps_inside_sqrt=False)` follows torch (notebook 02).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch


def validate_hyperparameters(
    lr: float = 0.0,
    eps: float = 0.0,
    betas: Iterable[float] = (),
    weight_decay: float = 0.0,
) -> None:
    """Raise ValueError naming the first invalid hyperparameter and the valid range."""
    if not lr >= 0.0:  # also catches NaN
        raise ValueError(f"Invalid learning rate lr={lr!r}: it must be a number >= 0.")
    if not eps >= 0.0:
        raise ValueError(f"Invalid eps={eps!r}: it must be >= 0 (it guards a division).")
    for i, beta in enumerate(betas, start=1):
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"Invalid beta{i}={beta!r}: it must lie in [0, 1); beta{i} = 1 would never "
                "forget the past and the bias correction 1 - beta**t would divide by zero."
            )
    if not weight_decay >= 0.0:
        raise ValueError(
            f"Invalid weight_decay={weight_decay!r}: it must be >= 0 (a negative value "
            "would push the weights away from zero)."
        )


def _check_lists(params, grads) -> None:
    if len(params) != len(grads):
        raise ValueError(
            f"Got {len(params)} parameters but {len(grads)} gradients: pass one gradient "
            "per parameter, in the same order."
        )


def _grow(state: list, params) -> None:
    """Create zero state entries on first use (the state list starts empty)."""
    if not state:
        state.extend(p * 0 for p in params)
    elif len(state) != len(params):
        raise ValueError(
            f"The state list holds {len(state)} entries for {len(params)} parameters: "
            "start every optimizer run with fresh, empty state lists."
        )


def adagrad_update(params, grads, state, lr=0.01, eps=1e-8, eps_inside_sqrt=True):
    """One Adagrad step: G += g*g;  w -= lr * g / sqrt(G + eps).  Returns (params, state).

    ``eps_inside_sqrt=False`` divides by sqrt(G) + eps instead, as torch.optim.Adagrad does.
    Parameters may be torch tensors or NumPy arrays of any shape (a batch of runs is one array).
    """
    validate_hyperparameters(lr=lr, eps=eps)
    _check_lists(params, grads)
    _grow(state, params)
    for i, (w, g) in enumerate(zip(params, grads)):
        state[i] = state[i] + g * g
        denom = (state[i] + eps) ** 0.5 if eps_inside_sqrt else state[i] ** 0.5 + eps
        params[i] = w - lr * g / denom
    return params, state


def rmsprop_update(params, grads, v_state, lr=0.01, beta2=0.99, eps=1e-8, t=1, correct_v=False):
    """One RMSProp step: v = beta2*v + (1-beta2)*g*g;  w -= lr * g / (sqrt(v) + eps).

    Returns (params, v). This is torch.optim.RMSprop(alpha=beta2) without momentum or centering.
    ``correct_v=True`` divides v by 1 - beta2**t first: that is Adam with beta1 = 0, not RMSProp.
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(0.0, beta2))  # names it beta2
    _check_step(t)
    _check_lists(params, grads)
    _grow(v_state, params)
    bias_correction2 = 1 - beta2**t if correct_v else 1.0
    for i, (w, g) in enumerate(zip(params, grads)):
        v_state[i] = beta2 * v_state[i] + (1 - beta2) * g * g
        params[i] = w - lr * g / ((v_state[i] / bias_correction2) ** 0.5 + eps)
    return params, v_state


def _check_step(t) -> None:
    if t < 1:
        raise ValueError(f"Invalid step t={t!r}: steps are counted from t = 1.")


def adam_update(
    params,
    grads,
    m_state,
    v_state,
    lr=0.001,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    t=1,
    correct_m=True,
    correct_v=True,
    eps_inside_sqrt=False,
):
    """One Adam step at step number t >= 1 (bias-corrected EMAs).  Returns (params, m, v).

    The options give the variants the lessons measure: ``correct_m`` / ``correct_v`` switch each
    bias correction off; ``eps_inside_sqrt`` divides by sqrt(v_hat + eps) instead of
    sqrt(v_hat) + eps. Parameters may be torch tensors or NumPy arrays of any shape.
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(beta1, beta2))
    _check_step(t)
    _check_lists(params, grads)
    _grow(m_state, params)
    _grow(v_state, params)
    bias_correction1 = 1 - beta1**t if correct_m else 1.0
    bias_correction2 = 1 - beta2**t if correct_v else 1.0
    for i, (w, g) in enumerate(zip(params, grads)):
        m_state[i] = beta1 * m_state[i] + (1 - beta1) * g
        v_state[i] = beta2 * v_state[i] + (1 - beta2) * g * g
        m_hat = m_state[i] / bias_correction1
        v_hat = v_state[i] / bias_correction2
        denom = (v_hat + eps) ** 0.5 if eps_inside_sqrt else v_hat**0.5 + eps
        params[i] = w - lr * m_hat / denom
    return params, m_state, v_state


def adamw_update(
    params,
    grads,
    m_state,
    v_state,
    lr=0.001,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=0.01,
    t=1,
    **variant,
):
    """One AdamW step: w *= (1 - lr*weight_decay), then the Adam step.  Returns (params, m, v).

    ``variant`` takes `adam_update`'s options (``correct_m``, ``correct_v``, ``eps_inside_sqrt``).
    """
    validate_hyperparameters(weight_decay=weight_decay)
    for i, w in enumerate(params):
        params[i] = w * (1 - lr * weight_decay)
    return adam_update(params, grads, m_state, v_state, lr, beta1, beta2, eps, t, **variant)


class _CourseOptimizer(torch.optim.Optimizer):
    """Shared loop: gather each group's params with gradients, run the list function."""

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                live = [p for p in group["params"] if p.grad is not None]
                if live:
                    self._group_step(group, live)
        return loss

    def _group_step(self, group, params):  # pragma: no cover - overridden
        raise NotImplementedError


class CourseAdagrad(_CourseOptimizer):
    """Adagrad as a torch optimizer; eps inside the root (course) or outside (torch.optim)."""

    def __init__(self, params, lr=0.01, eps=1e-8, eps_inside_sqrt=True):
        validate_hyperparameters(lr=lr, eps=eps)
        super().__init__(params, dict(lr=lr, eps=eps, eps_inside_sqrt=eps_inside_sqrt))

    def _group_step(self, group, params):
        lr, eps = group["lr"], group["eps"]
        for p in params:
            state = self.state[p]
            if not state:
                state["sum"] = torch.zeros_like(p)
            G = state["sum"]
            g = p.grad
            G.addcmul_(g, g)
            denom = (G + eps).sqrt() if group["eps_inside_sqrt"] else G.sqrt() + eps
            p.sub_(lr * g / denom)


class CourseAdam(_CourseOptimizer):
    """Adam as a torch optimizer; weight_decay > 0 adds the L2 gradient weight_decay * w."""

    decoupled = False

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        validate_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(
            params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        )

    def _group_step(self, group, params):
        lr, (beta1, beta2), eps, wd = (
            group["lr"],
            group["betas"],
            group["eps"],
            group["weight_decay"],
        )
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = torch.tensor(0.0)
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            state["step"] += 1
            t = int(state["step"].item())
            g = p.grad
            if wd and self.decoupled:
                p.mul_(1 - lr * wd)
            elif wd:
                g = g + wd * p
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m.mul_(beta1).add_((1 - beta1) * g)
            v.mul_(beta2).add_((1 - beta2) * g * g)
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


class CourseAdamW(CourseAdam):
    """AdamW as a torch optimizer: decoupled decay w *= (1 - lr*weight_decay) before the step."""

    decoupled = True

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# ------------------------------------------------------------------------------------------------
# Beyond AdamW (notebook 10): sign descent, Newton-Schulz, Muon and Shampoo as list functions.
# Parameters may be torch tensors or NumPy arrays; Muon and Shampoo need matrices (a leading
# batch dimension, ``(..., rows, cols)``, runs several problems at once).

MUON_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # Jordan et al. (2024), as in torch.optim.Muon


def _sign(x):
    return torch.sign(x) if isinstance(x, torch.Tensor) else np.sign(x)


def _mT(x):
    """The transpose of the last two axes (a batch of matrices stays a batch)."""
    return x.mT if isinstance(x, torch.Tensor) else np.swapaxes(x, -1, -2)


def _frobenius(x):
    """||X||_F of each matrix in a batch, shaped to broadcast against X."""
    if isinstance(x, torch.Tensor):
        return torch.linalg.matrix_norm(x, keepdim=True)
    return np.linalg.norm(x, axis=(-2, -1), keepdims=True)


def _check_matrices(params) -> None:
    for p in params:
        if len(p.shape) < 2:
            raise ValueError(
                f"Muon and Shampoo update matrices; got a parameter of shape {tuple(p.shape)}. "
                "Give vectors (biases) to AdamW instead."
            )


def sign_descent_update(params, grads, m_state, lr=0.01, beta1=0.0, weight_decay=0.0):
    """signSGD (beta1 = 0) or signum (beta1 > 0): m = beta1*m + (1-beta1)*g;  w -= lr * sign(m).

    ``weight_decay`` decays w *= (1 - lr*weight_decay) first, as AdamW does. Returns (params, m).
    """
    validate_hyperparameters(lr=lr, betas=(beta1,), weight_decay=weight_decay)
    _check_lists(params, grads)
    _grow(m_state, params)
    for i, (w, g) in enumerate(zip(params, grads)):
        m_state[i] = beta1 * m_state[i] + (1 - beta1) * g
        params[i] = w * (1 - lr * weight_decay) - lr * _sign(m_state[i])
    return params, m_state


def newton_schulz(G, steps=5, coefficients=MUON_COEFFICIENTS, eps=1e-7):
    """About U V^T of G = U S V^T: ``steps`` quintic iterations X <- a X + (b A + c A^2) X, A = X X^T.

    X starts at G / ||G||_F (every singular value <= 1); each iteration maps a singular value s
    to a s + b s^3 + c s^5, which pushes it towards 1. Wide form inside (rows <= cols).
    """
    if len(G.shape) < 2:
        raise ValueError(f"newton_schulz orthogonalises a matrix, got shape {tuple(G.shape)}.")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}.")
    a, b, c = coefficients
    tall = G.shape[-2] > G.shape[-1]
    X = _mT(G) if tall else G
    norm = _frobenius(X)
    X = X / (norm.clamp(min=eps) if isinstance(norm, torch.Tensor) else np.maximum(norm, eps))
    for _ in range(int(steps)):
        A = X @ _mT(X)
        B = b * A + c * (A @ A)
        X = a * X + B @ X
    return _mT(X) if tall else X


def muon_update(
    params,
    grads,
    m_state,
    lr=0.02,
    momentum=0.95,
    nesterov=True,
    ns_steps=5,
    weight_decay=0.0,
    coefficients=MUON_COEFFICIENTS,
    eps=1e-7,
):
    """One Muon step for weight matrices (Jordan et al. 2024).  Returns (params, m).

    m = momentum*m + (1-momentum)*g; u = (1-momentum)*g + momentum*m (Nesterov) or m;
    O = newton_schulz(u); w *= (1 - lr*weight_decay); w -= lr * sqrt(max(1, rows/cols)) * O.
    torch.optim.Muon computes the same in another order and runs the iteration in bfloat16.
    """
    validate_hyperparameters(lr=lr, eps=eps, betas=(momentum,), weight_decay=weight_decay)
    _check_lists(params, grads)
    _check_matrices(params)
    _grow(m_state, params)
    for i, (w, g) in enumerate(zip(params, grads)):
        m_state[i] = momentum * m_state[i] + (1 - momentum) * g
        u = (1 - momentum) * g + momentum * m_state[i] if nesterov else m_state[i]
        ortho = newton_schulz(u, ns_steps, coefficients, eps)
        scale = max(1.0, w.shape[-2] / w.shape[-1]) ** 0.5
        params[i] = w * (1 - lr * weight_decay) - lr * scale * ortho
    return params, m_state


def _inverse_root(M, p: float):
    """M^(-1/p) of symmetric positive definite matrices (a batch allowed), by eigendecomposition."""
    if isinstance(M, torch.Tensor):
        lam, V = torch.linalg.eigh(M)
        return (V * (lam.clamp(min=1e-30) ** (-1.0 / p)).unsqueeze(-2)) @ V.mT
    lam, V = np.linalg.eigh(M)
    return (V * np.maximum(lam, 1e-30)[..., None, :] ** (-1.0 / p)) @ np.swapaxes(V, -1, -2)


def _eye_like(p, n: int):
    """Identity matrices n x n, one per matrix in the batch of p, in p's kind and dtype."""
    if isinstance(p, torch.Tensor):
        return torch.eye(n, dtype=p.dtype).expand(*p.shape[:-2], n, n).clone()
    return np.broadcast_to(np.eye(n), (*p.shape[:-2], n, n)).copy()


def shampoo_update(params, grads, L_state, R_state, lr=0.1, eps=1e-4):
    """One Shampoo step for weight matrices (Gupta et al. 2018, Algorithm 1).  Returns (params, L, R).

    L = eps*I + sum of G G^T (rows x rows), R = eps*I + sum of G^T G (cols x cols);
    w -= lr * L^(-1/4) G R^(-1/4).
    """
    validate_hyperparameters(lr=lr, eps=eps)
    _check_lists(params, grads)
    _check_matrices(params)
    for state, side in ((L_state, -2), (R_state, -1)):
        if not state:
            state.extend(eps * _eye_like(p, p.shape[side]) for p in params)
        elif len(state) != len(params):
            _grow(state, params)  # raises the course's message
    for i, (w, g) in enumerate(zip(params, grads)):
        L_state[i] = L_state[i] + g @ _mT(g)
        R_state[i] = R_state[i] + _mT(g) @ g
        params[i] = w - lr * _inverse_root(L_state[i], 4) @ g @ _inverse_root(R_state[i], 4)
    return params, L_state, R_state


class CourseSignDescent(_CourseOptimizer):
    """signSGD (momentum = 0) or signum (momentum > 0) as a torch optimizer (`sign_descent_update`)."""

    def __init__(self, params, lr=1e-3, momentum=0.9, weight_decay=0.0):
        validate_hyperparameters(lr=lr, betas=(momentum,), weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def _group_step(self, group, params):
        for p in params:
            state = self.state[p]
            if not state:
                state["m"] = torch.zeros_like(p)
            (w,), (state["m"],) = sign_descent_update(
                [p.detach()], [p.grad], [state["m"]], group["lr"], group["momentum"],
                group["weight_decay"],
            )
            p.copy_(w)


class CourseMuon(_CourseOptimizer):
    """Muon for weight matrices as a torch optimizer (`muon_update`, float32 Newton-Schulz)."""

    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0):
        validate_hyperparameters(lr=lr, betas=(momentum,), weight_decay=weight_decay)
        super().__init__(
            params,
            dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps,
                 weight_decay=weight_decay),
        )
        _check_matrices([p for group in self.param_groups for p in group["params"]])

    def _group_step(self, group, params):
        for p in params:
            state = self.state[p]
            if not state:
                state["momentum_buffer"] = torch.zeros_like(p)
            (w,), (state["momentum_buffer"],) = muon_update(
                [p.detach()], [p.grad], [state["momentum_buffer"]], group["lr"],
                group["momentum"], group["nesterov"], group["ns_steps"], group["weight_decay"],
            )
            p.copy_(w)
