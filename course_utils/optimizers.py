"""Adagrad, Adam and AdamW written from scratch with the course's (textbook) formulas.

Two layers share one set of formulas:

* list functions (`adagrad_update`, `rmsprop_update`, `adam_update`, `adamw_update`) that take
  parameter and gradient lists (torch tensors or NumPy arrays of any shape, so a batch of runs
  is one array) and return the updated parameters and state. Every demo of the course runs these
  (the variants the lessons measure are their options), so a notebook can show the algorithm in
  a few lines and the demos run the one checked implementation;
* `torch.optim.Optimizer` subclasses (`CourseAdagrad`, `CourseAdam`, `CourseAdamW`) that plug
  into ``zero_grad() / backward() / step()`` and ``state_dict()``.

The course writes Adagrad with eps *inside* the square root, sqrt(G + eps); torch.optim puts it
outside, sqrt(G) + eps. `CourseAdagrad(eps_inside_sqrt=False)` follows torch (notebook 02).
"""

from __future__ import annotations

from collections.abc import Iterable

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
