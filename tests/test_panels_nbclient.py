"""Every slider panel of every notebook, driven without a browser (nbclient, a few seconds each).

For each numbered notebook that has a panel (found automatically, so new notebooks are covered
without edits), run the cells its panels need in a fresh kernel (the imports cell, the panel
cells and the earlier cells defining what they read: ``cells_needed_by_panels``; strict nbval
runs every cell), then in the same kernel move every control of every panel to its minimum, maximum and default
(``panel.sweep_extremes()``) and check that

* no cell and no setting raises, and nothing warns (a RuntimeWarning is an overflow that the
  panel should have detected and drawn as divergence),
* every control that takes different values changes the picture,
* the image the front end receives (nbclient keeps the widget state a browser would get)
  is the image the kernel drew, after a change and after "reset".

Figures the notebook saves go to a temporary folder, so the repository is never written.
The browser tests (tests/browser) check the same panels live in JupyterLab.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "browser"))
from notebook_cells import FIGURE_REDIRECT, cells_needed_by_panels, panel_notebooks  # noqa: E402

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

SWEEP = """\
import json as _json
import warnings as _warnings

from course_utils.widgets import all_panels as _all_panels

_report = []
with _warnings.catch_warnings(record=True) as _caught:
    _warnings.simplefilter("always")
    for _p in _all_panels():
        _tried = _p.sweep_extremes()
        _report.append(
            dict(index=_p.panel_index, title=_p.title, tried=_tried, error=_p.last_error,
                 timings=_p.timings_ms[-len(_tried):])
        )
print("SWEEP", _json.dumps(_report, default=repr))
print("WARNINGS", _json.dumps([f"{w.category.__name__}: {w.message}" for w in _caught]))
"""

# Put panel INDEX's first control at an end away from its default, then back (reset); print
# the md5 of the PNG the kernel drew and the Image widget's model id after each.
FRONTEND = """\
import hashlib as _hashlib
import json as _json

from course_utils.widgets import all_panels as _all_panels

_p = next(p for p in _all_panels() if p.panel_index == {index})
_name, _w = next(iter(_p.controls.items()))
_ends = [v for v in (getattr(_w, "min", None), getattr(_w, "max", None)) if v is not None]
if hasattr(_w, "base"):
    _ends = [_w.base**e for e in _ends]
_far = max(_ends, key=lambda v: abs(v - _p.defaults[_name])) if _ends else _p.defaults[_name]
_p.set(**{{_name: _far}})
print("{marker}", _json.dumps(
    dict(model=_p.image.model_id, md5=_hashlib.md5(bytes(_p.image.value)).hexdigest())
))
"""


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _problems(cell) -> list[str]:
    """Error outputs and warnings (stderr) of one executed cell."""
    found = []
    for out in cell.outputs:
        if out.output_type == "error":
            found.append(f"{out.ename}: {out.evalue}")
        elif out.output_type == "stream" and out.name == "stderr":
            found.append(out.text)
    return found


def _run(client, nb, source: str):
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.append(cell)
    client.execute_cell(cell, len(nb.cells) - 1)
    problems = _problems(cell)
    assert not problems, f"the test cell failed:\n{''.join(problems)}"
    return _stdout(cell)


def _tagged(text: str, tag: str):
    for line in text.splitlines():
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1 :])
    raise AssertionError(f"no {tag!r} line in:\n{text}")


def _frontend_md5(client, model_id: str) -> str:
    """md5 of the PNG bytes the front end holds for an Image widget model."""
    buffers = client.widget_buffers.get(model_id, {})
    assert ("value",) in buffers, f"the front end never received an image for {model_id}"
    return hashlib.md5(base64.b64decode(buffers[("value",)]["data"])).hexdigest()


NOTEBOOKS = panel_notebooks()


def test_some_notebook_has_a_panel():
    """Guards the discovery: the course has panels, so finding none is a bug here."""
    assert NOTEBOOKS, "no notebook with a slider panel found under notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_panel_setting_draws(path: Path):
    nb = cells_needed_by_panels(path)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FIGURE_REDIRECT))
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel():
        for i, cell in enumerate(list(nb.cells)):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, i)  # raises CellExecutionError on an exception
            problems = _problems(cell)
            assert not problems, f"{path.name} cell {i}:\n{''.join(problems)}"

        out = _run(client, nb, SWEEP)
        report, caught = _tagged(out, "SWEEP"), _tagged(out, "WARNINGS")
        assert report, f"{path.name}: the panel cells made no SliderPanel"
        assert not caught, f"{path.name}: warnings while sweeping the sliders: {caught}"
        for panel in report:
            title = f"{path.stem} {panel['title'] or 'panel ' + str(panel['index'])}"
            failures = [t for t in panel["tried"] if t["error"] is not None]
            assert not failures, f"{title}: settings that fail: {failures}"
            assert panel["error"] is None, f"{title}: after reset: {panel['error']}"
            by_control: dict[str, list[dict]] = {}
            for entry in panel["tried"]:
                name = next(k for k in entry if k not in ("error", "image"))
                by_control.setdefault(name, []).append(entry)
            for name, entries in by_control.items():
                values = {repr(e[name]) for e in entries}
                images = {e["image"] for e in entries}
                if len(values) > 1:
                    assert len(images) > 1, f"{title}: moving {name} never changes the picture"
            timings = sorted(panel["timings"])
            print(
                f"{title}: {len(panel['tried'])} settings OK, "
                f"redraw median {timings[len(timings) // 2]:.0f} ms, max {timings[-1]:.0f} ms"
            )

            # The front end receives the new picture, and the default one again after reset.
            moved = _tagged(
                _run(client, nb, FRONTEND.format(index=panel["index"], marker="M")), "M"
            )
            assert _frontend_md5(client, moved["model"]) == moved["md5"], title
            reset = _run(
                client,
                nb,
                "import hashlib as _h\n"
                "_p.reset()\nprint('R', _json.dumps(_h.md5(bytes(_p.image.value)).hexdigest()))",
            )
            reset_md5 = _tagged(reset, "R")
            assert _frontend_md5(client, moved["model"]) == reset_md5, title
            assert reset_md5 != moved["md5"], f"{title}: the far setting looks like the default"
