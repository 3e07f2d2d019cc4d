"""The course website (`make html`) in a real Chromium, offline, as a reader without internet sees it.

The site is built once into a temporary folder (the frame cache in .cache/, which git ignores,
keeps a second build fast). Every request that is not ``file:``, ``data:`` or the test's own
static server on 127.0.0.1 is aborted and recorded, so a page that still needs the network (a
CDN's MathJax, a web font) fails here. Every page is opened from ``file:`` at 1280x720:
nothing asked the network, no JavaScript error, MathJax typeset every formula (no raw TeX left,
no TeX error), each live panel of the notebook is a frame panel, and nothing is wider than the
window. Then every range input of every panel is moved with the keyboard (End, Home) and must
show a new frame with the readout of its position. Over HTTP (a plain static server, as any
static host serves the site): the reader clicks "next" from the index through the first pages
and runs a search from the search box, whose results show snippets; from ``file:`` the search
page still lists the matching pages.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import re
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

from course_utils.paths import REPO_ROOT

TOOLS = REPO_ROOT / "tools"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
RAW_TEX = re.compile(r"\\(?:[A-Za-z]+|[{}()\[\]])|\$")
WINDOW = {"width": 1280, "height": 720}
pytest.importorskip("myst_nb")
pytestmark = pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications")


def _load_builder():
    sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location("build_html", TOOLS / "build_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_html = _load_builder()
NOTEBOOKS = build_html.course_notebooks(NOTEBOOK_DIR)
PAGES = ["index.html"] + [
    p.relative_to(NOTEBOOK_DIR).with_suffix(".html").as_posix() for p in NOTEBOOKS
]


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("site")
    records = build_html.build(tmp / "site", NOTEBOOK_DIR, work=tmp / "work")
    problems = [p for r in records for p in r["problems"]]
    assert not problems, problems
    return tmp / "site"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(site):
    """A plain static server of the site on 127.0.0.1 (a free port), as any static host."""
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def reader(chromium, server):
    """A page at 1280x720 whose requests other than file:, data: and the server are aborted."""
    context = chromium.new_context(viewport=WINDOW)
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", server + "/")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page, blocked, errors
    finally:
        context.close()


def _typeset(page) -> None:
    """Wait until MathJax has typeset the page (Sphinx loads it only where there is math)."""
    if not page.locator('script[src*="mathjax/MathJax.js"]').count():
        assert not page.locator(".math").count(), "formulas but no MathJax"
        return
    page.wait_for_function("() => window.MathJax && MathJax.isReady", timeout=60_000)
    page.evaluate("() => new Promise(done => MathJax.Hub.Queue(() => done(true)))")


# The article's text with code, MathJax's own source scripts and typeset output removed: what
# is left is what the reader sees as plain text, where no TeX may remain.
ARTICLE_TEXT = """() => {
  const copy = document.querySelector('article.bd-article').cloneNode(true);
  copy.querySelectorAll('code, pre, script, .MathJax, .MathJax_Display, .MathJax_Preview, '
                        + '.cell_output, .headerlink').forEach(n => n.remove());
  return copy.textContent;
}"""

# Elements that stick out of the window or of the article (figures, panels, tables).
OVERFLOW = """() => {
  const article = document.querySelector('article.bd-article').getBoundingClientRect();
  const wide = Array.from(document.querySelectorAll(
      'article img, article .course-site-panel, article table, article .MathJax_Display'))
    .filter(e => e.getBoundingClientRect().right > article.right + 1)
    .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().width));
  return {page: document.scrollingElement.scrollWidth, wide: wide};
}"""


def _panel_count(notebook: Path) -> int:
    """The notebook's live panels that the site draws (site_panels.OFFERED names them)."""
    panels = build_html.site_panels.panel_cells(nbformat.read(notebook, as_version=4))
    return sum((notebook.stem, name) in build_html.site_panels.OFFERED for _, _, name in panels)


@pytest.mark.parametrize("name", PAGES)
def test_page_works_offline_typeset_and_fits(site, reader, name):
    page, blocked, errors = reader
    page.goto((site / name).as_uri(), wait_until="load")
    _typeset(page)
    assert not blocked, f"{name} asked the network for {blocked}"
    assert not errors, f"{name}: JavaScript errors {errors}"
    sources = page.eval_on_selector_all('script[type^="math/tex"]', "s => s.length")
    typeset = page.eval_on_selector_all(".MathJax, .MathJax_Display", "s => s.length")
    assert typeset >= sources, f"{name}: {sources} formulas, {typeset} typeset"
    failed = page.eval_on_selector_all(".merror, .MathJax_Error", "s => s.length")
    assert failed == 0, f"{name}: {failed} formulas with a TeX error"
    leftovers = RAW_TEX.findall(page.evaluate(ARTICLE_TEXT))
    assert not leftovers, f"{name}: raw TeX left in the text: {sorted(set(leftovers))}"
    overflow = page.evaluate(OVERFLOW)
    assert overflow["page"] <= WINDOW["width"], f"{name}: {overflow['page']} px wide"
    assert not overflow["wide"], f"{name}: wider than the article: {overflow['wide']}"
    assert "nbval" not in page.inner_text("body").lower(), f"{name}: a test marker shows"
    notebook = NOTEBOOK_DIR / Path(name).with_suffix(".ipynb")
    if notebook.is_file():
        expected = _panel_count(notebook)
        assert page.locator(".course-site-panel").count() == expected, f"{name}: panels"
        assert page.locator("a.btn-download-source-button[download]").count() == 1, name


PANEL_NOTEBOOKS = [p for p in NOTEBOOKS if _panel_count(p)]


def _frame_state(img) -> dict:
    img.evaluate("i => i.decode()")  # waits until the current frame is loaded and decoded
    return img.evaluate("i => ({src: i.getAttribute('src'), width: i.naturalWidth})")


@pytest.mark.parametrize(
    "notebook",
    PANEL_NOTEBOOKS,
    ids=[p.relative_to(NOTEBOOK_DIR).as_posix() for p in PANEL_NOTEBOOKS],
)
def test_site_sliders_swap_frames(site, reader, notebook):
    page, blocked, errors = reader
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


def test_next_and_search_over_http(site, server, reader):
    """From a static server: "next" walks the course order; a search shows pages with snippets."""
    page, blocked, errors = reader
    page.goto(f"{server}/index.html", wait_until="load")
    for expected in PAGES[1:4]:
        page.locator("a.right-next").click()
        page.wait_for_url(f"{server}/{expected}")
    page.locator("button.search-button-field").first.click()
    box = page.locator("#pst-search-dialog input[name=q]")
    box.fill("Adagrad")
    box.press("Enter")
    page.wait_for_url(re.compile(r".*/search\.html\?q=Adagrad.*"))
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#search-results').textContent.includes('page')"
    )  # "Search finished, found N page(s) matching the search query."
    titles = results.locator("a").all_inner_texts()
    assert any("Adagrad" in t for t in titles), titles
    snippets = [s for s in results.locator("p.context").all_inner_texts() if s.strip()]
    assert any("adagrad" in s.lower() for s in snippets), f"no snippets: {snippets[:3]}"
    assert not any("Light Dark" in s for s in snippets), f"theme buttons in {snippets[:3]}"
    assert not blocked, f"asked the network for {blocked}"
    assert not errors, f"JavaScript errors {errors}"


def test_search_lists_pages_from_file(site, reader):
    """Opened from file: (browsers block fetching the pages, so no snippets), results still list."""
    page, blocked, errors = reader
    page.goto(f"{(site / 'search.html').as_uri()}?q={quote('bias correction')}", wait_until="load")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=30_000)
    assert any("bias correction" in t.lower() for t in results.all_inner_texts())
    assert not blocked, f"asked the network for {blocked}"
