"""`make html`: every notebook becomes one self-contained page, listed in course order.

Builds the site into a temporary folder (never site/ of the checkout) with tools/build_html.py
and checks that each notebook has its page, that every stored plot and every markdown image is
embedded in it as a data URI, that live panels became a note, and that the index lists the
pages in course order.
"""

from __future__ import annotations

import base64
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from course_utils.paths import REPO_ROOT

REPO = REPO_ROOT
NOTEBOOK_DIR = REPO / "notebooks"

pytest.importorskip("nbconvert")


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_html", REPO / "tools" / "build_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_html = _load_builder()
NOTEBOOKS = build_html.course_notebooks(NOTEBOOK_DIR)


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


def test_there_are_notebooks():
    assert any(p.parent == NOTEBOOK_DIR for p in NOTEBOOKS), "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize(
    "notebook", NOTEBOOKS, ids=[p.relative_to(NOTEBOOK_DIR).as_posix() for p in NOTEBOOKS]
)
def test_page_embeds_its_figures(built, notebook: Path):
    site, records = built
    page = _page(site, notebook)
    assert page.is_file(), f"{page} was not written"
    assert not records[notebook]["problems"], records[notebook]["problems"]
    text = page.read_text(encoding="utf-8")
    nb = nbformat.read(notebook, as_version=4)

    stored = [
        out.data["image/png"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "data" in out and "image/png" in out.data
    ]
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

    local = re.findall(r'<img[^>]+src="(?!data:|https?:)([^"]+)"', text)
    assert not local, f"{page.name}: images that point to files: {local}"
    assert "SliderPanel(children=" not in text, f"{page.name}: a widget repr leaked into the page"
    widgets = sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "data" in out and build_html.WIDGET_MIME in out.data
    )
    assert text.count('class="course-live-note"') == widgets, page.name
    assert not re.search(r'href="[^":]+\.ipynb', text), f"{page.name}: links to .ipynb files"


def test_index_lists_pages_in_course_order(built):
    site, _ = built
    index = (site / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'<a href="([^"]+\.html)"', index)
    expected = [p.relative_to(NOTEBOOK_DIR).with_suffix(".html").as_posix() for p in NOTEBOOKS]
    assert hrefs == expected
    main = [h for h in hrefs if "/" not in h]
    assert main == sorted(main), "numbered notebooks out of course order"
