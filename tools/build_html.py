"""Render every notebook, with its stored outputs, to a static site (`make html`).

Usage: python tools/build_html.py [--out site]

Writes ``site/NN_topic.html`` for each numbered notebook, ``site/solutions/*.html`` for the
solution notebooks, and ``site/index.html`` listing them in course order. Nothing is executed:
the pages show the outputs committed with the notebooks (what CI checks with nbval). Every
image is embedded as a data URI, stored plots and markdown images (``figures/...``) alike, so
a page is one self-contained file a course site can publish as it is. A live slider panel
cannot work without a kernel, so its output becomes a short note pointing to the static figure
that precedes it and to ``make lab``. Links between notebooks (``x.ipynb``) point to the pages.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from course_utils.paths import REPO_ROOT

REPO = REPO_ROOT
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PANEL_NOTE = (
    '<div class="course-live-note" style="border-left:4px solid #1f77b4;padding:6px 12px;'
    'background:#f3f7fb;font-size:14px">Live panel: open this notebook in JupyterLab '
    "(<code>make lab</code>) to move the sliders. The figure above shows its default "
    "setting.</div>"
)


def course_notebooks(notebook_dir: Path) -> list[Path]:
    """Numbered notebooks in course order, then their solutions (also in course order)."""
    main = sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb"))
    solutions = sorted((notebook_dir / "solutions").glob("*.ipynb"))
    return main + solutions


def title_of(nb, fallback: str) -> str:
    """The first markdown heading of the notebook, without the leading #s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def replace_live_widgets(nb) -> int:
    """Swap each live-widget output for a note (no kernel on a static page); return the count."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if "data" in out and WIDGET_MIME in out.data:
                out.data = {"text/html": PANEL_NOTE}
                count += 1
    nb.metadata.pop("widgets", None)
    return count


def render(path: Path, out_path: Path, exporter: HTMLExporter) -> dict:
    """Write one notebook's page; return what the index and the checks need."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and not any(c.outputs for c in code):
        problems.append(
            f"{path.name}: no stored outputs; run `python tools/regenerate.py {path}` first."
        )
    panels = replace_live_widgets(nb)
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"path": str(path.parent), "name": path.stem}}
    )
    body = re.sub(r'href="([^":]+)\.ipynb(#[^"]*)?"', r'href="\1.html\2"', body)
    missing = re.findall(r'<img[^>]+src="(?!data:)([^"]+)"', body)
    if missing:
        problems.append(f"{path.name}: images not embedded (missing files?): {missing}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(body, encoding="utf-8")
    return {"title": title_of(nb, path.stem), "panels": panels, "problems": problems}


def write_index(site: Path, entries: list[tuple[str, str, str]]) -> None:
    """index.html: the notebooks in course order, then the solutions."""
    rows = {"notebook": [], "solution": []}
    for kind, href, title in entries:
        rows[kind].append(f'<li><a href="{html.escape(href)}">{html.escape(title)}</a></li>')
    solutions = (
        "<h2>Solutions</h2>\n<ul>\n" + "\n".join(rows["solution"]) + "\n</ul>"
        if rows["solution"]
        else ""
    )
    site.joinpath("index.html").write_text(
        f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Adaptive optimization: the notebooks</title>
<style>body{{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto;padding:0 1em;
line-height:1.5}} ul{{list-style:none;padding-left:0}} li{{margin:.4em 0}}</style></head>
<body>
<h1>Adaptive optimization: the notebooks</h1>
<p>Static pages rendered from the notebooks with their stored outputs. To run the code and move
the sliders, clone the repository and run <code>make lab</code>.</p>
<h2>Notebooks, in course order</h2>
<ul>
{chr(10).join(rows["notebook"])}
</ul>
{solutions}
</body></html>
""",
        encoding="utf-8",
    )


def build(site: Path, notebook_dir: Path = REPO / "notebooks") -> list[dict]:
    """Render every notebook into ``site``; return one record per page (with its problems)."""
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    site.mkdir(parents=True, exist_ok=True)
    records, entries = [], []
    for path in course_notebooks(notebook_dir):
        relative = path.relative_to(notebook_dir).with_suffix(".html")
        start = time.perf_counter()
        info = render(path, site / relative, exporter)
        kind = "solution" if relative.parts[0] == "solutions" else "notebook"
        entries.append((kind, relative.as_posix(), info["title"]))
        records.append(
            {
                "notebook": path,
                "page": site / relative,
                **info,
                "seconds": time.perf_counter() - start,
            }
        )
    if not records:
        raise SystemExit(f"no notebooks found under {notebook_dir}")
    write_index(site, entries)
    return records


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "site", help="output folder")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records = build(args.out)
    for r in records:
        note = f", {r['panels']} live panel(s) noted" if r["panels"] else ""
        print(f"{r['page'].relative_to(args.out)}: {r['seconds']:.1f} s{note}")
    print(
        f"{len(records)} pages and index.html in {args.out} ({time.perf_counter() - start:.1f} s)"
    )
    problems = [p for r in records for p in r["problems"]]
    for problem in problems:
        print(f"ERROR {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
