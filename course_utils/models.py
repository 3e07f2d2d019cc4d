"""The course's Fashion-MNIST classifier: a three-layer MLP, built reproducibly from a seed."""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SHAPE = (1, 28, 28)
N_CLASSES = 10


def make_mlp(seed: int | None = 0, hidden: tuple[int, int] = (256, 128)) -> nn.Sequential:
    """Flatten -> Linear(784, 256) -> ReLU -> Linear(256, 128) -> ReLU -> Linear(128, 10).

    With ``seed`` the weights are drawn from a private random stream, so the same seed gives the
    same network and the global torch RNG is left untouched; ``seed=None`` uses the global RNG.
    """
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}.")
    if len(hidden) != 2 or any(int(h) < 1 for h in hidden):
        raise ValueError(f"hidden must be two positive layer widths, got {hidden!r}.")
    n_in = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2]

    def build() -> nn.Sequential:
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(n_in, hidden[0]),
            nn.ReLU(),
            nn.Linear(hidden[0], hidden[1]),
            nn.ReLU(),
            nn.Linear(hidden[1], N_CLASSES),
        )

    if seed is None:
        return build()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in ``model`` (235,146 for the course's MLP)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
