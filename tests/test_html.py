"""`make html`: every notebook becomes a page that works offline, listed in course order.

Builds the site into a temporary folder (never site/ of the checkout; the panels' frame cache is
.cache/, which git ignores) with tools/build_html.py and checks that each notebook has its page;
that every stored plot and markdown image is embedded as a data URI; that no page loads anything
from the network (MathJax is the bundled copy, require.js is gone); that exactly the real live
panels (not tqdm progress bars) became site panels with range inputs whose frames exist, change
along each slider and keep the page under 15 MB; and that the index lists the pages in course
order. The frame cache is checked on its own: a second render draws nothing, changed drawing
code redraws. tests/browser/test_site.py opens the pages in Chromium.
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

pytest.importorskip("nbconvert")
pytest.importorskip("jupyter_server_mathjax")


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
    out = tmp_path_factory.mktemp("site")
    records = build_html.build(out, NOTEBOOK_DIR)
    return out, {r["notebook"]: r for r in records}


def _page(site: Path, notebook: Path) -> Path:
    return site / notebook.relative_to(NOTEBOOK_DIR).with_suffix(".html")


def _snippet(b64: str) -> str:
    """A stretch of an image's base64 text long enough to identify it."""
    text = re.sub(r"\s", "", b64)
    return text[len(text) // 2 : len(text) // 2 + 120]


def _outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


class _PanelParser(HTMLParser):
    """Collects each site panel: its range inputs and its frames ("i,j" -> file)."""

    def __init__(self):
        super().__init__()
        self.panels: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and "course-site-panel" in (a.get("class") or "").split():
            self.panels.append({"inputs": [], "frames": {}})
        elif tag == "input" and a.get("type") == "range" and self.panels:
            self.panels[-1]["inputs"].append({"value": int(a["value"]), "max": int(a["max"])})
        elif tag == "img" and "data-frames" in a and self.panels:
            self.panels[-1]["frames"] = json.loads(a["data-frames"])


def site_panels_of(text: str) -> list[dict]:
    parser = _PanelParser()
    parser.feed(text)
    return parser.panels


def test_there_are_notebooks():
    assert any(p.parent == NOTEBOOK_DIR for p in NOTEBOOKS), "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_page_embeds_its_figures(built, notebook: Path):
    site, records = built
    page = _page(site, notebook)
    assert page.is_file(), f"{page} was not written"
    assert not records[notebook]["problems"], records[notebook]["problems"]
    text = page.read_text(encoding="utf-8")
    nb = nbformat.read(notebook, as_version=4)

    stored = [out.data["image/png"] for out in _outputs(nb) if "image/png" in out.get("data", {})]
    for i, b64 in enumerate(stored):
        assert _snippet(b64) in text, f"{page.name}: stored figure {i + 1} is not embedded"

    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for src in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", cell.source):
            if src.startswith(("http://", "https://", "data:", "attachment:")):
                continue
            data = base64.b64encode((notebook.parent / src).read_bytes()).decode()
            assert _snippet(data) in text, f"{page.name}: markdown image {src} is not embedded"

    files = re.findall(r'<img[^>]+src="(?!data:)([^"]+)"', text)
    assert all(re.fullmatch(r"(\.\./)*frames/[0-9a-f]+\.png", f) for f in files), files
    assert "SliderPanel(children=" not in text, f"{page.name}: a widget repr leaked into the page"
    assert not re.search(r'href="[^":]+\.ipynb', text), f"{page.name}: links to .ipynb files"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_page_loads_nothing_from_the_network(built, notebook: Path):
    site, _ = built
    page = _page(site, notebook)
    text = page.read_text(encoding="utf-8")
    assert not build_html._network_loads(text), build_html._network_loads(text)
    assert "require" not in " ".join(re.findall(r'<script[^>]+src="([^"]+)"', text))
    scripts = re.findall(r'<script[^>]+src="([^"?]+)', text)
    assert any(s.endswith("mathjax/MathJax.js") for s in scripts), f"{page.name}: no MathJax"
    for src in scripts:
        assert (page.parent / src).is_file(), f"{page.name}: script {src} is not in the site"


def test_network_check_sees_scripts_styles_and_imports():
    page = (
        '<script src="https://cdn.example/require.js"></script><link href="//fonts.example/a.css">'
        '<script type="module">await import("https://cdn.example/mermaid.mjs")</script>'
        '<script src="mathjax/MathJax.js"></script><a href="https://example.org">a link</a>'
    )
    assert build_html._network_loads(page) == [
        "https://cdn.example/require.js",
        "//fonts.example/a.css",
        "https://cdn.example/mermaid.mjs",
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_only_real_panels_become_site_panels(built, notebook: Path):
    """A SliderPanel output becomes a site panel; a tqdm bar (also a widget) becomes nothing."""
    site, records = built
    page = _page(site, notebook)
    text = page.read_text(encoding="utf-8")
    outputs = _outputs(nbformat.read(notebook, as_version=4))
    real = sum(site_panels.is_panel_output(out) for out in outputs)
    widgets = sum(build_html.WIDGET_MIME in out.get("data", {}) for out in outputs)
    assert text.count('<div class="course-site-panel"') == real, page.name
    assert 'class="course-live-note"' not in text, f"{page.name}: a panel was not rebuilt"
    assert records[notebook]["bars_dropped"] == widgets - real


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_panel_frames_exist_change_and_fit_the_budget(built, notebook: Path):
    site, records = built
    page = _page(site, notebook)
    record = records[notebook]
    assert record["page_bytes"] + record["frame_bytes"] < PAGE_BUDGET_BYTES, page.name
    for panel in record["panels"]:  # a panel draws every position, divergence included
        assert not panel["errors"], f"{page.name} panel {panel['name']}: {panel['errors']}"
    for p, panel in enumerate(site_panels_of(page.read_text(encoding="utf-8"))):
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


def _tiny_notebook(tmp_path: Path) -> Path:
    """A notebook with one live panel and one stored tqdm bar, both widget outputs."""
    widget = {"version_major": 2, "version_minor": 0, "model_id": "x"}
    code = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny\n\nA formula: $\\alpha/\\sqrt{G}$."),
        code(
            "from course_utils.widgets import SliderPanel, float_slider\n\n"
            "def draw(fig, a):\n    fig.add_subplot().plot([0, 1], [0, a])\n\n"
            'panel = SliderPanel(draw, {"a": float_slider("a", 0.5, 0.0, 1.0)}, figsize=(3, 2))'
        ),
        code("display(panel)"),
        code("for _ in tqdm(range(3)): pass"),
    ]
    panel_out = {"data": {site_panels.WIDGET_MIME: widget, "text/plain": "SliderPanel(children=)"}}
    bar_out = {"data": {site_panels.WIDGET_MIME: widget, "text/plain": "  0%|  | 0/3"}}
    for cell, data in ((nb.cells[2], panel_out), (nb.cells[3], bar_out)):
        cell.outputs = [nbformat.v4.new_output("display_data", **data)]
    path = tmp_path / "notebooks" / "01_tiny.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


def test_a_progress_bar_is_not_a_panel(tmp_path):
    notebook = _tiny_notebook(tmp_path)
    (record,) = build_html.build(tmp_path / "site", notebook.parent, cache=tmp_path / "cache")
    text = record["page"].read_text(encoding="utf-8")
    assert not record["problems"], record["problems"]
    assert record["bars_dropped"] == 1
    assert [p["offers"] for p in record["panels"]] == [["a"]]
    assert text.count('<div class="course-site-panel"') == 1
    assert "0/3" not in text and "course-live-note" not in text


def test_frame_cache_draws_only_what_changed(tmp_path):
    nb = nbformat.read(_tiny_notebook(tmp_path), as_version=4)
    panel, program = site_panels.build_panel(nb, 2, "panel")
    first = site_frames.render_frames(panel, program, ("a",), tmp_path / "f1", tmp_path / "c")
    again = site_frames.render_frames(panel, program, ("a",), tmp_path / "f2", tmp_path / "c")
    changed = site_frames.render_frames(
        panel, program + "\n# changed", ("a",), tmp_path / "f3", tmp_path / "c"
    )
    assert first.drawn == len(first.frames) >= 5
    assert again.drawn == 0 and again.frames == first.frames
    assert changed.drawn == len(first.frames)
    assert not first.errors and not again.errors


def test_a_frame_that_fails_is_reported_from_the_cache_too(tmp_path):
    nb = nbformat.read(_tiny_notebook(tmp_path), as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("[0, a]", "[0, 1 / (a - 1)]")
    panel, program = site_panels.build_panel(nb, 2, "panel")  # a = 1: division by zero
    for out in ("f1", "f2"):
        frames = site_frames.render_frames(panel, program, ("a",), tmp_path / out, tmp_path / "c")
        assert [e for e in frames.errors if "ZeroDivisionError" in e], (out, frames.errors)


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


def test_index_lists_pages_in_course_order(built):
    site, _ = built
    index = (site / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'<a href="([^"]+\.html)"', index)
    expected = [p.relative_to(NOTEBOOK_DIR).with_suffix(".html").as_posix() for p in NOTEBOOKS]
    assert hrefs == expected
    main = [h for h in hrefs if "/" not in h]
    assert main == sorted(main), "numbered notebooks out of course order"
