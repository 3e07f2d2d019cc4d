"""Where the course's files live: the repository root and its figures/, results/ and data/.

Figures and results can be redirected with the environment variables ``COURSE_FIGURES_DIR`` and
``COURSE_RESULTS_DIR``; the test suite points both at a temporary folder, so that running the
tests never writes into the checkout. Every module asks here instead of computing the root itself.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
DATA_DIR = REPO_ROOT / "data"


def _from_env(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else default


def figures_dir() -> Path:
    """The folder figures are saved to: ``$COURSE_FIGURES_DIR`` or ``figures/`` in the repository."""
    return _from_env("COURSE_FIGURES_DIR", REPO_ROOT / "figures")


def results_dir(name: str | None = None) -> Path:
    """The folder for run results (``$COURSE_RESULTS_DIR`` or ``results/``), or its subfolder ``name``."""
    root = _from_env("COURSE_RESULTS_DIR", REPO_ROOT / "results")
    return root / name if name else root


def relative_to_repo(path: str | os.PathLike) -> str:
    """``path`` relative to the repository (or to the results folder) for printing, never a local path."""
    path = Path(path).resolve()
    for base, prefix in ((results_dir().resolve(), "results"), (REPO_ROOT, "")):
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        return str(Path(prefix) / rel) if prefix else str(rel)
    return path.name
