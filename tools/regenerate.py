"""Re-execute notebooks in place with nbclient and strip volatile metadata (`make figures`).

Usage: python tools/regenerate.py notebooks/01_ill_conditioned_quadratic.ipynb [...]
Stored outputs are what nbval compares against, so never edit them by hand: run this.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def regenerate(path: Path) -> float:
    """Execute one notebook in its own folder, strip widget state and timings; return seconds."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=1200,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return elapsed


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: python tools/regenerate.py NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    for name in paths:
        seconds = regenerate(Path(name))
        print(f"{name}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
