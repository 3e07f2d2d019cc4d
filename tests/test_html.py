"""`make html`: the course website, built by Sphinx + myst-nb + sphinx-book-theme, offline.

Builds the site into a temporary folder (never site/ of the checkout; the panels' frame cache is
.cache/, which git ignores) with tools/build_html.py and checks: every notebook (any
notebooks/NN_*.ipynb, in the order of its number, then the solutions) has its page, listed in
that order by the index, the sidebar and previous/next; every stored plot is on its page; no
page loads anything from the network (MathJax is the bundled copy) and every file a page loads
is in the site; no test marker or widget repr reaches a page; exactly the real live panels
(not progress bars) became frame panels whose frames exist, change along each slider and keep
the page with everything it can show under 15 MB; the download button gives the notebook. The
frame cache is checked on its own: a second render draws nothing and a third build does not
even build the panel; changed drawing code redraws. tests/browser/test_site.py opens the site
in Chromium.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from course_utils.paths import REPO_ROOT

REPO = REPO_ROOT
NOTEBOOK_DIR = REPO / "notebooks"
PAGE_BUDGET_BYTES = 15_000_000

pytest.importorskip("myst_nb")
pytest.importorskip("sphinx_book_theme")
pytest.importorskip("jupyter_server_mathjax")
# sphinx-book-theme 1.4 still reads a Transform's ``app`` attribute, which Sphinx 9 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications")


def _load_builder():
    sys.path.insert(0, str(REPO / "tools"))  # build_html imports its site_* neighbours
    spec = importlib.util.spec_from_file_location("build_html", REPO / "tools" / "build_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_html = _load_builder()
site_frames = build_html.site_frames
site_panels = build_html.site_panels
NOTEBOOKS = build_html.course_notebooks(NOTEBOOK_DIR)
IDS = [p.relative_to(NOTEBOOK_DIR).as_posix() for p in NOTEBOOKS]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    """The site built once for this module, and build_html's record of each notebook."""
    tmp = tmp_path_factory.mktemp("html")
    records = build_html.build(tmp / "site", NOTEBOOK_DIR, work=tmp / "work")
    return tmp / "site", {r["notebook"]: r for r in records}


def _page(site: Path, notebook: Path) -> Path:
    return site / notebook.relative_to(NOTEBOOK_DIR).with_suffix(".html")


def _outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


class _Page(HTMLParser):
    """A page's links, loaded files, frame panels and article text (scripts left out)."""

    def __init__(self):
        super().__init__()
        self.panels: list[dict] = []
        self.loads: list[str] = []
        self.images: list[str] = []
        self.links: dict[str, list[str]] = {}  # class of the <a> (or of its nav) -> hrefs
        self.text: list[str] = []
        self._nav: list[list[str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "nav":
            self._nav.append(classes)
        if tag == "div" and "course-site-panel" in classes:
            self.panels.append({"inputs": [], "frames": {}})
        elif tag == "input" and a.get("type") == "range" and self.panels:
            self.panels[-1]["inputs"].append({"value": int(a["value"]), "max": int(a["max"])})
        elif tag == "img" and "data-frames" in a and self.panels:
            self.panels[-1]["frames"] = json.loads(a["data-frames"])
        if tag == "img":
            self.images.append(a["src"])
        if tag in ("script", "img") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("rel") in ("stylesheet", "icon", "preload"):
            self.loads.append(a["href"])
        if tag == "a" and a.get("href"):
            for key in [*classes, *(f"nav:{c}" for n in self._nav for c in n)]:
                self.links.setdefault(key, []).append(a["href"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "nav" and self._nav:
            self._nav.pop()

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(page: Path) -> _Page:
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_there_are_notebooks():
    assert any(p.parent == NOTEBOOK_DIR for p in NOTEBOOKS), "no notebooks/NN_*.ipynb found"


def test_course_order_is_by_number_with_solutions_after(tmp_path):
    """New notebooks (09, 10, ...) join in the order of their number, wherever they sort."""
    names = ["10_beyond.ipynb", "02_b.ipynb", "09_bench.ipynb", "00_a.ipynb", "notes.ipynb"]
    (tmp_path / "solutions").mkdir()
    for name in names:
        (tmp_path / name).touch()
    for name in ("10_beyond_solutions.ipynb", "09_bench_solutions.ipynb"):
        (tmp_path / "solutions" / name).touch()
    order = [p.relative_to(tmp_path).as_posix() for p in build_html.course_notebooks(tmp_path)]
    assert order == [
        "00_a.ipynb",
        "02_b.ipynb",
        "09_bench.ipynb",
        "10_beyond.ipynb",
        "solutions/09_bench_solutions.ipynb",
        "solutions/10_beyond_solutions.ipynb",
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_page_shows_every_stored_figure(built, notebook: Path):
    site, records = built
    page = _page(site, notebook)
    assert page.is_file(), f"{page} was not written"
    assert not records[notebook]["problems"], records[notebook]["problems"]
    nb = nbformat.read(notebook, as_version=4)
    stored = {
        base64.b64decode(out.data["image/png"])
        for out in _outputs(nb)
        if "image/png" in out.get("data", {})
    }
    shown = {
        (page.parent / src).read_bytes()
        for src in parse(page).images
        if "/_images/" in f"/{src}" and (page.parent / src).is_file()
    }
    assert stored <= shown, f"{page.name}: {len(stored - shown)} stored figure(s) not shown"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_page_shows_no_test_markers_or_widget_reprs(built, notebook: Path):
    site, _ = built
    page = _page(site, notebook)
    text = page.read_text(encoding="utf-8")
    visible = " ".join(parse(page).text).lower()  # tags become CSS classes, which is fine
    assert "nbval" not in visible, f"{page.name}: a test marker reached the page"
    assert "SliderPanel(children=" not in text, f"{page.name}: a widget repr leaked into the page"
    assert not re.search(r'href="(?![^"]*_sources/)[^":]+\.ipynb', text), f"{page.name}: link"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_page_loads_nothing_from_the_network(built, notebook: Path):
    site, _ = built
    page = _page(site, notebook)
    text = page.read_text(encoding="utf-8")
    assert not build_html.network_loads(text), build_html.network_loads(text)
    parsed = parse(page)
    if 'class="math' in text:  # Sphinx loads MathJax where there are formulas
        assert any(re.search(r"_static/mathjax/MathJax\.js\?", s) for s in parsed.loads), (
            f"{page.name}: no bundled MathJax"
        )
    for src in parsed.loads:
        assert (page.parent / src.split("?")[0]).is_file(), f"{page.name}: {src} not in the site"
    assert (site / "_static" / "mathjax" / "MathJax.js").is_file()


def test_network_check_sees_scripts_styles_and_imports():
    page = (
        '<script src="https://cdn.example/require.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/a.css">'
        '<script type="module">await import("https://cdn.example/mermaid.mjs")</script>'
        '<script src="_static/mathjax/MathJax.js"></script><a href="https://example.org">a link</a>'
    )
    assert build_html.network_loads(page) == [
        "https://cdn.example/require.js",
        "//fonts.example/a.css",
        "https://cdn.example/mermaid.mjs",
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_only_real_panels_become_site_panels(built, notebook: Path):
    """A SliderPanel output becomes a site panel; a tqdm bar (also a widget) becomes nothing."""
    site, records = built
    page = _page(site, notebook)
    outputs = _outputs(nbformat.read(notebook, as_version=4))
    real = sum(site_panels.is_panel_output(out) for out in outputs)
    widgets = sum(build_html.WIDGET_MIME in out.get("data", {}) for out in outputs)
    drawn = [p for p in records[notebook]["panels"] if not p.get("note")]
    assert len(parse(page).panels) == len(drawn), page.name
    assert len(records[notebook]["panels"]) == real, page.name
    assert page.read_text(encoding="utf-8").count('class="course-live-note"') == real - len(drawn)
    assert all((notebook.stem, p["name"]) in site_panels.OFFERED for p in drawn)
    assert records[notebook]["bars_dropped"] == widgets - real


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_panel_frames_exist_change_and_fit_the_budget(built, notebook: Path):
    """Drawn panels: frames on the site, each slider changes the picture, page under 15 MB."""
    site, records = built
    page = _page(site, notebook)
    record = records[notebook]
    assert record["weight"] < PAGE_BUDGET_BYTES, f"{page.name}: {record['weight']} bytes"
    for panel in record["panels"]:  # a panel draws every position, divergence included
        assert not panel["errors"], f"{page.name} panel {panel['name']}: {panel['errors']}"
    for p, panel in enumerate(parse(page).panels):
        assert 1 <= len(panel["inputs"]) <= 2, f"{page.name} panel {p}: sliders offered"
        for frame in panel["frames"].values():
            assert (page.parent / frame).is_file(), f"{page.name}: frame {frame} missing"
        defaults = [i["value"] for i in panel["inputs"]]
        for s, slider in enumerate(panel["inputs"]):
            ends = []
            for position in (0, slider["max"]):
                key = ",".join(str(position if k == s else d) for k, d in enumerate(defaults))
                ends.append((page.parent / panel["frames"][key]).read_bytes())
            assert ends[0] != ends[1], f"{page.name} panel {p} slider {s}: no change end to end"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_download_button_gives_the_notebook(built, notebook: Path):
    site, _ = built
    page = _page(site, notebook)
    (href,) = parse(page).links["btn-download-source-button"]
    assert (page.parent / href).resolve() == (
        site / "_sources" / notebook.relative_to(NOTEBOOK_DIR)
    ).resolve()
    downloaded = nbformat.read(page.parent / href, as_version=4)
    original = nbformat.read(notebook, as_version=4)
    assert len(downloaded.cells) == len(original.cells)
    for got, cell in zip(downloaded.cells, original.cells, strict=True):
        lines = [li for li in cell.source.splitlines() if not li.lstrip().startswith("# NBVAL")]
        assert got.source.splitlines() == (
            lines if cell.cell_type == "code" else cell.source.splitlines()
        )
        assert got.get("outputs") == cell.get("outputs")


def test_index_sidebar_and_next_follow_the_course_order(built):
    site, _ = built
    expected = [p.relative_to(NOTEBOOK_DIR).with_suffix(".html").as_posix() for p in NOTEBOOKS]
    index = parse(site / "index.html")
    assert [h for h in index.links["reference"] if h.endswith(".html")][-len(expected) :] == (
        expected
    )
    sequence = ["index.html", *expected]
    for here, after in zip(sequence, sequence[1:]):
        page = site / here
        parsed = parse(page)
        nav = [
            h for h in parsed.links.get("nav:bd-docs-nav", []) if h.endswith(".html") or h == "#"
        ]
        resolved = [
            (page if h == "#" else page.parent / h).resolve().relative_to(site).as_posix()
            for h in nav
        ]
        assert resolved[-len(expected) :] == expected, f"{here}: sidebar out of course order"
        (nxt,) = parsed.links["right-next"]
        assert (page.parent / nxt).resolve() == (site / after).resolve(), f"{here}: next"
    assert "right-next" not in parse(site / sequence[-1]).links


def _tiny_notebooks(tmp_path: Path) -> Path:
    """Notebooks 01 and 10 (with a panel, a progress bar, a test marker and hidden cells)."""
    widget = {"version_major": 2, "version_minor": 0, "model_id": "x"}
    code = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny\n\nA formula: $\\alpha/\\sqrt{G}$.\n\n## Part"),
        code(
            "from course_utils.widgets import SliderPanel, float_slider\n\n"
            "def draw(fig, a):\n    fig.add_subplot().plot([0, 1], [0, a])\n\n"
            'panel = SliderPanel(draw, {"a": float_slider("a", 0.5, 0.0, 1.0)}, figsize=(3, 2))'
        ),
        code("display(panel)"),
        code("# NBVAL_IGNORE_OUTPUT\nfor _ in tqdm(range(3)): pass\nprint('visible line')"),
        code("secret_setup = 1", metadata={"tags": ["remove-cell"]}),
        code("folded_code = 2", metadata={"tags": ["hide-input"]}),
    ]
    panel_out = {"data": {site_panels.WIDGET_MIME: widget, "text/plain": "SliderPanel(children=)"}}
    bar_out = {"data": {site_panels.WIDGET_MIME: widget, "text/plain": "  0%|  | 0/3"}}
    for cell, data in ((nb.cells[2], panel_out), (nb.cells[3], bar_out)):
        cell.outputs = [nbformat.v4.new_output("display_data", **data)]
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(nb, folder / "10_tiny.ipynb")
    first = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# First\n\nHello.")])
    nbformat.write(first, folder / "01_first.ipynb")
    return folder


def test_tiny_site_drops_markers_bars_and_hidden_cells(tmp_path, monkeypatch):
    folder = _tiny_notebooks(tmp_path)
    monkeypatch.setitem(site_panels.OFFERED, ("10_tiny", "panel"), ("a",))
    first, tiny = build_html.build(
        tmp_path / "site", folder, cache=tmp_path / "cache", work=tmp_path / "work"
    )
    assert [first["docname"], tiny["docname"]] == ["01_first", "10_tiny"]
    text = tiny["page"].read_text(encoding="utf-8")
    assert not tiny["problems"] and not first["problems"], (tiny["problems"], first["problems"])
    assert tiny["bars_dropped"] == 1 and tiny["markers_dropped"] == 1
    assert [p["offers"] for p in tiny["panels"]] == [["a"]]
    assert len(parse(tiny["page"]).panels) == 1
    assert "0/3" not in text and "NBVAL" not in text and "visible line" in text
    assert "secret_setup" not in text  # remove-cell: gone
    assert "folded_code" in text and "toggle" in text  # hide-input: folded, one click away
    assert parse(first["page"]).links["right-next"] == ["10_tiny.html"]


def test_frame_cache_draws_only_what_changed(tmp_path):
    nb = nbformat.read(_tiny_notebooks(tmp_path) / "10_tiny.ipynb", as_version=4)
    panel, program = site_panels.build_panel(nb, 2, "panel")
    cache = tmp_path / "c"
    assert site_frames.cached_frames(program, ("a",), tmp_path / "f0", cache) is None
    first = site_frames.render_frames(panel, program, ("a",), tmp_path / "f1", cache)
    again = site_frames.render_frames(panel, program, ("a",), tmp_path / "f2", cache)
    recorded = site_frames.cached_frames(program, ("a",), tmp_path / "f3", cache)
    changed = site_frames.render_frames(
        panel, program + "\n# changed", ("a",), tmp_path / "f4", cache
    )
    assert first.drawn == len(first.frames) >= 5
    assert again.drawn == 0 and again.frames == first.frames
    assert recorded is not None and recorded.drawn == 0 and recorded.frames == first.frames
    assert recorded.offers == first.offers and recorded.fixed == first.fixed
    assert sorted(p.name for p in (tmp_path / "f3").iterdir()) == sorted(first.frames.values())
    assert (
        site_frames.cached_frames(program + "\n# changed", ("b",), tmp_path / "f5", cache) is None
    )
    assert changed.drawn == len(first.frames)
    assert not first.errors and not again.errors


def test_a_frame_that_fails_is_reported_from_the_cache_too(tmp_path):
    nb = nbformat.read(_tiny_notebooks(tmp_path) / "10_tiny.ipynb", as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("[0, a]", "[0, 1 / (a - 1)]")
    panel, program = site_panels.build_panel(nb, 2, "panel")  # a = 1: division by zero
    for out in ("f1", "f2"):
        frames = site_frames.render_frames(panel, program, ("a",), tmp_path / out, tmp_path / "c")
        assert [e for e in frames.errors if "ZeroDivisionError" in e], (out, frames.errors)
    recorded = site_frames.cached_frames(program, ("a",), tmp_path / "f3", tmp_path / "c")
    assert [e for e in recorded.errors if "ZeroDivisionError" in e]


def test_panel_program_is_the_slice_that_builds_the_panel():
    """Only what the displayed expression needs runs: not the training or the figure cells."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell
    nb.cells = [
        code("import numpy as np\nfrom course_utils.widgets import SliderPanel, float_slider"),
        code("%matplotlib inline\nresult = np.linalg.eigh(np.eye(3))  # heavy work\nk = 3"),
        code("def draw(fig, a):\n    ax = fig.add_subplot()\n    ax.plot(np.arange(k) * a)"),
        code("save_figure(draw)"),
        code('display(SliderPanel(draw, {"a": float_slider("a", 1.0, 0.0, 2.0)}))'),
    ]
    program = site_panels.panel_program(nb, 4, site_panels._displayed(nb.cells[4].source))
    assert "eigh" not in program and "save_figure" not in program and "%" not in program
    assert program.splitlines()[-1].startswith(f"{site_panels.RESULT} = SliderPanel(draw")
    assert "k = 3" in program and "import numpy as np" in program
    panel, _ = site_panels.build_panel(
        nb, 4, "SliderPanel(draw, {'a': float_slider('a', 1.0, 0.0, 2.0)})"
    )
    assert list(panel.controls) == ["a"]


def test_offered_values_are_on_the_slider_grid_with_the_default():
    from course_utils.widgets import float_slider, int_slider, log_slider

    for widget in (
        log_slider("ε", 1e-8, 1e-12, 1e-2),
        float_slider("β", 0.9, 0.0, 0.99, step=0.01),
        int_slider("k", 60, 5, 400, step=5),
    ):
        grid, default = site_frames.slider_grid(widget)
        assert grid[default] == widget.value
        values, index = site_frames._pick(grid, default, site_frames.PRIMARY_STEPS)
        assert values[0] == grid[0] and values[-1] == grid[-1] and values[index] == widget.value
        assert len(values) in (site_frames.PRIMARY_STEPS, site_frames.PRIMARY_STEPS + 1)


@pytest.mark.parametrize(
    "value, spec, readout",
    [
        (0.1, ".3g", "0.100"),
        (1e-8, ".3g", "1.00e\u22128"),
        (1e4, ".2g", "1.0e+4"),
        (10.0, ".0f", "10"),
        (60, "d", "60"),
        (-0.5, ".2f", "\u22120.50"),
    ],
)
def test_readouts_format_like_the_live_slider(value, spec, readout):
    """ipywidgets formats readouts with d3-format: toPrecision for g, U+2212 for minus."""
    assert site_frames.js_format(value, spec) == readout
