"""Find a notebook's live panels and rebuild them outside a kernel, for the static site.

A panel's display cell (``display(panel)``, or ``display(lab.make_panel())``) names what it shows;
the panel is rebuilt by running only the notebook's own statements that this needs: a backward
slice over the top-level statements of the code cells above it (imports, function definitions
and assignments whose names it uses, recursively). Nothing else runs: no training, no figure
files, no plots. So the frames on the site come from the notebook's own construction of the
panel, with the same drawing code, and a panel added, removed or rebuilt differently in a notebook is
followed without any table to keep in step.

``OFFERED`` names the panels the site draws (notebook and what its display cell shows) and the
one or two sliders it offers for each. A panel it does not name is not drawn: its page shows a
note that points to JupyterLab under the static figure of its default state that precedes every
panel. So a build never runs what a panel's construction may need beyond drawing (09's budget
panel runs the notebook's searches and timings), and a new panel is drawn once it is named here.
"""

from __future__ import annotations

import ast
import builtins
import re

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
RESULT = "_site_panel"  # the name the rebuilt panel gets

# (notebook stem, displayed expression) -> the sliders to offer, most telling first.
OFFERED = {
    ("00_start_here", "panel"): ("alpha",),
    ("01_ill_conditioned_quadratic", "panel"): ("lr_scaled", "kappa"),
    ("02_adagrad", "eps_panel"): ("eps", "small"),
    ("02_adagrad", "sparse_panel"): ("p_rare", "lr_sgd"),
    ("02_adagrad", "quadratic_panel"): ("angle_deg", "kappa"),
    ("03_ema_and_bias_correction", "panel"): ("beta2", "beta1"),
    ("04_adam", "panel"): ("lr", "noise"),
    ("05_adamw", "panel"): ("weight_decay", "lr"),
    ("06_convergence_theory", "panel"): ("N", "one_minus_beta2"),
    ("10_beyond_adamw", "panel"): ("angle", "ns_steps"),
}


def is_panel_output(out) -> bool:
    """A live SliderPanel (not a tqdm bar or another widget), judged by its stored repr."""
    data = out.get("data", {})
    return WIDGET_MIME in data and data.get("text/plain", "").startswith("SliderPanel(")


def _top_statements(source: str) -> list[ast.stmt]:
    # IPython magics and shell escapes are not Python: blank those lines out.
    lines = ["" if re.match(r"\s*[%!]", line) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines)).body
    except SyntaxError:
        return []


def _defined(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {stmt.name}
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {
            n.id
            for t in targets
            for n in ast.walk(t)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
    return set()


def _used(stmt: ast.stmt) -> set[str]:
    """Names a statement reads from the notebook's namespace (a function's locals excluded)."""
    loads = {
        n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return loads
    stores = {
        n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    params = {a.arg for a in ast.walk(stmt.args) if isinstance(a, ast.arg)}
    return loads - stores - params


def _displayed(source: str) -> str | None:
    """What a display cell shows, as source: the x of ``display(x)`` or of a last line ``x``."""
    stmts = _top_statements(source)
    if not stmts or not isinstance(stmts[-1], ast.Expr):
        return None
    value = stmts[-1].value
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "display" and value.args:
        value = value.args[0]
    return ast.unparse(value)


def panel_cells(nb) -> list[tuple[int, int, str | None]]:
    """(cell index, output index, what the cell displays, e.g. ``panel``) of every live panel."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for j, out in enumerate(cell.outputs):
            if is_panel_output(out):
                found.append((i, j, _displayed(cell.source)))
    return found


def panel_program(nb, cell_index: int, shown: str) -> str:
    """The notebook's statements, in order, that compute ``shown`` when cell_index runs.

    The program ends with ``_site_panel = <shown>``.
    """
    stmts = [
        stmt
        for cell in nb.cells[: cell_index + 1]
        if cell.cell_type == "code"
        for stmt in _top_statements(cell.source)
    ]
    seed = ast.parse(f"{RESULT} = ({shown})").body[0]
    needed, kept = _used(seed), [seed]
    for stmt in reversed(stmts):
        defined = _defined(stmt)
        if defined & needed:
            kept.append(stmt)
            needed = (needed - defined) | _used(stmt)
    needed -= set(dir(builtins))
    if needed:
        raise LookupError(f"names used but never defined above the panel: {sorted(needed)}")
    return "\n".join(ast.unparse(s) for s in reversed(kept))


def build_panel(nb, cell_index: int, shown: str):
    """Run the panel's program and return the SliderPanel it builds, and the program's text."""
    program = panel_program(nb, cell_index, shown)
    namespace: dict = {"__name__": "__course_site__"}
    exec(compile(program, f"<panel {shown}>", "exec"), namespace)
    panel = namespace[RESULT]
    if not hasattr(panel, "controls") or not hasattr(panel, "set"):
        raise TypeError(f"{shown} is a {type(panel).__name__}, not a SliderPanel")
    return panel, program
