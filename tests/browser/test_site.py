"""The static site (`make html`) in a real Chromium, offline, as a reader without internet sees it.

The site is built once into a temporary folder (the frame cache in .cache/, which git ignores,
keeps a second build fast). Every page is opened from ``file:`` with every other request aborted
and recorded, so a page that still needs the network (a CDN's MathJax or require.js) fails here.
Checked on every page: nothing was requested from the network, MathJax typeset every formula of
the markdown (no raw ``\\alpha``, ``\\sqrt`` or ``\\frac`` left in the text, no TeX error), and
each live panel of the notebook is on the page as a panel with range inputs. Then every range
input is moved with the keyboard (End, Home) and must show a new frame, loaded from its file,
with the readout of the position it moved to.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.paths import REPO_ROOT

TOOLS = REPO_ROOT / "tools"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
RAW_TEX = re.compile(r"\\(?:[A-Za-z]+|[{}])|\$")


def _load_builder():
    sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location("build_html", TOOLS / "build_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_html = _load_builder()
NOTEBOOKS = build_html.course_notebooks(NOTEBOOK_DIR)
IDS = [p.relative_to(NOTEBOOK_DIR).as_posix() for p in NOTEBOOKS]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_html.build(out, NOTEBOOK_DIR)
    return out


@pytest.fixture
def offline_page(offline_context):
    """A page in a fresh context where every request that is not file: or data: is aborted."""
    context = offline_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, context.blocked, errors


def _open(page, path: Path) -> None:
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("() => window.MathJax && MathJax.isReady", timeout=60_000)
    page.evaluate(
        "() => new Promise(done => MathJax.Hub.Queue(() => done(true)))"
    )  # resolves after every queued typesetting job


# Markdown text with code, MathJax's own source scripts and typeset output removed: what is left
# is what the reader sees as plain text, where no TeX may remain.
MARKDOWN_TEXT = """() => Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedHTMLCommon'))
  .map(cell => {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll('code, pre, script, .MathJax, .MathJax_Display, .MathJax_Preview')
      .forEach(n => n.remove());
    return copy.textContent;
  })"""


def _panel_count(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        build_html.site_panels.is_panel_output(out)
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_page_works_offline_with_formulas_typeset(site, offline_page, notebook):
    page, blocked, errors = offline_page
    path = site / notebook.relative_to(NOTEBOOK_DIR).with_suffix(".html")
    _open(page, path)
    assert not blocked, f"{path.name} asked the network for {blocked}"
    assert not errors, f"{path.name}: JavaScript errors {errors}"
    sources = page.eval_on_selector_all('script[type^="math/tex"]', "s => s.length")
    typeset = page.eval_on_selector_all(".MathJax, .MathJax_Display", "s => s.length")
    assert typeset >= sources, f"{path.name}: {sources} formulas, {typeset} typeset"
    failed = page.eval_on_selector_all(".merror, .MathJax_Error", "s => s.length")
    assert failed == 0, f"{path.name}: {failed} formulas with a TeX error"
    leftovers = [m for text in page.evaluate(MARKDOWN_TEXT) for m in RAW_TEX.findall(text)]
    assert not leftovers, f"{path.name}: raw TeX left in the text: {sorted(set(leftovers))}"
    panels = page.locator(".course-site-panel")
    assert panels.count() == _panel_count(notebook), f"{path.name}: live panels on the page"
    assert page.locator(".course-live-note").count() == 0, f"{path.name}: a panel fell back"


PANEL_NOTEBOOKS = [p for p in NOTEBOOKS if _panel_count(p)]


def _frame_state(img) -> dict:
    img.evaluate("i => i.decode()")  # waits until the current frame is loaded and decoded
    return img.evaluate("i => ({src: i.getAttribute('src'), width: i.naturalWidth})")


@pytest.mark.parametrize(
    "notebook",
    PANEL_NOTEBOOKS,
    ids=[p.relative_to(NOTEBOOK_DIR).as_posix() for p in PANEL_NOTEBOOKS],
)
def test_site_sliders_swap_frames(site, offline_page, notebook):
    page, blocked, errors = offline_page
    path = site / notebook.relative_to(NOTEBOOK_DIR).with_suffix(".html")
    page.goto(path.as_uri(), wait_until="load")
    for p in range(page.locator(".course-site-panel").count()):
        panel = page.locator(".course-site-panel").nth(p)
        img = panel.locator("img.course-site-frame")
        panel.scroll_into_view_if_needed()
        assert _frame_state(img)["width"] > 0, f"{path.name} panel {p}: default frame missing"
        sliders = panel.locator("input[type=range]")
        assert sliders.count() >= 1, f"{path.name} panel {p}: no slider offered"
        for s in range(sliders.count()):
            slider = sliders.nth(s)
            readouts = json.loads(slider.get_attribute("data-readouts"))
            moves = [("End", len(readouts) - 1), ("Home", 0)]
            if int(slider.input_value()) == len(readouts) - 1:
                moves.reverse()
            for key, expected in moves:
                before = _frame_state(img)
                slider.focus()
                slider.press(key)
                assert int(slider.input_value()) == expected
                after = _frame_state(img)
                where = f"{path.name} panel {p} slider {s} after {key}"
                assert after["width"] > 0, f"{where}: frame {after['src']} did not load"
                old_png, new_png = (
                    (path.parent / state["src"]).read_bytes() for state in (before, after)
                )
                assert new_png != old_png, f"{where}: the picture did not change"
                readout = slider.locator("xpath=following-sibling::output").inner_text()
                assert readout == readouts[expected], f"{where}: readout {readout!r}"
            slider.press("End")  # leave it away from the default, for the next slider's check
    assert not blocked, f"{path.name} asked the network for {blocked}"
    assert not errors, f"{path.name}: JavaScript errors {errors}"
