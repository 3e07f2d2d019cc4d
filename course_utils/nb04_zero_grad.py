"""Notebook 04: which MLP weights never receive a gradient, and why (the spike at alpha/eps).

`zero_gradient_anatomy` replays the Adam run of `nb04_adam.mlp_adam_grad_rms` step by step,
records which ReLU units fire on which example, and sorts the weights whose gradient is exactly
zero at every step into three causes: the unit the weight feeds never fires (a "dead" output
unit), the unit it reads never fires (a dead input unit), or both units fire but never on the
same example. A weight w_ji from unit i into unit j gets the gradient sum_x delta_j(x) h_i(x),
and delta_j(x) = 0 whenever unit j is inactive on x (ReLU), so the gradient is exactly zero at
every step when j and i are never active together on any example of any batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from course_utils.cli import limit_threads
from course_utils.nb04_adam import fashion_batches
from course_utils.optimizers import validate_hyperparameters


@dataclass
class ZeroGradAnatomy:
    """Counts for the course MLP after ``steps`` Adam steps (see `zero_gradient_anatomy`).

    ``zero_v`` / ``sizes``: per group (layer 1, 2, 3 weights, biases), the number of parameters
    with v_hat = 0 and the group's size. ``dead`` / ``width``: per hidden layer, units that never
    fired on any example of the run, and the layer width. ``layer2_causes``: layer-2 weights with
    v_hat = 0 split by cause ("out unit dead", "in unit dead", "never co-active", where the last
    excludes the first two). ``predicted_equals_measured``: whether the set of parameters with
    v_hat = 0 is exactly the set predicted from the firing pattern, in every group.
    """

    steps: int
    zero_v: dict[str, int]
    sizes: dict[str, int]
    dead: dict[str, int]
    width: dict[str, int]
    layer2_causes: dict[str, int]
    predicted_equals_measured: bool

    def fraction(self, group: str) -> float:
        return self.zero_v[group] / self.sizes[group]


GROUPS = ("layer 1 weights", "layer 2 weights", "layer 3 weights", "biases")


def zero_gradient_anatomy(steps: int = 100, lr: float = 1e-3, seed: int = 0) -> ZeroGradAnatomy:
    """Replay ``steps`` torch.optim.Adam steps of the course MLP (seed ``seed``) and explain v_hat = 0.

    Same batches, model and optimizer as `nb04_adam.mlp_adam_grad_rms`. Returns the counts of
    `ZeroGradAnatomy`; raises ValueError for steps outside 1..400.
    """
    from course_utils.models import make_mlp

    validate_hyperparameters(lr=lr)
    if not 1 <= steps <= 400:
        raise ValueError(f"steps must be between 1 and 400, got {steps}.")
    model = make_mlp(seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    lin1, lin2, lin3 = model[1], model[3], model[5]
    fired1 = torch.zeros(lin1.out_features, dtype=torch.bool)
    fired2 = torch.zeros(lin2.out_features, dtype=torch.bool)
    coactive = torch.zeros(lin2.out_features, lin1.out_features, dtype=torch.float64)
    with limit_threads(1):
        for X, y in fashion_batches(steps):
            opt.zero_grad()
            flat = model[0](X)
            pre1 = lin1(flat)
            h1 = torch.relu(pre1)
            pre2 = lin2(h1)
            out = lin3(torch.relu(pre2))
            loss_fn(out, y).backward()
            opt.step()
            a1, a2 = (pre1 > 0).detach(), (pre2 > 0).detach()
            fired1 |= a1.any(0)
            fired2 |= a2.any(0)
            coactive += a2.double().T @ a1.double()
    zero = {}
    for name, p in model.named_parameters():
        zero[name] = (opt.state[p]["exp_avg_sq"] == 0).numpy()
    never_co = (coactive == 0).numpy()
    f1, f2 = fired1.numpy(), fired2.numpy()
    # predicted zero-gradient sets, parameter by parameter
    predicted = {
        "3.weight": never_co,
        "5.weight": np.broadcast_to(~f2[None, :], zero["5.weight"].shape),
        "3.bias": ~f2,
        "1.bias": ~f1,
    }
    agree = all(np.array_equal(zero[k], v) for k, v in predicted.items())
    z2 = zero["3.weight"]
    out_dead = np.broadcast_to(~f2[:, None], z2.shape)
    in_dead = np.broadcast_to(~f1[None, :], z2.shape)
    causes = {
        "out unit dead": int((z2 & out_dead).sum()),
        "in unit dead": int((z2 & in_dead & ~out_dead).sum()),
        "never co-active": int((z2 & ~out_dead & ~in_dead).sum()),
    }
    bias_zero = zero["1.bias"].sum() + zero["3.bias"].sum() + zero["5.bias"].sum()
    bias_size = sum(zero[k].size for k in ("1.bias", "3.bias", "5.bias"))
    return ZeroGradAnatomy(
        steps=steps,
        zero_v={
            "layer 1 weights": int(zero["1.weight"].sum()),
            "layer 2 weights": int(z2.sum()),
            "layer 3 weights": int(zero["5.weight"].sum()),
            "biases": int(bias_zero),
        },
        sizes={
            "layer 1 weights": zero["1.weight"].size,
            "layer 2 weights": z2.size,
            "layer 3 weights": zero["5.weight"].size,
            "biases": bias_size,
        },
        dead={"layer 1": int((~f1).sum()), "layer 2": int((~f2).sum())},
        width={"layer 1": f1.size, "layer 2": f2.size},
        layer2_causes=causes,
        predicted_equals_measured=bool(agree),
    )
