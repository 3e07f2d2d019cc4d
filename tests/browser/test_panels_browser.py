"""Every slider panel, live in JupyterLab in a real browser: it renders, reacts, and is fast.

For every numbered notebook with a panel (found automatically, see ``notebook_cells.py``):
open it in JupyterLab (one Lab page; the notebook from the file browser), wait for the kernel,
Run All, and check that no cell shows an error or a warning. Then, for each panel on the page:

* at a projector's 1280x720, file browser open: the whole panel (sliders and figure) fits in the
  visible part of the notebook, the figure is shown at its own pixel size (not shrunk), slider
  text is at least 15 px and figure text at least 12 pt (asked from the kernel);
* press ArrowRight (ArrowLeft near the top end) PRESSES times on the main slider (the first
  numeric slider): after every press the readout shows the expected value and a new, different
  image arrives, inside the visible area; the time from key press to the new image loaded in
  the page is measured;
* drag the slider for about a second: the final image must follow the release within about one
  redraw (the widget front end never queues stale values; see SliderPanel's docstring);
* click "Reset to defaults": the readout shows the default again; the panel shows no error;
* at 1920x1080 the panel fits too, and a key press brings a new image inside the visible area;
* notebook 00's panel once more in JupyterLab's Presentation Mode (View menu; larger text);
* a probe cell then confirms in the kernel: values back at the defaults, no error, one redraw
  per change, and the kernel's own redraw times (wall clock and CPU).

One line per panel is printed (and repeated in the pytest summary):

    NOTEBOOK PANEL [slider] slider->image median X ms, p95 Y ms; kernel redraw ...

The goal is a median of at most 100 ms and a 95th percentile of at most 200 ms on an idle
two-core machine. A missed goal is reported on the panel's line; the test fails above three
times the goals, scaled by the machine's load (``COURSE_PANEL_LIMIT_MS`` overrides the base
median limit). The kernel's CPU time per redraw
is printed beside it: unlike the wall clock it hardly grows when other programs share the CPU.

What runs, and why (budget: three minutes for the suite on two cores): each notebook reduced to
the cells its panels need (the imports cell, the panel cells and the earlier cells that define
what they read; ``cells_needed_by_panels``). Figures and trainings no panel reads are left out;
strict nbval runs every cell, and ``tests/test_panels_nbclient.py`` sweeps every slider of every
panel to its extremes without a browser. All kernels start side by side before the first
measurement, so opening a notebook does not wait for a kernel.

Options: ``COURSE_SCREENSHOTS=DIR`` saves page and panel screenshots (at both window sizes);
``COURSE_NOTEBOOK_DIR`` points at other notebooks.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from browsers import DESKTOP, PROJECTOR
from notebook_cells import cells_needed_by_panels, panel_notebooks
from panel_report import report

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError:  # the fixtures skip (or, under CI, fail) with the reason
    PlaywrightTimeoutError = TimeoutError

PRESSES = 10  # key presses per panel
NUMERIC_SLIDERS = ("FloatSlider", "IntSlider", "FloatLogSlider")
DRAG_MOVES = 20  # mouse moves in one drag of the main slider (about 1 s)
GOAL_MEDIAN_MS = 100.0  # the goals on an idle two-core machine; reported per panel
GOAL_P95_MS = 200.0
MIN_SLIDER_TEXT_PX = 15.0
MIN_FIGURE_TEXT_PT = 12.0
# The test fails above three times the goals, scaled by how overloaded the machine is (load average per
# core; 1 on an idle CI runner): a shared, busy machine must not fail a healthy panel, while a
# panel that takes seconds or queues redraws still fails.


def load_factor() -> float:
    """The load average per core, at least 1 (sampled when a limit is applied)."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


LOAD = load_factor()
BASE_LIMIT_MEDIAN_MS = float(os.environ.get("COURSE_PANEL_LIMIT_MS", 3 * GOAL_MEDIAN_MS))
RUN_ALL_TIMEOUT_S = 150
IMAGE_TIMEOUT_S = 10  # per key press, times the load factor
SCREENSHOTS = os.environ.get("COURSE_SCREENSHOTS")  # a folder: save page and panel PNGs there

PROBE = """\
# probe added by tests/browser (not part of the course notebook)
import json as _json

import matplotlib.text as _mtext

from course_utils import widgets as _cw

_cw._browser_probe_calls = getattr(_cw, "_browser_probe_calls", 0) + 1
_rows = []
_NUMERIC = ("FloatSlider", "IntSlider", "FloatLogSlider")
for _p in _cw.all_panels():
    # the main slider: the panel's first numeric slider (dropdowns and checkboxes have no handle)
    _sliders = [(n, w) for n, w in _p.controls.items() if type(w).__name__ in _NUMERIC]
    _name, _w = _sliders[0] if _sliders else next(iter(_p.controls.items()))
    _rows.append(
        dict(
            index=_p.panel_index, title=_p.title, control=_name, label=_w.description,
            kind=type(_w).__name__, value=_w.value, min=getattr(_w, "min", None),
            max=getattr(_w, "max", None), step=getattr(_w, "step", None),
            base=getattr(_w, "base", None), draws=_p.draw_count, error=_p.last_error,
            timings=_p.timings_ms[-20:], cpu=getattr(_p, "cpu_ms", [])[-20:],
            continuous=getattr(_w, "continuous_update", None),
            min_font=min(
                (t.get_fontsize() for t in _p._fig.findobj(_mtext.Text)
                 if t.get_visible() and t.get_text()), default=None,
            ),
        )
    )
print("PANEL_PROBE", _cw._browser_probe_calls, _json.dumps(_rows))
"""

# Installed on one panel's DOM node: time stamps of key presses on the main slider handle and of
# every new image (src change, then loaded), plus a digest of each image's bytes.
INSTRUMENT_JS = """
(panel, label) => {
  const img = panel.querySelector(':scope > .widget-image');
  const sliders = Array.from(panel.querySelectorAll('.widget-slider'));
  const main = sliders.find(s => s.querySelector('.widget-label').textContent.trim() === label);
  if (!main) { return 'no slider labelled ' + label; }
  main.setAttribute('data-course-main', '1');
  const handle = main.querySelector('.noUi-handle');
  const st = {key: [], load: [], hashes: [], errors: []};
  const digest = async () => {
    try {
      const buf = await (await fetch(img.src)).arrayBuffer();
      const d = await crypto.subtle.digest('SHA-1', buf);
      return Array.from(new Uint8Array(d)).map(b => b.toString(16).padStart(2, '0')).join('');
    } catch (e) { st.errors.push(String(e)); return 'unreadable'; }
  };
  handle.addEventListener('keydown', () => st.key.push(performance.now()), true);
  window.addEventListener('pointerup', () => { st.release = performance.now(); }, true);
  img.addEventListener('load', () => {
    st.load.push(performance.now());
    digest().then(h => st.hashes.push(h));
  });
  panel.__course = st;
  return digest().then(h => { st.initial = h; return 'ok'; });
}
"""

# Geometry of one panel against the visible part of the notebook (the page minus menus, file
# browser and status bar): the panel box and its image must lie inside it, the image at (about)
# its own pixel size, and the slider texts at their computed font size.
FIT_JS = """
(panel) => {
  const img = panel.querySelector(':scope > .widget-image');
  const nb = panel.closest('.jp-NotebookPanel-notebook') || document.documentElement;
  const v = nb.getBoundingClientRect();
  const box = (r) => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const view = {left: Math.max(v.left, 0), top: Math.max(v.top, 0),
                right: Math.min(v.right, window.innerWidth),
                bottom: Math.min(v.bottom, window.innerHeight)};
  const inside = (r) => r.left >= view.left - 1 && r.right <= view.right + 1
                        && r.top >= view.top - 1 && r.bottom <= view.bottom + 1;
  const p = panel.getBoundingClientRect(), r = img.getBoundingClientRect();
  const texts = Array.from(panel.querySelectorAll('.widget-label, .widget-readout'))
    .filter(e => e.textContent.trim() && e.offsetParent !== null)
    .map(e => parseFloat(getComputedStyle(e).fontSize));
  return {panel: box(p), img: box(r), view: view, panelInside: inside(p), imgInside: inside(r),
          panelFits: p.width <= view.right - view.left + 1 && p.height <= view.bottom - view.top + 1,
          width: Math.round(r.width), natural: img.naturalWidth,
          minTextPx: texts.length ? Math.min(...texts) : null,
          fileBrowser: !!document.querySelector('.jp-FileBrowser:not(.lm-mod-hidden)')};
}
"""

# Scroll the panel's top to the top of the notebook's visible area.
SCROLL_JS = "(panel) => panel.scrollIntoView({block: 'start', inline: 'nearest'})"

STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def _probe_rows(nb, call: int, deadline: float) -> list[dict]:
    """Wait for the probe cell's output number ``call``; fail early on error outputs."""
    marker = f"PANEL_PROBE {call} "
    while True:
        errors = nb.locator(STDERR).all_inner_texts()
        if errors:
            pytest.fail("a cell shows an error or warning:\n" + "\n---\n".join(errors)[:4000])
        texts = nb.locator(".jp-OutputArea-output").all_inner_texts()
        for text in texts:
            if text.startswith(marker):
                return json.loads(text[len(marker) :])
        if time.time() > deadline:
            pytest.fail(f"timed out waiting for the cells to run (no {marker.strip()!r} output)")
        time.sleep(0.25)


def _expected_after(row: dict, presses: int) -> float:
    """The main control's value after ``presses`` key presses (negative: ArrowLeft).

    The slider's grid starts at its minimum: a default off the grid first snaps to the next
    grid point in the direction of the key.
    """
    log = row["kind"] == "FloatLogSlider"
    start = math.log(row["value"], row["base"]) if log else row["value"]
    position = (start - row["min"]) / row["step"]
    if presses >= 0:
        position = math.floor(position + 1e-6) + presses
    else:
        position = math.ceil(position - 1e-6) + presses
    x = min(max(row["min"] + position * row["step"], row["min"]), row["max"])
    return row["base"] ** x if log else x


def _direction(row: dict) -> int:
    """+1 (ArrowRight) unless the slider sits too close to its maximum for all presses."""
    if row["kind"] == "FloatLogSlider":
        room = row["max"] - math.log(row["value"], row["base"])
    else:
        room = row["max"] - row["value"]
    return 1 if room >= PRESSES * row["step"] * (1 - 1e-9) else -1


def _close(readout: str, expected: float) -> bool:
    number = float(re.sub(r"[^0-9eE+\-.]", "", readout.replace("−", "-")))
    return math.isclose(number, expected, rel_tol=6e-3, abs_tol=1e-9)


def _screenshot(target, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def _wait_images(page, panel, n: int, what: str) -> None:
    """Wait until the panel has received (and digested) ``n`` images since instrumenting."""
    timeout_s = IMAGE_TIMEOUT_S * max(LOAD, load_factor())
    try:
        page.wait_for_function(
            "([p, n]) => p.__course.hashes.length >= n",
            arg=[panel.element_handle(), n],
            timeout=timeout_s * 1000,
        )
    except PlaywrightTimeoutError:
        pytest.fail(
            f"{what}: no new image within {timeout_s:.0f} s. Either the redraw produced the "
            "same picture (the front end then receives nothing) or the kernel hung."
        )


def _wait_settled(page, panel, before: int, quiet_s: float = 0.8, timeout_s: float = 30) -> dict:
    """Wait for a first image after ``before``, then until none has come for ``quiet_s``."""
    deadline = time.time() + timeout_s * LOAD
    count, since = -1, time.time()
    while time.time() < deadline:
        st = panel.evaluate("p => p.__course")
        n = len(st["load"])
        if n != count or len(st["hashes"]) != n:
            count, since = n, time.time()
        elif n > before and time.time() - since > quiet_s * load_factor():
            return st
        time.sleep(0.1)
    pytest.fail(
        f"after the drag: {count - before} new images and no quiet {quiet_s} s within "
        f"{timeout_s * LOAD:.0f} s (no redraw at all, or one that never stops)"
    )


def _keyboard(page, panel, row: dict, name: str) -> list[float]:
    """Press the arrow key PRESSES times; check readout and a new, different image each time."""
    handle = panel.locator("[data-course-main] .noUi-handle").first
    readout = panel.locator("[data-course-main] .widget-readout").first
    step = _direction(row)
    key = "ArrowRight" if step > 0 else "ArrowLeft"
    for n in range(1, PRESSES + 1):
        handle.press(key)
        _wait_images(page, panel, n, f"{name}, {key} press {n}")
        expected = _expected_after(row, n * step)
        text = readout.inner_text()
        assert _close(text, expected), f"{name}: readout {text!r}, expected {expected:.4g}"
    st = panel.evaluate("p => p.__course")
    assert not st["errors"], f"{name}: could not read the image: {st['errors']}"
    images = [st["initial"], *st["hashes"]]
    same = [i + 1 for i in range(PRESSES) if images[i] == images[i + 1]]
    assert not same, f"{name}: the image did not change after key press(es) {same}"
    latencies = [load - key for key, load in zip(st["key"], st["load"])]
    assert len(latencies) == PRESSES and min(latencies) > 0, (name, st)
    fit = panel.evaluate(FIT_JS)
    assert fit["imgInside"], f"{name}: after the key presses the image is not fully visible: {fit}"
    return latencies


def _drag(page, panel, name: str) -> tuple[float, int]:
    """Drag the main slider for about a second; return (ms from release to final image, images).

    The widget front end keeps at most one value in flight per slider and sends only the latest
    one when the kernel is free, so the final picture must follow the release within about one
    redraw, however slow the redraw: a drag never queues stale redraws.
    """
    before = len(panel.evaluate("p => p.__course.load"))
    panel.locator("[data-course-main]").scroll_into_view_if_needed()
    handle = panel.locator("[data-course-main] .noUi-handle").first.bounding_box()
    track = panel.locator("[data-course-main] .noUi-base").first.bounding_box()
    x0, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    middle = track["x"] + track["width"] / 2
    x1 = x0 + (0.4 if x0 < middle else -0.4) * track["width"]
    page.mouse.move(x0, y)
    page.mouse.down()
    for i in range(1, DRAG_MOVES + 1):
        page.mouse.move(x0 + (x1 - x0) * i / DRAG_MOVES, y)
        time.sleep(0.02)
    page.mouse.up()
    st = _wait_settled(page, panel, before)
    images = len(st["load"]) - before
    assert images >= 1, f"{name}: dragging the slider did not redraw the figure"
    assert images <= DRAG_MOVES + 1, f"{name}: {images} redraws for {DRAG_MOVES} mouse moves"
    return st["load"][-1] - st["release"], images


def _reset(page, panel, row: dict, name: str) -> None:
    """Click "Reset to defaults": the figure redraws and the readout shows the default again."""
    before = len(panel.evaluate("p => p.__course.hashes"))
    panel.get_by_role("button", name="Reset to defaults").click()
    _wait_images(page, panel, before + 1, f"{name}, Reset to defaults")
    text = panel.locator("[data-course-main] .widget-readout").first.inner_text()
    assert _close(text, row["value"]), f"{name}: after reset the readout shows {text!r}"


NOTEBOOKS = panel_notebooks()
# Presentation Mode is tried on the first panel of the first notebook (00's: the smallest).
PRESENTATION_NOTEBOOK = NOTEBOOKS[0] if NOTEBOOKS else None
MAIN_TAB = "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current"


@pytest.fixture(scope="module", autouse=True)
def nb09_trials_stored(request):
    """Notebook 09's panel reads its stored trials: train them before the kernels start.

    They go to this test session's results folder (``COURSE_RESULTS_DIR``, where strict nbval
    later finds them) and Lab's kernels see them there, so the training happens once per session
    and the kernel only loads (Run All stays within its time limit).
    """
    if not any(p.name.startswith("09_") for p in NOTEBOOKS):
        return
    lab_server = request.getfixturevalue("lab_server")
    from course_utils.nb09_study import NOTEBOOK_SPEC, run_searches
    from course_utils.nb09_trials import RESULTS_DIR

    run_searches(NOTEBOOK_SPEC, workers=2, out_dir=RESULTS_DIR)
    lab_results = lab_server.root.parent / "results-out"
    lab_results.mkdir(parents=True, exist_ok=True)
    link = lab_results / RESULTS_DIR.name
    if not link.exists():
        link.symlink_to(RESULTS_DIR.resolve(), target_is_directory=True)


@pytest.fixture(scope="module")
def served(request, lab_server) -> dict[Path, str]:
    """Write each selected notebook's panel cells plus the probe; start their kernels."""
    selected = [
        item.callspec.params["notebook"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
    ]
    paths = {}
    for notebook in selected:
        nb = cells_needed_by_panels(notebook)
        nb.cells.append(nbformat.v4.new_code_cell(PROBE))
        nbformat.write(nb, lab_server.root / "notebooks" / notebook.name)
        paths[notebook] = f"notebooks/{notebook.name}"
    lab_server.start_kernels(list(paths.values()))
    return paths


@pytest.fixture(scope="module")
def lab_page(lab_context, lab_server, served):
    """One JupyterLab page for all notebooks (each opened from the file browser, then closed)."""
    page = lab_context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{lab_server.url}/lab/tree/notebooks?token={lab_server.token}")
    page.wait_for_selector(".jp-DirListing-item", timeout=90_000)
    yield page
    page.close()


def _dismiss_dialogs(page) -> None:
    while page.locator(".jp-Dialog").count():
        page.keyboard.press("Escape")
        time.sleep(0.2)


def _open(page, name: str):
    """Open ``name`` from the file browser; return the notebook panel once its tab is current."""
    _dismiss_dialogs(page)
    page.locator(".jp-DirListing-itemText", has_text=name).first.dblclick()
    page.wait_for_function(
        "([sel, name]) => { const t = document.querySelector(sel); return t && t.textContent"
        ".trim().startsWith(name); }",
        arg=[MAIN_TAB + " .lm-TabBar-tabLabel", name],
    )
    return page.locator("#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)")


def _close_current(page, lab_server) -> None:
    """Close the notebook's tab without saving; reload Lab if that goes wrong."""
    try:
        page.locator(MAIN_TAB + " .lm-TabBar-tabCloseIcon").click(timeout=5_000)
        discard = page.locator(".jp-Dialog button", has_text="Discard")
        discard.click(timeout=5_000)
        page.locator(".jp-Dialog").wait_for(state="detached", timeout=5_000)
    except Exception:  # the next test needs a clean page, whatever happened
        page.goto(f"{lab_server.url}/lab/tree/notebooks?token={lab_server.token}")
        page.wait_for_selector(".jp-DirListing-item", timeout=90_000)


def _check_fit(page, panel, name: str, where: str) -> dict:
    """Scroll the panel to the top of the notebook; it must fit whole, figure at full size."""
    panel.evaluate(SCROLL_JS)
    time.sleep(0.3)  # let Lab's windowed notebook settle after the scroll
    fit = panel.evaluate(FIT_JS)
    assert fit["fileBrowser"], f"{name} ({where}): the file browser is not open"
    assert fit["panelFits"] and fit["panelInside"], (
        f"{name} ({where}): the panel does not fit: {fit}"
    )
    assert fit["width"] >= 0.97 * fit["natural"], f"{name} ({where}): the figure is shrunk: {fit}"
    assert fit["minTextPx"] is None or fit["minTextPx"] >= MIN_SLIDER_TEXT_PX - 0.01, (
        f"{name} ({where}): slider text at {fit['minTextPx']} px"
    )
    return fit


def _one_press_inside(page, panel, row: dict, name: str, where: str) -> None:
    """One key press on the main slider: the new image arrives inside the visible area."""
    before = len(panel.evaluate("p => p.__course.hashes"))
    key = "ArrowRight" if _direction(row) > 0 else "ArrowLeft"
    panel.locator("[data-course-main] .noUi-handle").first.press(key)
    _wait_images(page, panel, before + 1, f"{name} ({where}), {key}")
    fit = panel.evaluate(FIT_JS)
    assert fit["imgInside"], f"{name} ({where}): the new image is not fully visible: {fit}"


def _desktop_and_presentation(page, panel, row, name: str, presentation: bool) -> None:
    """The same panel at 1920x1080 and (notebook 00) in Presentation Mode at 1280x720."""
    page.set_viewport_size(DESKTOP)
    try:
        _check_fit(page, panel, name, "1920x1080")
        _screenshot(page, f"{name.split()[0]}-panel{row['index']}-in-lab-1920x1080")
        _one_press_inside(page, panel, row, name, "1920x1080")
    finally:
        page.set_viewport_size(PROJECTOR)
    if presentation:
        toggle = "window.jupyterapp.commands.execute('application:toggle-presentation-mode')"
        page.evaluate(toggle)
        try:
            page.wait_for_selector(".jp-LabShell.jp-mod-presentationMode", timeout=10_000)
            _check_fit(page, panel, name, "Presentation Mode")
            _screenshot(page, f"{name.split()[0]}-presentation-mode")
            _one_press_inside(page, panel, row, name, "Presentation Mode")
        finally:
            page.evaluate(toggle)
    _reset(page, panel, row, name)


def _p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank): with 10 samples, the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _report_panel(name, row, now, latencies, settle_ms, drag_images) -> None:
    user_redraws = PRESSES + 1 + drag_images
    kernel_ms = statistics.median(now["timings"][-user_redraws:])
    cpu_ms = statistics.median(now["cpu"][-user_redraws:]) if now["cpu"] else float("nan")
    median, p95 = statistics.median(latencies), _p95(latencies)
    flags = [f"median over the {GOAL_MEDIAN_MS:.0f} ms goal"] if median > GOAL_MEDIAN_MS else []
    flags += [f"p95 over the {GOAL_P95_MS:.0f} ms goal"] if p95 > GOAL_P95_MS else []
    report(
        f"{name} slider->image median {median:.0f} ms, p95 {p95:.0f} ms"
        f"{' (' + '; '.join(flags) + ')' if flags else ''}; "
        f"kernel redraw median {kernel_ms:.0f} ms (CPU {cpu_ms:.0f} ms); "
        f"drag: {drag_images} redraws for {DRAG_MOVES} moves, final image {settle_ms:.0f} ms "
        f"after release; live drag {'on' if now['continuous'] else 'off'}; "
        f"smallest figure text {row['min_font']:.0f} pt"
    )
    load = max(LOAD, load_factor())  # the busier of the start and now
    limit_median, limit_p95 = BASE_LIMIT_MEDIAN_MS * load, 3 * GOAL_P95_MS * load
    assert median < limit_median, f"{name}: median {median:.0f} ms (load {load:.1f}x cores)"
    assert p95 < limit_p95, f"{name}: p95 {p95:.0f} ms (load {load:.1f}x cores)"
    assert settle_ms < limit_median * 10, f"{name}: {settle_ms:.0f} ms after release"


def _test_panel(page, panel, row, name: str, presentation: bool):
    """Every check of one panel; returns (latencies, settle_ms, drag_images) or None."""
    assert row["error"] is None, f"{name}: the default setting fails: {row['error']}"
    assert row["min_font"] is None or row["min_font"] >= MIN_FIGURE_TEXT_PT, (
        f"{name}: figure text at {row['min_font']} pt"
    )
    _check_fit(page, panel, name, "1280x720")
    _screenshot(panel, f"{name.split()[0]}-panel{row['index']}")
    _screenshot(page, f"{name.split()[0]}-panel{row['index']}-in-lab")
    if row["kind"] not in NUMERIC_SLIDERS:
        report(f"{name}: no numeric slider to move; the panel renders and fits")
        return None
    instrumented = panel.evaluate(INSTRUMENT_JS, row["label"])
    assert instrumented == "ok", f"{name}: {instrumented}"
    latencies = _keyboard(page, panel, row, name)
    settle_ms, drag_images = _drag(page, panel, name)
    _reset(page, panel, row, name)
    _desktop_and_presentation(page, panel, row, name, presentation)
    status = panel.locator(".course-panel-status").all_inner_texts()
    assert not any(s.strip() for s in status), f"{name}: the panel shows {status}"
    return latencies, settle_ms, drag_images


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_panels_live_in_jupyterlab(notebook: Path, lab_server, lab_page, served):
    page = lab_page
    try:
        start = time.time()
        nb = _open(page, notebook.name)
        nb.locator(".jp-Cell").first.wait_for(state="attached")
        shown = time.time()
        page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=90_000)
        opened = time.time()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        rows = {r["index"]: r for r in _probe_rows(nb, 1, time.time() + RUN_ALL_TIMEOUT_S)}
        ran = time.time()

        panels = nb.locator(".course-slider-panel")
        assert panels.count() > 0, f"{notebook.name}: no slider panel on the page"
        _screenshot(page, f"{notebook.stem}-page")
        results = {}
        for k in range(panels.count()):
            panel = panels.nth(k)
            index = int(re.search(r"course-panel-(\d+)", panel.get_attribute("class")).group(1))
            row = rows[index]
            name = f"{notebook.stem} {row['title'] or f'panel {index}'} [{row['label']}]"
            measured = _test_panel(
                page,
                panel,
                row,
                name,
                presentation=k == 0 and notebook == PRESENTATION_NOTEBOOK,
            )
            if measured:
                results[index] = (name, row, *measured)

        # The kernel agrees with the page (default restored) and no setting failed.
        nb.locator(".jp-Cell").last.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        after = {r["index"]: r for r in _probe_rows(nb, 2, time.time() + 60)}
        for index, (name, row, latencies, settle_ms, drag_images) in results.items():
            now = after[index]
            assert math.isclose(now["value"], row["value"], rel_tol=1e-9), (name, now["value"])
            assert now["error"] is None, f"{name}: {now['error']}"
            redraws = now["draws"] - row["draws"]
            assert redraws >= PRESSES + 2, f"{name}: only {redraws} redraws in the kernel"
            _report_panel(name, row, now, latencies, settle_ms, drag_images)
        report(
            f"{notebook.stem}: opened {shown - start:.1f} s, kernel idle {opened - shown:.1f} s, "
            f"cells run {ran - opened:.0f} s, panels tested {time.time() - ran:.0f} s "
            f"(load {max(LOAD, load_factor()):.1f}x cores)"
        )
        _screenshot(page, f"{notebook.stem}-after")
    except BaseException:
        shot = Path(tempfile.gettempdir()) / "course-browser-failures" / f"{notebook.stem}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        except Exception:  # keep the original failure
            pass
        raise
    finally:
        _close_current(page, lab_server)
        lab_server.shutdown_kernels(served[notebook])
