"""Render every notebook, with its stored outputs, to a static site that works offline (`make html`).

Usage: python tools/build_html.py [--out site] [--cache .cache/site_frames] [--no-frames]

Writes ``site/NN_topic.html`` for each numbered notebook, ``site/solutions/*.html`` for the
solution notebooks, and ``site/index.html`` listing them in course order. The notebooks are not
executed: the pages show the outputs committed with them (what CI checks with nbval), every
stored plot and markdown image (``figures/...``) embedded as a data URI. Formulas are typeset by
the MathJax that ``jupyter-server-mathjax`` ships, copied to ``site/mathjax/``; no page loads
anything from the network (require.js, which only widgets need, is left out).

A live panel cannot work without a kernel, so the site offers its one or two most telling
sliders as range inputs that swap frames drawn at build time by the panel itself (see
tools/site_frames.py and tools/site_panels.py); frames are PNG files under ``site/frames/``,
loaded when a slider asks for them, and cached between builds. Progress bars (tqdm widgets) are
dropped: a stored bar is only its first frame. Links between notebooks point to the pages.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from pathlib import Path

import jupyter_server_mathjax
import nbformat
import site_frames  # tools/ is on sys.path when this file runs as a script
import site_panels
from nbconvert import HTMLExporter

from course_utils.cli import limit_threads
from course_utils.paths import REPO_ROOT

REPO = REPO_ROOT
WIDGET_MIME = site_panels.WIDGET_MIME
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
# The package ships MathJax's STIX-Web fonts only (MathJax would look for its TeX fonts).
MATHJAX_FONTS = (
    '<script>window.MathJax = {"HTML-CSS": {availableFonts: ["STIX-Web"], '
    'preferredFont: "STIX-Web", webFont: "STIX-Web", imageFont: null}};</script>'
)
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


def _panel_output(nb, stem: str, cell: int, name: str | None, ctx: dict) -> tuple[str, dict]:
    """The site's version of one live panel, and its record; the plain note if it cannot be built."""
    record = {"name": name, "offers": [], "frames": 0, "drawn": 0, "errors": []}
    try:
        if name is None:
            raise LookupError("the display cell shows no expression")
        panel, program = site_panels.build_panel(nb, cell, name)
        offered = site_panels.OFFERED.get((stem, name), ())
        with limit_threads(1):
            frames = site_frames.render_frames(
                panel, program, offered, ctx["site"] / "frames", ctx["cache"]
            )
    except Exception as exc:  # a panel the site cannot rebuild still gets its note
        record["problem"] = f"panel {name!r} in cell {cell}: {type(exc).__name__}: {exc}"
        return PANEL_NOTE, record
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
    """Live panels become frame panels (or a note), progress bars are dropped; return bars dropped."""
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
                out.data = {"text/html": body}
            elif "data" in out and WIDGET_MIME in out.data:
                dropped += 1
                continue
            kept.append(out)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)
    return dropped


def _drop_script_with(body: str, marker: str) -> str:
    """Remove the inline <script> element whose text contains ``marker`` (if any)."""
    at = body.find(marker)
    if at < 0:
        return body
    start, end = body.rfind("<script", 0, at), body.find("</script>", at)
    return body[:start] + body[end + len("</script>") :]


def _offline_page(body: str, exporter: HTMLExporter, with_panels: bool) -> str:
    """Drop require.js (only widgets need it) and the mermaid loader (a CDN import; the course
    has no diagrams), point MathJax at its fonts, add the panels' style and script."""
    body = body.replace(f'<script src="{exporter.require_js_url}"></script>', "")
    if not re.search(r'class="[^"]*jp-Mermaid', body):  # the stylesheet names it too
        body = _drop_script_with(body, exporter.mermaid_js_url)
    mathjax = f'<script src="{exporter.mathjax_url}">'
    body = body.replace(mathjax, MATHJAX_FONTS + "\n" + mathjax, 1)
    if with_panels:
        body = body.replace("</head>", site_frames.PANEL_STYLE + "\n</head>", 1)
        body = body.replace("</body>", site_frames.PANEL_SCRIPT + "\n</body>", 1)
    return body


def _network_loads(body: str) -> list[str]:
    """Scripts, stylesheets, images, frames or imports that a page would fetch from the network."""
    tags = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', body)
    return tags + re.findall(r"""import\(\s*["']((?:https?:)?//[^"']+)""", body)


def render(path: Path, out_path: Path, exporter: HTMLExporter, ctx: dict) -> dict:
    """Write one notebook's page; return what the index and the checks need."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and not any(c.outputs for c in code):
        problems.append(
            f"{path.name}: no stored outputs; run `python tools/regenerate.py {path}` first."
        )
    ctx = {**ctx, "prefix": "../" * (len(out_path.relative_to(ctx["site"]).parts) - 1)}
    ctx["panels"] = []
    bars = replace_widgets(nb, path.stem, ctx)
    exporter.mathjax_url = f"{ctx['prefix']}mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"path": str(path.parent), "name": path.stem}}
    )
    body = _offline_page(body, exporter, bool(ctx["panels"]))
    body = re.sub(r'href="([^":]+)\.ipynb(#[^"]*)?"', r'href="\1.html\2"', body)
    missing = re.findall(r'<img[^>]+src="(?!data:|(?:\.\./)*frames/)([^"]+)"', body)
    if missing:
        problems.append(f"{path.name}: images not embedded (missing files?): {missing}")
    if _network_loads(body):
        problems.append(f"{path.name}: loads from the network: {_network_loads(body)}")
    problems += [f"{path.name}: {r['problem']}" for r in ctx["panels"] if "problem" in r]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(body, encoding="utf-8")
    frame_bytes = sum(
        (ctx["site"] / "frames" / f).stat().st_size
        for f in {f for r in ctx["panels"] for f in r.get("files", ())}
    )
    return {
        "title": title_of(nb, path.stem),
        "panels": ctx["panels"],
        "bars_dropped": bars,
        "problems": problems,
        "page_bytes": len(body.encode()),
        "frame_bytes": frame_bytes,
    }


def copy_mathjax(site: Path) -> Path:
    """MathJax 2 from the jupyter-server-mathjax package into site/mathjax (offline formulas)."""
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = site / "mathjax"
    if not (target / "MathJax.js").is_file():
        shutil.copytree(source, target, dirs_exist_ok=True)
    return target


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
<p>Pages rendered from the notebooks with their stored outputs; they work offline. Each live
panel lets you move one or two of its sliders here, over pictures drawn in advance. To run the
code and move every slider, clone the repository and run <code>make lab</code>.</p>
<h2>Notebooks, in course order</h2>
<ul>
{chr(10).join(rows["notebook"])}
</ul>
{solutions}
</body></html>
""",
        encoding="utf-8",
    )


def build(
    site: Path,
    notebook_dir: Path = REPO / "notebooks",
    cache: Path = site_frames.CACHE_DIR,
) -> list[dict]:
    """Render every notebook into ``site``; return one record per page (with its problems).

    ``cache`` keeps the panels' frames between builds (see tools/site_frames.py).
    """
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    site.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(site / "frames", ignore_errors=True)  # frames of earlier builds
    copy_mathjax(site)
    ctx = {"site": site, "cache": cache}
    records, entries = [], []
    for path in course_notebooks(notebook_dir):
        relative = path.relative_to(notebook_dir).with_suffix(".html")
        start = time.perf_counter()
        info = render(path, site / relative, exporter, ctx)
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
    site_frames.prune_cache(cache)
    return records


def describe(record: dict, site: Path) -> str:
    """One line per page: time, size, frames, and the sliders each panel offers."""
    line = (
        f"{record['page'].relative_to(site)}: {record['seconds']:.1f} s, "
        f"page {record['page_bytes'] / 1e6:.2f} MB"
    )
    if record["panels"]:
        line += f" + frames {record['frame_bytes'] / 1e6:.2f} MB (loaded on demand)"
    for panel in record["panels"]:
        offers = " x ".join(panel["offers"]) or "none (plain note)"
        line += (
            f"\n    panel {panel['name']}: sliders {offers}, {panel['frames']} frames "
            f"({panel['drawn']} drawn now)"
        )
        line += "".join(f"\n    WARNING frame not drawn: {e}" for e in panel["errors"])
    if record["bars_dropped"]:
        line += f"\n    {record['bars_dropped']} stored progress bar(s) left out"
    return line


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "site", help="output folder")
    parser.add_argument(
        "--cache", type=Path, default=site_frames.CACHE_DIR, help="folder of cached panel frames"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records = build(args.out, cache=args.cache)
    for r in records:
        print(describe(r, args.out))
    panels = [p for r in records for p in r["panels"]]
    print(
        f"{len(records)} pages and index.html in {args.out.name}/ in "
        f"{time.perf_counter() - start:.1f} s; {len(panels)} panels, "
        f"{sum(p['frames'] for p in panels)} frames ({sum(p['drawn'] for p in panels)} drawn, "
        "the rest from the cache)"
    )
    problems = [p for r in records for p in r["problems"]]
    for problem in problems:
        print(f"ERROR {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
