"""Find the course notebooks that show slider panels, and cut each one down to what the panels need.

Shared by the browser tests (``tests/browser``) and the browser-free panel test
(``tests/test_panels_nbclient.py``), so both cover every panel that exists without edits.

A *panel cell* is a code cell that builds or shows a panel (``SliderPanel(...)``,
``make_..._panel(...)``, ``display(panel)``, a bare ``panel``). A notebook is tested up to its
last panel cell: the cells below it (long trainings in the later notebooks) cannot affect a
panel that is already on screen, and strict nbval runs them anyway.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
# COURSE_NOTEBOOK_DIR points the panel tests at another folder (used to check that they fail).
NOTEBOOK_DIR = Path(os.environ.get("COURSE_NOTEBOOK_DIR", REPO / "notebooks"))

PANEL_SOURCE = re.compile(
    r"SliderPanel\s*\(|\bmake_\w*panel\w*\s*\(|\w+_panel\s*\(|display\(\s*[\w.]*panel\w*\s*\)"
    r"|^\s*[\w.]*panel\w*\s*$",
    re.IGNORECASE | re.MULTILINE,
)

# Run in the kernel before the notebook: figures and results go to a throw-away folder (the
# variables course_utils.paths reads; pytest's root conftest.py sets them too), so testing never
# rewrites the committed figures/ of the repository.
FIGURE_REDIRECT = """\
import os as _os
import tempfile as _tempfile
_scratch = _tempfile.mkdtemp(prefix="course-test-outputs-")
_os.environ.setdefault("COURSE_FIGURES_DIR", _os.path.join(_scratch, "figures"))
_os.environ.setdefault("COURSE_RESULTS_DIR", _os.path.join(_scratch, "results"))
"""


def course_notebooks() -> list[Path]:
    """Every numbered notebook, in course order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def is_panel_cell(cell) -> bool:
    """True for a code cell that builds or displays a slider panel."""
    return cell.cell_type == "code" and bool(PANEL_SOURCE.search(cell.source))


def _panel_variables(source: str) -> set[str]:
    """Names a cell binds to a new panel (``p = make_x_panel()``, ``race = SliderPanel(...)``)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        code = TransformerManager().transform_cell(source)
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and PANEL_SOURCE.search(
            ast.get_source_segment(code, node.value) or ""
        ):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def panel_cells(nb) -> list[int]:
    """Indices of the cells that build or show a panel, including ``display(p)`` of any name
    a panel cell bound to a panel."""
    hits = [i for i, cell in enumerate(nb.cells) if is_panel_cell(cell)]
    names = set().union(*(_panel_variables(nb.cells[i].source) for i in hits)) if hits else set()
    if names:
        alternatives = "|".join(sorted(map(re.escape, names)))
        shows = re.compile(
            rf"display\(\s*({alternatives})\s*[,)]|^\s*({alternatives})\s*$", re.MULTILINE
        )
        hits += [
            i
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and i not in hits and shows.search(cell.source)
        ]
    return sorted(hits)


def last_panel_cell(nb) -> int | None:
    """Index of the last panel cell of ``nb``, or None when the notebook has no panel."""
    hits = panel_cells(nb)
    return hits[-1] if hits else None


def panel_notebooks() -> list[Path]:
    """The numbered notebooks that contain at least one panel cell."""
    return [
        p for p in course_notebooks() if last_panel_cell(nbformat.read(p, as_version=4)) is not None
    ]


def cells_for_panels(path: Path):
    """The notebook cut after its last panel cell (a new NotebookNode; the file is untouched)."""
    nb = nbformat.read(path, as_version=4)
    last = last_panel_cell(nb)
    if last is None:
        raise ValueError(f"{path.name} has no panel cell; nothing to test.")
    nb.cells = nb.cells[: last + 1]
    return nb


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _walk_outside_scopes(node):
    """Like ast.walk, but does not enter function, lambda or class bodies."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, _SCOPES):
                todo.append(child)


def _free_in_scope(scope) -> set[str]:
    """Global names a function/lambda/class body reads (not its parameters or local names)."""
    local = {a.arg for a in ast.walk(scope) if isinstance(a, ast.arg)}
    local |= {
        n.id for n in ast.walk(scope) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    local |= {
        n.name for n in ast.walk(scope) if isinstance(n, _SCOPES) and not isinstance(n, ast.Lambda)
    }
    reads = {n.id for n in ast.walk(scope) if isinstance(n, ast.Name)} - local
    for deco in getattr(scope, "decorator_list", []):
        reads |= {n.id for n in ast.walk(deco) if isinstance(n, ast.Name)}
    return reads


def _names(source: str) -> tuple[set[str], set[str], set[str], set[str]]:
    """(defined, read-before-defined, imported, mutated) global names of one code cell."""
    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    defined, loaded, imported, mutated = set(), set(), set(), set()
    for node in _walk_outside_scopes(tree):
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                defined.add(name)
                imported.add(name)
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store | ast.Del):
                defined.add(node.id)
            else:
                loaded.add(node.id)
        elif isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                mutated.add(base.id)
    for node in ast.walk(tree):
        if isinstance(node, _SCOPES):
            if not isinstance(node, ast.Lambda) and node in tree.body:
                defined.add(node.name)
            loaded |= _free_in_scope(node)
    for node in tree.body:  # top-level `x.method(...)` may change x in place (x.fit(), x.append())
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                mutated.add(func.value.id)
    # A name the cell assigns before it reads it (`fig = ...; save_figure(fig)`) is its own.
    return defined, loaded - defined, imported, mutated


def cells_needed_by_panels(path: Path):
    """The notebook reduced to the first code cell, its panel cells and the cells they depend on.

    A static slice: walking back from the panel cells, keep every earlier cell that defines or
    changes in place (``x.attr = ...``, ``x[i] = ...``, ``x.method(...)``) a name a kept cell
    reads. Figures, printouts and trainings that no panel reads are left out, which keeps the
    browser suite short; strict nbval still runs every cell. Falls back to every cell up to the
    last panel when a cell cannot be parsed.
    """
    nb = cells_for_panels(path)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    try:
        info = {i: _names(nb.cells[i].source) for i in code}
    except SyntaxError:
        nb.cells = [nb.cells[i] for i in code]
        return nb
    keep = {code[0]} | set(panel_cells(nb))
    changed = True
    while changed:
        changed = False
        wanted = set().union(*(info[i][1] for i in keep))
        imported = set().union(*(info[i][2] for i in code))
        for i in code:
            if i in keep or i > max(keep):
                continue
            defined, _, _, mutated = info[i]
            if defined & wanted or (mutated - imported) & wanted:
                keep.add(i)
                changed = True
    nb.cells = [nb.cells[i] for i in sorted(keep)]
    return nb
