"""Test-run settings shared by the unit tests and the notebook runs.

* Figures and results go to a temporary folder (``COURSE_FIGURES_DIR``, ``COURSE_RESULTS_DIR``,
  read by ``course_utils.paths``), so running any test leaves the checkout untouched. Notebook
  kernels started by nbval inherit the variables.
* The nbval options apply only when notebooks are tested (``pytest notebooks``, or a notebook
  path): strict comparison, the current environment's kernel, and the sanitizer for timings.
  ``pytest tests`` is the plain unit run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "notebooks"


def _tests_notebooks(args: list[str]) -> bool:
    for arg in args:
        path = Path(arg.split("::")[0]).resolve()
        if path.suffix == ".ipynb" or path == NOTEBOOKS or NOTEBOOKS in path.parents:
            return True
    return False


def pytest_configure(config):
    scratch = Path(tempfile.mkdtemp(prefix="course-test-outputs-"))
    os.environ.setdefault("COURSE_FIGURES_DIR", str(scratch / "figures"))
    os.environ.setdefault("COURSE_RESULTS_DIR", str(scratch / "results"))
    option = config.option
    if not hasattr(option, "nbval") or option.nbval_lax:
        return  # nbval disabled (-p no:nbval), or the user chose lax mode
    if option.nbval or _tests_notebooks(config.args):
        option.nbval = True
        if not option.nbval_kernel_name:
            option.nbval_current_env = True
        if option.nbval_sanitize_with is None:
            option.nbval_sanitize_with = str(ROOT / "tests" / "sanitize.cfg")
