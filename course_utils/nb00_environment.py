"""What the course runs on: package versions, device and thread count, for the first notebook."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "matplotlib",
    "ipywidgets",
    "jupyterlab",
    "tqdm",
    "nbval",
)


def environment_report() -> dict[str, str]:
    """Python and package versions, the torch device the course will use, and CPU threads."""
    import torch

    report = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            report[name] = version(name)
        except PackageNotFoundError:
            report[name] = "not installed (run `make lab` or `pip install -e .[dev]`)"
    report["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    report["torch threads"] = str(torch.get_num_threads())
    return report


def print_environment() -> None:
    """Print environment_report() as an aligned table."""
    for key, value in environment_report().items():
        print(f"{key:>14}: {value}")
