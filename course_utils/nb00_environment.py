"""What the course runs on, checked: OK or PROBLEM per requirement, with the fix for each problem.

The minimum versions are the project's own (``pyproject.toml``; from the installed package's
metadata when the file is not there), plus the widget frontend ``jupyterlab_widgets`` at the
version the installed ``ipywidgets`` asks for: without it JupyterLab shows a panel as a line of
text such as ``SliderPanel(...)`` instead of sliders.
"""

from __future__ import annotations

import platform
import tomllib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from .paths import REPO_ROOT

FRONTEND = "jupyterlab_widgets"
FRONTEND_FALLBACK = ">=3"  # ipywidgets 8's frontend, when ipywidgets itself is missing
SETUP_FIX = "run `make setup` in the course folder, or in a cell `%pip install '{req}'`"


@dataclass(frozen=True)
class Check:
    """One requirement: its name, what it needs, what is installed (None: missing) and a verdict."""

    name: str
    needs: str
    found: str | None
    ok: bool
    fix: str = ""

    def line(self) -> str:
        found = self.found if self.found is not None else "not installed"
        text = f"{'OK' if self.ok else 'PROBLEM':<8} {self.name:<19} {found:<12} needs {self.needs}"
        return text if self.ok else f"{text}\n{'':9}fix: {self.fix}"


def project_requirements() -> tuple[str, list[str]]:
    """(requires-python, dependency strings) from pyproject.toml, else from installed metadata."""
    pyproject = REPO_ROOT / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text())["project"]
        return project["requires-python"], list(project["dependencies"])
    from importlib.metadata import metadata

    meta = metadata("course_utils")
    deps = [r for r in requires("course_utils") or [] if "extra ==" not in r]
    return meta["Requires-Python"] or "", deps


def frontend_requirement() -> str:
    """The ``jupyterlab_widgets`` versions the installed ipywidgets asks for."""
    try:
        wanted = requires("ipywidgets") or []
    except PackageNotFoundError:
        wanted = []
    for text in wanted:
        req = Requirement(text)
        if req.name.replace("-", "_").lower() == FRONTEND and not req.marker:
            return str(req.specifier)
    return FRONTEND_FALLBACK


def check_requirement(name: str, specifier: str, found: str | None, fix: str = "") -> Check:
    """OK when ``found`` satisfies ``specifier`` (e.g. ">=2.4"); else PROBLEM with the fix."""
    req = Requirement(f"{name}{specifier}")
    try:
        ok = found is not None and req.specifier.contains(Version(found), prereleases=True)
    except InvalidVersion:
        ok = False
    return Check(name, specifier or "any version", found, ok, fix or SETUP_FIX.format(req=req))


def _installed(name: str, versions: dict | None) -> str | None:
    if versions is not None:
        return versions.get(name)
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def environment_checks(versions: dict[str, str | None] | None = None) -> list[Check]:
    """Python, every dependency and the widget frontend against the project's minimums.

    ``versions`` (name -> installed version, None for missing) replaces the real lookup; the
    tests use it to try a too-old and a missing package.
    """
    python_spec, deps = project_requirements()
    python = (versions or {}).get("python", platform.python_version())
    checks = [
        check_requirement(
            "python",
            python_spec,
            python,
            fix=f"make the course's environment with a Python {python_spec} "
            "(`make setup PYTHON=python3.12`)",
        )
    ]
    for text in deps:
        req = Requirement(text)
        checks.append(
            check_requirement(req.name, str(req.specifier), _installed(req.name, versions))
        )
    frontend = frontend_requirement()
    checks.append(
        check_requirement(
            FRONTEND,
            frontend,
            _installed(FRONTEND, versions),
            fix=f"the widget frontend: without it panels show as text. `%pip install "
            f"'{FRONTEND}{frontend}'` (or `make setup`), then reload the browser page",
        )
    )
    return checks


def data_source() -> str:
    """Where the Fashion-MNIST files were found, in words (never a local path)."""
    import os

    from . import data

    try:
        found = data.find_data_dir().resolve()
    except data.DataNotFoundError:
        return "PROBLEM  Fashion-MNIST not found: run `make data` in the course folder"
    if found == data.DEBIAN_DIR.resolve():
        where = "Debian's dataset-fashion-mnist package"
    elif REPO_ROOT in found.parents:
        where = f"the course folder's {found.relative_to(REPO_ROOT)}/"
    elif os.environ.get("FASHION_MNIST_DIR"):
        where = "the folder FASHION_MNIST_DIR names"
    else:
        where = "a folder of your own"
    return f"OK       Fashion-MNIST found in {where}"


def device_summary() -> str:
    """The device the course's torch code will use and its CPU thread count."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return f"device: {device}, torch CPU threads: {torch.get_num_threads()}"


def print_environment() -> int:
    """Print one OK/PROBLEM line per requirement and the device; return the number of problems."""
    checks = environment_checks()
    for check in checks:
        print(check.line())
    problems = sum(not c.ok for c in checks)
    print(device_summary())
    if problems:
        print(f"{problems} PROBLEM(s): apply the fixes above, then restart the kernel.")
    else:
        print(f"all {len(checks)} requirements met.")
    return problems
