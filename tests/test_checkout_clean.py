"""Running the tests leaves the checkout as it was: figures and results go to a temporary folder.

A notebook run by strict nbval and a panel test (both save figures) run in a child pytest inside
a throw-away git repository holding a copy of this checkout's files (tracked and untracked, not
ignored), so that other work in this folder cannot disturb the comparison. The child's
environment lacks COURSE_FIGURES_DIR and COURSE_RESULTS_DIR, so the copy's root conftest.py must
set them itself; afterwards ``git status --porcelain`` of the copy must still be empty, and no
tracked file may have been rewritten (a figure saved again with the same bytes counts too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from course_utils.data import find_data_dir
from course_utils.paths import REPO_ROOT

NOTEBOOK = "notebooks/00_start_here.ipynb"  # short, and it saves a figure
PANEL_TEST = "tests/test_panels_nbclient.py::test_every_panel_setting_draws[00_start_here]"


def _git(cwd, *args) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _copy_checkout(target) -> None:
    """This checkout's tracked and untracked (not ignored) files, committed in a new repo."""
    files = _git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, files.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "copy")


@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO_ROOT / ".git").exists(),
    reason="needs git and a git checkout",
)
def test_a_notebook_run_and_a_panel_test_leave_git_status_unchanged(tmp_path):
    copy = tmp_path / "checkout"
    _copy_checkout(copy)
    assert _git(copy, "status", "--porcelain") == ""
    tracked = [copy / n for n in filter(None, _git(copy, "ls-files", "-z").split("\0"))]
    mtimes = {p: p.stat().st_mtime_ns for p in tracked}
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(copy), env.get("PYTHONPATH")) if p)
    env["FASHION_MNIST_DIR"] = str(find_data_dir())  # the copy has no data/ folder
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", NOTEBOOK, PANEL_TEST],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
    changed = _git(copy, "status", "--porcelain", "--untracked-files=all")
    assert changed == "", f"the test run changed the checkout:\n{changed}"
    rewritten = [str(p.relative_to(copy)) for p in tracked if p.stat().st_mtime_ns != mtimes[p]]
    assert not rewritten, f"the test run rewrote {rewritten}"
