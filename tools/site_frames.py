"""Precomputed frames that let a live panel move on the static site.

For each live panel the site offers one or two sliders as HTML range inputs. Every combination
of their values (a small grid: ``PRIMARY_STEPS`` x ``SECONDARY_STEPS`` positions on the sliders'
own grids, the default always among them) is drawn at build time by the panel itself
(``panel.set(...)``, then the PNG the live panel would show), saved as ``frames/<hash>.png``, and
swapped in by a few lines of JavaScript when a range input moves; the page loads only the
default frame (lazily), the others when the reader asks for them. The remaining sliders stay at
their defaults, and the page lists them. The panels' style and script are the site's own static
files, tools/website/_static/course-site.css and course-site.js.

Frames are cached in ``.cache/site_frames/`` under a hash of everything that draws them: the
notebook's program that builds the panel, the source of every ``course_utils`` module it
reaches, matplotlib's version and the slider values. A rebuild after a notebook or lesson
module changed redraws only the frames of the panels that changed. Each panel's result (its
offered sliders, readouts and frame files) is cached too, under a hash of the same program and
sources, so that a build whose panels did not change does not even build them.
"""

from __future__ import annotations

import ast
import hashlib
import html
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import matplotlib

from course_utils.paths import REPO_ROOT

PRIMARY_STEPS = 9  # positions of the first offered slider
SECONDARY_STEPS = 4  # positions of the second
CACHE_DIR = REPO_ROOT / ".cache" / "site_frames"
FRAME_VERSION = "2"  # bump when the way frames are rendered or recorded changes


@dataclass
class Offer:
    """One offered slider: its keyword, label, and the values (with readouts) it steps through."""

    name: str
    label: str
    values: list
    readouts: list[str]
    default_index: int


@dataclass
class PanelFrames:
    """Everything the page needs to show one panel's frames."""

    title: str
    offers: list[Offer]
    fixed: list[tuple[str, str]]  # (label, readout) of the sliders that stay at their defaults
    frames: dict[str, str] = field(default_factory=dict)  # "i,j" -> frame file name
    errors: list[str] = field(default_factory=list)
    drawn: int = 0  # frames drawn now (the others came from the cache)


def js_format(value, spec: str | None) -> str:
    """A slider readout as the live panel shows it (d3-format's g, f, e and d, U+2212 minus)."""
    if isinstance(value, str):
        return value
    spec = spec or ".2f"
    precision = int(spec[1:-1]) if spec[1:-1].isdigit() else 6
    kind = spec[-1]
    if kind == "d":
        text = str(int(round(value)))
    elif kind == "f":
        text = f"{value:.{precision}f}"
    elif kind == "e":
        text = _js_exponent(f"{value:.{precision}e}")
    elif kind == "g":
        text = _js_precision(value, max(precision, 1))
    else:
        text = format(value, spec)
    return text.replace("-", "\u2212")


def _js_exponent(text: str) -> str:
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{'+' if int(exponent) >= 0 else '-'}{abs(int(exponent))}"


def _js_precision(value: float, p: int) -> str:
    """JavaScript's Number.toPrecision(p), which d3-format uses for ``g``."""
    if value == 0:
        return "0" if p == 1 else "0." + "0" * (p - 1)
    exponent = int(f"{value:.{p - 1}e}".split("e")[1])
    if exponent < -6 or exponent >= p:
        return _js_exponent(f"{value:.{p - 1}e}")
    return f"{value:.{max(0, p - 1 - exponent)}f}"


def slider_grid(widget) -> tuple[list, int] | None:
    """Every value the live slider can take, and the default's position; None if not a slider."""
    if hasattr(widget, "options") and hasattr(widget, "index"):
        values = [o[1] if isinstance(o, tuple) else o for o in widget.options]
        return values, widget.index
    if not all(hasattr(widget, a) for a in ("min", "max", "step")) or not widget.step:
        return None
    log = hasattr(widget, "base")
    value = math.log(widget.value, widget.base) if log else widget.value
    below = round((value - widget.min) / widget.step)
    above = round((widget.max - value) / widget.step)
    grid = [value + k * widget.step for k in range(-below, above + 1)]
    if log:
        grid = [widget.base**g for g in grid]
    if isinstance(widget.value, int) and not log:
        grid = [int(round(g)) for g in grid]
    grid[below] = widget.value
    return grid, below


def _pick(grid: list, default: int, count: int) -> tuple[list, int]:
    """``count`` evenly spaced grid values with both ends; the one nearest the default moves onto it."""
    if len(grid) <= count:
        return list(grid), default
    picks = [round(i * (len(grid) - 1) / (count - 1)) for i in range(count)]
    nearest = min(range(count), key=lambda i: abs(picks[i] - default))
    if nearest not in (0, count - 1) or picks[nearest] == default:
        picks[nearest] = default
    else:  # the default sits next to an end: keep the end, add the default
        picks = sorted({*picks, default})
    return [grid[p] for p in picks], picks.index(default)


def offers_for(panel, names: tuple[str, ...]) -> list[Offer]:
    """The offered sliders of ``panel``: ``names`` that exist, else its first numeric slider."""
    usable = {n: slider_grid(w) for n, w in panel.controls.items()}
    usable = {n: g for n, g in usable.items() if g is not None and len(g[0]) > 1}
    chosen = [n for n in names if n in usable][:2] or list(usable)[:1]
    offers = []
    for rank, name in enumerate(chosen):
        widget = panel.controls[name]
        count = PRIMARY_STEPS if rank == 0 else SECONDARY_STEPS
        values, default_index = _pick(*usable[name], count)
        readouts = [
            _option_label(widget, v) or js_format(v, getattr(widget, "readout_format", None))
            for v in values
        ]
        offers.append(Offer(name, widget.description, values, readouts, default_index))
    return offers


def _option_label(widget, value) -> str | None:
    for option in getattr(widget, "options", ()):
        if isinstance(option, tuple) and option[1] == value:
            return str(option[0])
    return None


def _readout(widget) -> str:
    return _option_label(widget, widget.value) or js_format(
        widget.value, getattr(widget, "readout_format", None)
    )


def code_sources(program: str) -> str:
    """The program and the source of every course_utils module it reaches (import by import)."""
    package = REPO_ROOT / "course_utils"
    seen, todo, texts = set(), ["widgets", "plotting"], [program]
    todo += _course_imports(program, "")
    while todo:
        name = todo.pop()
        path = package / f"{name}.py"
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        source = path.read_text(encoding="utf-8")
        texts.append(f"## {name}\n{source}")
        todo += _course_imports(source, name)
    return "\n".join(texts)


def _course_imports(source: str, _module: str) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1 or base.startswith("course_utils"):
                base = base.removeprefix("course_utils").lstrip(".")
                names += [base] if base else [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names += [
                a.name.removeprefix("course_utils.")
                for a in node.names
                if a.name.startswith("course_utils.")
            ]
    return [n.split(".")[0] for n in names]


def panel_key(program: str, names: tuple[str, ...]) -> str:
    """Hash of everything that decides a panel's frames and their record, short of building it."""
    return hashlib.sha256(
        f"{FRAME_VERSION}|{matplotlib.__version__}|{names!r}|".encode()
        + code_sources(program).encode()
    ).hexdigest()


def cached_frames(
    program: str, names: tuple[str, ...], out_dir: Path, cache_dir: Path = CACHE_DIR
) -> PanelFrames | None:
    """The panel's frames from the cache into ``out_dir``, without building the panel; None
    when the cache does not hold them all (then build the panel and call ``render_frames``)."""
    record = cache_dir / f"panel-{panel_key(program, names)[:20]}.json"
    if not record.is_file():
        return None
    data = json.loads(record.read_text(encoding="utf-8"))
    files = [cache_dir / name for name in data["frames"].values()]
    if not all(f.is_file() for f in files):
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in [*files, record]:
        f.touch()  # last use, for prune_cache
    for f in files:
        shutil.copyfile(f, out_dir / f.name)
    offers = [Offer(**o) for o in data.pop("offers")]
    return PanelFrames(**{**data, "offers": offers, "fixed": [tuple(f) for f in data["fixed"]]})


def render_frames(
    panel, program: str, names: tuple[str, ...], out_dir: Path, cache_dir: Path = CACHE_DIR
) -> PanelFrames:
    """Draw (or take from the cache) every frame of ``panel`` into ``out_dir``.

    Also records the result, so that the next build finds it with ``cached_frames``."""
    offers = offers_for(panel, names)
    offered = {o.name for o in offers}
    fixed = [(w.description, _readout(w)) for n, w in panel.controls.items() if n not in offered]
    result = PanelFrames(panel.title or "", offers, fixed)
    code_key = hashlib.sha256(
        f"{FRAME_VERSION}|{matplotlib.__version__}|{panel.figsize}|{panel.dpi}|".encode()
        + code_sources(program).encode()
    ).hexdigest()
    cache_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, values in _combinations(offers):
        settings = {**panel.defaults, **values}
        digest = hashlib.sha256(f"{code_key}|{sorted(settings.items())!r}".encode()).hexdigest()
        name = f"{digest[:20]}.png"
        cached = cache_dir / name
        error_file = cached.with_suffix(".error")  # a frame that could not be drawn says so
        if not cached.exists():
            panel.set(**settings)
            if panel.last_error:
                error_file.write_text(panel.last_error, encoding="utf-8")
            tmp = cached.with_suffix(".tmp")
            tmp.write_bytes(bytes(panel.image.value))
            tmp.replace(cached)
            result.drawn += 1
        if error_file.exists():
            result.errors.append(f"{values}: {error_file.read_text(encoding='utf-8')}")
        cached.touch()  # last use, for prune_cache
        shutil.copyfile(cached, out_dir / name)
        result.frames[key] = name
    panel.reset()
    record = {**asdict(result), "drawn": 0}
    tmp = cache_dir / f"panel-{panel_key(program, names)[:20]}.tmp"
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(tmp.with_suffix(".json"))
    return result


def prune_cache(cache_dir: Path, days: float = 7) -> int:
    """Delete cached frames no build has used for ``days`` days; return how many."""
    cutoff = time.time() - days * 86400
    old = [f for f in cache_dir.glob("*.png") if f.stat().st_mtime < cutoff]
    old += [f for f in cache_dir.glob("panel-*.json") if f.stat().st_mtime < cutoff]
    for f in old:
        f.unlink(missing_ok=True)
        f.with_suffix(".error").unlink(missing_ok=True)
    return len(old)


def _combinations(offers: list[Offer]):
    first = offers[0]
    second = offers[1] if len(offers) > 1 else None
    for i, v in enumerate(first.values):
        if second is None:
            yield str(i), {first.name: v}
            continue
        for j, w in enumerate(second.values):
            yield f"{i},{j}", {first.name: v, second.name: w}


def panel_html(frames: PanelFrames, frame_prefix: str, panel_id: str) -> str:
    """The panel as the site shows it: range inputs with readouts beside the swapped image."""
    default_key = ",".join(str(o.default_index) for o in frames.offers)
    rows = []
    for o in frames.offers:
        rows.append(
            '<label class="course-site-slider"><span class="course-site-label">'
            f"{html.escape(o.label)}</span>"
            f'<input type="range" min="0" max="{len(o.values) - 1}" step="1" '
            f'value="{o.default_index}" data-name="{html.escape(o.name)}" '
            f"data-readouts='{html.escape(json.dumps(o.readouts), quote=True)}' "
            f'aria-label="{html.escape(o.label)}">'
            f'<output class="course-site-readout">{html.escape(o.readouts[o.default_index])}'
            "</output></label>"
        )
    fixed = ", ".join(
        f"{html.escape(label)} = {html.escape(value)}" for label, value in frames.fixed
    )
    fixed_note = (
        f'<p class="course-site-fixed">The other sliders stay at their defaults here: {fixed}. '
        "Open the notebook in JupyterLab (<code>make lab</code>) to move every slider.</p>"
        if fixed
        else '<p class="course-site-fixed">Every slider of this panel is here; the pictures '
        "were drawn in advance for these positions.</p>"
    )
    mapping = {k: frame_prefix + v for k, v in frames.frames.items()}
    title = f"<b class='course-site-title'>{html.escape(frames.title)}</b>" if frames.title else ""
    return (
        f'<div class="course-site-panel" id="{panel_id}">'
        f'<div class="course-site-controls">{title}{"".join(rows)}{fixed_note}</div>'
        f'<img class="course-site-frame" loading="lazy" src="{mapping[default_key]}" '
        f'alt="{html.escape(frames.title or "panel")} at the sliders\' positions" '
        f"data-frames='{html.escape(json.dumps(mapping), quote=True)}'></div>"
    )
