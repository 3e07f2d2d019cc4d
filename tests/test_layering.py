"""The package's import rules, read from the source and enforced.

* Shared modules (no ``nbNN_`` prefix) never import lesson modules.
* A lesson module (``nbNN_*``) imports shared modules and lessons NN or earlier, never a later one.
* Private names (``_name``) are imported only within one lesson (the same ``nbNN_`` prefix).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from course_utils.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "course_utils"
LESSON = re.compile(r"^nb(\d\d)_")


def _lesson(module: str) -> int | None:
    m = LESSON.match(module)
    return int(m.group(1)) if m else None


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported course_utils module, imported names) for every import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            base = node.module or ""
            if node.level == 1:
                base = f"course_utils.{base}" if base else "course_utils"
            if base == "course_utils":  # from course_utils import nb02_adagrad as lab
                found += [(node.lineno, n, []) for n in names]
            elif base.startswith("course_utils."):
                found.append((node.lineno, base.split(".", 1)[1], names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("course_utils."):
                    found.append((node.lineno, alias.name.split(".", 1)[1], []))
    return found


def layering_violations(package: Path = PACKAGE) -> list[str]:
    """Every import in ``package`` that breaks the rules above, as 'file:line: why'."""
    problems = []
    for path in sorted(package.glob("*.py")):
        me = path.stem
        mine = _lesson(me)
        for line, target, names in _imports(path):
            theirs = _lesson(target)
            where = f"{path.name}:{line}"
            if mine is None and theirs is not None:
                problems.append(f"{where}: shared module {me} imports lesson module {target}")
            elif mine is not None and theirs is not None and theirs > mine:
                problems.append(f"{where}: lesson {me} imports the later lesson {target}")
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if private and (mine is None or theirs != mine):
                problems.append(f"{where}: {me} imports private {', '.join(private)} from {target}")
    return problems


def test_course_utils_follows_the_import_rules():
    assert layering_violations() == []


def test_every_module_is_shared_or_named_after_its_notebook():
    notebooks = {p.name[:2] for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    for path in PACKAGE.glob("nb*.py"):
        assert path.name[2:4] in notebooks, f"{path.name} names no notebook"


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "course_utils"
    pkg.mkdir()
    for name, text in files.items():
        (pkg / name).write_text(text)
    return pkg


def test_a_shared_module_importing_a_lesson_is_caught(tmp_path):
    pkg = _plant(tmp_path, {"plotting.py": "from .nb02_adagrad import plot_effective_lr\n",
                            "nb02_adagrad.py": "x = 1\n"})
    assert layering_violations(pkg) == [
        "plotting.py:1: shared module plotting imports lesson module nb02_adagrad"
    ]


def test_a_lesson_importing_a_later_lesson_is_caught(tmp_path):
    pkg = _plant(tmp_path, {"nb03_ema.py": "from course_utils import nb04_adam as later\n",
                            "nb04_adam.py": "from course_utils.nb03_ema import ema\n"})
    assert layering_violations(pkg) == [
        "nb03_ema.py:1: lesson nb03_ema imports the later lesson nb04_adam"
    ]


def test_a_private_name_from_another_lesson_is_caught(tmp_path):
    pkg = _plant(tmp_path, {"nb05_adamw.py": "from course_utils.nb04_adam import _copying\n",
                            "nb04_exercises.py": "from .nb04_adam import _helper\n"})
    assert layering_violations(pkg) == [
        "nb05_adamw.py:1: nb05_adamw imports private _copying from nb04_adam"
    ]


def test_the_readme_and_the_package_docstring_name_every_module():
    import course_utils

    readme = (REPO_ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    for path in PACKAGE.glob("*.py"):
        if path.stem == "__init__":
            continue
        assert f"`{path.stem}`" in layout, f"README's Layout section does not list {path.stem}"
        assert f"``{path.stem}``" in course_utils.__doc__, f"the package docstring misses {path.stem}"
