"""Build the course website (`make html`): Sphinx, myst-nb and sphinx-book-theme, offline.

Usage: python tools/build_html.py [--out site] [--cache .cache/site_frames] [--work .cache/site_build]

The generator does the website: sidebar in course order, previous/next, page contents, search,
a download button for each notebook, typeset formulas (MathJax from ``jupyter-server-mathjax``,
no CDN), light and dark mode; its configuration is tools/website/conf.py. This file only lays out
the generator's source folder (``--work``), from the notebooks with their stored outputs (nothing
is executed):

* every ``notebooks/NN_*.ipynb`` in the order of its number, then every solutions notebook,
  listed by a generated ``index.md``;
* code lines starting with ``# NBVAL`` (test markers) are dropped; cells tagged ``remove-cell``,
  ``remove-input``, ``remove-output`` or ``hide-*`` are removed or folded by myst-nb;
* each live panel (a kernel-side widget) named in ``site_panels.OFFERED`` becomes the course's
  frame panel: one or two of its sliders as range inputs over frames the panel itself draws at
  build time (tools/site_panels.py finds and rebuilds the panel, tools/site_frames.py draws and
  caches the frames, which the site keeps under ``frames/`` and loads lazily); a panel not named
  there gets a note pointing to JupyterLab; other widgets (progress bars) are dropped.

The download button of each page gives the repository's notebook (test-marker lines dropped).
A staged notebook is rewritten only when it changed, so Sphinx rebuilds only what changed.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import site_frames  # tools/ is on sys.path when this file runs as a script
import site_panels

from course_utils.paths import REPO_ROOT

REPO = REPO_ROOT
CONF_DIR = Path(__file__).resolve().parent / "website"  # conf.py and _static/ of the site
WORK_DIR = REPO / ".cache" / "site_build"
WIDGET_MIME = site_panels.WIDGET_MIME
TEST_MARKER = re.compile(r"^\s*# ?NBVAL")
COURSE_TITLE = "Adaptive optimization, from the ill-conditioned quadratic to AdamW"


def _number(path: Path) -> tuple[int, str]:
    match = re.match(r"(\d+)_", path.name)
    return (int(match.group(1)) if match else 10**6, path.name)


def course_notebooks(notebook_dir: Path) -> list[Path]:
    """Numbered notebooks in course order (by number), then their solutions (also by number)."""
    main = sorted(notebook_dir.glob("[0-9]*_*.ipynb"), key=_number)
    solutions = sorted((notebook_dir / "solutions").glob("*.ipynb"), key=_number)
    return main + solutions


def drop_test_markers(nb) -> int:
    """Remove every code line that starts with ``# NBVAL`` (a test marker); return how many."""
    dropped = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines(keepends=True)
        kept = [line for line in lines if not TEST_MARKER.match(line)]
        dropped += len(lines) - len(kept)
        cell.source = "".join(kept)
    return dropped


PANEL_NOTE = (
    '<div class="course-live-note">Live panel: the figure above shows its default setting. '
    "To move its sliders, open this notebook in JupyterLab (<code>make lab</code>).</div>"
)


def _panel_output(nb, stem: str, cell: int, name: str | None, ctx: dict) -> tuple[str, dict]:
    """The site's version of one live panel, and its record (with a problem if it failed)."""
    record = {"name": name, "offers": [], "frames": 0, "drawn": 0, "errors": []}
    if (stem, name) not in site_panels.OFFERED:  # not drawn for the site: a note
        record["note"] = True
        return PANEL_NOTE, record
    try:
        if name is None:
            raise LookupError("the display cell shows no expression")
        program = site_panels.panel_program(nb, cell, name)
        offered = site_panels.OFFERED.get((stem, name), ())
        frames = site_frames.cached_frames(program, offered, ctx["frames"], ctx["cache"])
        if frames is None:  # draw them (imports torch and the lesson's modules)
            from course_utils.cli import limit_threads

            panel, program = site_panels.build_panel(nb, cell, name)
            with limit_threads(1):
                frames = site_frames.render_frames(
                    panel, program, offered, ctx["frames"], ctx["cache"]
                )
    except Exception as exc:  # reported as a problem: the build fails
        record["problem"] = f"panel {name!r} in cell {cell}: {type(exc).__name__}: {exc}"
        return "", record
    record.update(
        offers=[o.name for o in frames.offers],
        frames=len(frames.frames),
        drawn=frames.drawn,
        errors=frames.errors,
        files=sorted(set(frames.frames.values())),
    )
    panel_id = f"course-site-panel-{len(ctx['panels'])}"
    return site_frames.panel_html(frames, ctx["prefix"] + "frames/", panel_id), record


def replace_widgets(nb, stem: str, ctx: dict) -> int:
    """Live panels become frame panels, other widgets (progress bars) are dropped; return those."""
    dropped = 0
    panels = {(c, o): name for c, o, name in site_panels.panel_cells(nb)}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kept = []
        for j, out in enumerate(cell.outputs):
            if (i, j) in panels:
                body, record = _panel_output(nb, stem, i, panels[(i, j)], ctx)
                ctx["panels"].append(record)
                if not body:
                    continue
                out.data = {"text/html": body}
                out.metadata = {}
            elif WIDGET_MIME in out.get("data", {}):
                dropped += 1
                continue
            kept.append(out)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)  # else myst-nb loads the widget manager from a CDN
    return dropped


def _write_if_changed(path: Path, text: str) -> None:
    """Keep the file (and its time stamp, which Sphinx reads) when the text is the same."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def stage(path: Path, relative: Path, ctx: dict) -> dict:
    """Write the notebook's page source into the generator's folder; return its record."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and not any(c.outputs for c in code):
        problems.append(
            f"{path.name}: no stored outputs; run `python tools/regenerate.py {path}` first."
        )
    markers = drop_test_markers(nb)
    ctx = {**ctx, "prefix": "../" * (len(relative.parts) - 1), "panels": []}
    bars = replace_widgets(nb, path.stem, ctx)
    problems += [f"{path.name}: {r['problem']}" for r in ctx["panels"] if "problem" in r]
    _write_if_changed(ctx["src"] / relative, nbformat.writes(nb))
    return {
        "notebook": path,
        "docname": relative.with_suffix("").as_posix(),
        "page": ctx["site"] / relative.with_suffix(".html"),
        "panels": ctx["panels"],
        "bars_dropped": bars,
        "markers_dropped": markers,
        "problems": problems,
    }


def index_source(records: list[dict]) -> str:
    """index.md: a short welcome and the course order (the sidebar and previous/next follow it)."""
    lessons = [r["docname"] for r in records if not r["docname"].startswith("solutions/")]
    solutions = [r["docname"] for r in records if r["docname"].startswith("solutions/")]
    parts = [
        f"# {COURSE_TITLE}\n",
        "The course's notebooks, in order, with the outputs stored in them: read them here, "
        "offline. Each live panel lets you move one or two of its sliders here, over pictures "
        "drawn in advance. To run the code and move every slider, download a notebook with the "
        "download button at the top of its page, or clone the repository and run `make lab`.\n",
        "```{toctree}\n:caption: Notebooks\n:maxdepth: 1\n\n" + "\n".join(lessons) + "\n```\n",
    ]
    if solutions:
        parts.append(
            "```{toctree}\n:caption: Solutions\n:maxdepth: 1\n\n" + "\n".join(solutions) + "\n```\n"
        )
    return "\n".join(parts)


def _prepare_work(work: Path, notebook_dir: Path) -> Path:
    """The generator's source folder, with figures/ beside it for markdown images."""
    src = work / "notebooks"
    src.mkdir(parents=True, exist_ok=True)
    figures, link = notebook_dir.parent / "figures", work / "figures"
    if figures.is_dir() and not link.exists():
        link.symlink_to(figures.resolve(), target_is_directory=True)
    return src


def _remove_stale(src: Path, keep: set[Path]) -> None:
    """Staged notebooks whose source is gone (renamed, deleted) leave the site."""
    for path in src.rglob("*.ipynb"):
        if path not in keep:
            path.unlink()


def run_sphinx(src: Path, site: Path, doctrees: Path) -> list[str]:
    """Sphinx's html build of ``src`` into ``site``; return its warnings."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    warnings = io.StringIO()
    # As sphinx-build does it: what Sphinx registers in docutils is undone after the build, so
    # that a second build in one process (the tests) starts clean.
    with patch_docutils(CONF_DIR), docutils_namespace():
        app = Sphinx(
            str(src),
            str(CONF_DIR),
            str(site),
            str(doctrees),
            "html",
            status=None,
            warning=warnings,
            freshenv=False,
        )
        app.build()
    text = re.sub(r"\x1b\[[0-9;]*m", "", warnings.getvalue())
    return [line for line in text.splitlines() if line.strip()]


def download_notebooks(records: list[dict], site: Path, notebook_dir: Path) -> None:
    """The download button's file: the repository's notebook, test-marker lines dropped."""
    for r in records:
        nb = nbformat.read(r["notebook"], as_version=4)
        drop_test_markers(nb)
        target = site / "_sources" / r["notebook"].relative_to(notebook_dir)
        _write_if_changed(target, nbformat.writes(nb))


class _Loads(HTMLParser):
    """What a page loads: scripts, stylesheets, images (frames included)."""

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.remote: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        url = a.get("src") if tag in ("script", "img", "iframe") else None
        if tag == "link" and "stylesheet" in (a.get("rel") or ""):
            url = a.get("href")
        if url and re.match(r"(https?:)?//", url):
            self.remote.append(url)
        if tag == "img" and url:
            self.images.append(url)
        if tag == "img" and "data-frames" in a:
            self.images += json.loads(a["data-frames"]).values()


def network_loads(body: str) -> list[str]:
    """Scripts, stylesheets, images, frames or imports that a page would fetch from the network."""
    parser = _Loads()
    parser.feed(body)
    return parser.remote + re.findall(r"""import\(\s*["']((?:https?:)?//[^"']+)""", body)


def page_weight(page: Path) -> int:
    """Bytes of the page and of every image it can show (each frame of its panels included)."""
    text = page.read_text(encoding="utf-8")
    parser = _Loads()
    parser.feed(text)
    files = {(page.parent / src.split("#")[0]).resolve() for src in parser.images}
    return len(text.encode()) + sum(f.stat().st_size for f in files if f.is_file())


def build(
    site: Path,
    notebook_dir: Path = REPO / "notebooks",
    cache: Path = site_frames.CACHE_DIR,
    work: Path = WORK_DIR,
) -> list[dict]:
    """Build the site into ``site``; return one record per page (with its problems).

    ``cache`` keeps the panels' frames between builds (see tools/site_frames.py); ``work`` keeps
    the generator's source folder and its parsed pages, so a second build redoes only what changed.
    """
    notebooks = course_notebooks(notebook_dir)
    if not notebooks:
        raise SystemExit(f"no notebooks found under {notebook_dir}")
    site.mkdir(parents=True, exist_ok=True)
    src = _prepare_work(work, notebook_dir)
    shutil.rmtree(site / "frames", ignore_errors=True)  # frames of earlier builds
    ctx = {"site": site, "src": src, "cache": cache, "frames": site / "frames"}
    records = []
    for path in notebooks:
        start = time.perf_counter()
        records.append(stage(path, path.relative_to(notebook_dir), ctx))
        records[-1]["stage_seconds"] = time.perf_counter() - start
    _remove_stale(src, {src / r["notebook"].relative_to(notebook_dir) for r in records})
    _write_if_changed(src / "index.md", index_source(records))
    start = time.perf_counter()
    warnings = run_sphinx(src, site, work / "doctrees")
    sphinx_seconds = time.perf_counter() - start
    download_notebooks(records, site, notebook_dir)
    site_frames.prune_cache(cache)
    for r in records:
        r["sphinx_seconds"] = sphinx_seconds
        r["problems"] += [w for w in warnings if f"{r['docname']}." in w]
        if not r["page"].is_file():
            r["problems"].append(f"{r['page'].name} was not written")
            continue
        body = r["page"].read_text(encoding="utf-8")
        r["page_bytes"] = len(body.encode())
        r["weight"] = page_weight(r["page"])
        if network_loads(body):
            r["problems"].append(f"{r['page'].name} loads {network_loads(body)}")
    others = [w for w in warnings if not any(f"{r['docname']}." in w for r in records)]
    if others:
        records[0]["problems"] += others
    return records


def describe(record: dict, site: Path) -> str:
    """One line per page: size with its images and frames, and the sliders each panel offers."""
    line = (
        f"{record['page'].relative_to(site)}: page {record.get('page_bytes', 0) / 1e6:.2f} MB, "
        f"with its images and frames {record.get('weight', 0) / 1e6:.2f} MB"
    )
    for panel in record["panels"]:
        if panel.get("note"):
            line += f"\n    panel {panel['name']}: a note (not named in site_panels.OFFERED)"
            continue
        offers = " x ".join(panel["offers"]) or "none"
        line += (
            f"\n    panel {panel['name']}: sliders {offers}, {panel['frames']} frames "
            f"({panel['drawn']} drawn now, in {record['stage_seconds']:.1f} s)"
        )
        line += "".join(f"\n    WARNING frame not drawn: {e}" for e in panel["errors"])
    if record["bars_dropped"]:
        line += f"\n    {record['bars_dropped']} stored progress bar(s) left out"
    return line


def site_bytes(site: Path) -> int:
    return sum(f.stat().st_size for f in site.rglob("*") if f.is_file())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "site", help="output folder")
    parser.add_argument(
        "--cache", type=Path, default=site_frames.CACHE_DIR, help="folder of cached panel frames"
    )
    parser.add_argument(
        "--work", type=Path, default=WORK_DIR, help="folder of the generator's sources and state"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records = build(args.out, cache=args.cache, work=args.work)
    for r in records:
        print(describe(r, args.out))
    panels = [p for r in records for p in r["panels"]]
    print(
        f"{len(records)} pages and index.html in {args.out}/ ({site_bytes(args.out) / 1e6:.0f} MB) "
        f"in {time.perf_counter() - start:.1f} s (Sphinx {records[0]['sphinx_seconds']:.1f} s); "
        f"{len(panels)} panels, {sum(p['frames'] for p in panels)} frames "
        f"({sum(p['drawn'] for p in panels)} drawn, the rest from the cache). "
        f"Open {args.out / 'index.html'}"
    )
    problems = [p for r in records for p in r["problems"]]
    for problem in problems:
        print(f"ERROR {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
