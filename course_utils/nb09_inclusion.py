"""Optimizer inclusion (Choi et al. 2019), measured: Adam with a huge eps follows momentum SGD.

torch's Adam step is ``theta -= lr * m_hat / (sqrt(v_hat) + eps)`` with
``m_hat = m / (1 - beta1**t)`` and ``m = (1 - beta1) * buf``, where ``buf = beta1 * buf + g`` is
exactly the momentum buffer of ``torch.optim.SGD(momentum=beta1)``. With
``lr = alpha * eps / (1 - beta1)`` the step is

    alpha * buf / (1 - beta1**t) * eps / (sqrt(v_hat) + eps)  ->  alpha * buf / (1 - beta1**t)

as ``eps`` grows: momentum SGD with learning rate ``alpha``, times Adam's bias correction
``1 / (1 - beta1**t)`` (a short warm-down from 10x to 1x over the first ~50 steps at beta1 = 0.9).
`trajectories` trains the three side by side on the same batches; `gap_vs_eps` measures how far
Adam's weights end from momentum SGD's as eps grows.
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.cli import limit_threads
from course_utils.data import iterate_minibatches
from course_utils.nb09_trials import load_data, make_model


def _batches(X, y, steps: int, batch_size: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    out = []
    while len(out) < steps:
        out += list(iterate_minibatches(X, y, batch_size, generator=gen))
    return out[:steps]


def make_pair_optimizer(kind: str, params, alpha: float, beta1: float, eps: float, lr_adam=None):
    """``"sgd"`` (momentum ``beta1``, times Adam's bias correction), ``"sgd_plain"`` (momentum
    ``beta1``, constant ``alpha``) or ``"adam"`` (``lr = alpha * eps / (1 - beta1)`` unless
    ``lr_adam`` is given). Returns (optimizer, scheduler or None)."""
    params = list(params)
    if kind == "adam":
        lr = alpha * eps / (1 - beta1) if lr_adam is None else lr_adam
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), eps=eps), None
    opt = torch.optim.SGD(params, lr=alpha, momentum=beta1)
    if kind == "sgd_plain":
        return opt, None
    if kind != "sgd":
        raise ValueError(f"Unknown kind {kind!r}: use 'sgd', 'sgd_plain' or 'adam'.")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1.0 - beta1 ** (t + 1)))
    return opt, sched


def train_path(
    kind: str,
    alpha: float = 0.05,
    beta1: float = 0.9,
    eps: float = 1.0,
    steps: int = 200,
    workload: str = "mlp",
    lr_adam: float | None = None,
    data=None,
    seed: int = 0,
    n_train: int = 8_000,
    batch_size: int = 128,
) -> dict:
    """Train ``kind`` for ``steps`` on the first ``n_train`` training images; return the batch
    losses, the final flat weights and the initial ones."""
    X, y = (data or load_data())[:2]
    X, y = X[:n_train], y[:n_train]
    with limit_threads(1):
        model = make_model(workload, seed)
        theta0 = torch.cat([p.detach().flatten() for p in model.parameters()]).clone()
        opt, sched = make_pair_optimizer(kind, model.parameters(), alpha, beta1, eps, lr_adam)
        losses = []
        for xb, yb in _batches(X, y, steps, batch_size, seed):
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            losses.append(loss.item())
        theta = torch.cat([p.detach().flatten() for p in model.parameters()])
    return {"loss": losses, "theta": theta, "theta0": theta0}


def relative_gap(a: dict, b: dict) -> float:
    """``|theta_a - theta_b| / |theta_b - theta_0|``: 0 when the two runs end at the same weights."""
    return float((a["theta"] - b["theta"]).norm() / (b["theta"] - b["theta0"]).norm())


def gap_vs_eps(eps_values, alpha=0.05, beta1=0.9, steps=200, data=None, reference="sgd", **kw):
    """Relative gap between Adam(eps, lr = alpha eps / (1 - beta1)) and momentum SGD for each eps."""
    data = data or load_data()
    ref = train_path(reference, alpha, beta1, steps=steps, data=data, **kw)
    return [
        relative_gap(train_path("adam", alpha, beta1, e, steps, data=data, **kw), ref)
        for e in eps_values
    ]
