"""One figure style for the whole course: readable on a projector, saved at 150 dpi.

Also ``TextCachingCanvas``, the Agg canvas of the live panels (``widgets``): it renders each text
once and reuses the bitmap, which halves a typical panel redraw.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib as mpl
import matplotlib.legend as mlegend
import matplotlib.ticker as mticker
import numpy as np
from matplotlib.backends import backend_agg
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

from .paths import figures_dir

COURSE_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "legend.fontsize": 10,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "lines.linewidth": 2.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.cmap": "viridis",
}

# One color per method, the same in every notebook.
OPTIMIZER_COLORS = {
    "gd": "#1f77b4",
    "sgd": "#1f77b4",
    "adagrad": "#2ca02c",
    "adam": "#d62728",
    "adamw": "#9467bd",
    "rmsprop": "#ff7f0e",
    "theory": "#555555",
}


def log_axis(ax, axis: str = "y", numticks: int = 7, powers_of_ten: bool = False) -> None:
    """Make ``ax``'s x or y axis logarithmic with major ticks only (minor ticks slow redraws).

    ``powers_of_ten=True`` labels the ticks 10^k in mathtext. Every log axis of the course uses this.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis={axis!r}: use 'x' or 'y'.")
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(mticker.LogLocator(base=10, numticks=numticks))
    target.set_minor_locator(mticker.NullLocator())
    if powers_of_ten:
        target.set_major_formatter(mticker.LogFormatterMathtext(base=10))


def use_course_style() -> None:
    """Apply the course's matplotlib style to every later figure."""
    mpl.rcParams.update(COURSE_STYLE)


def save_figure(fig, name: str, directory: str | Path | None = None) -> Path:
    """Save ``fig`` as ``NAME.png`` at 150 dpi in ``paths.figures_dir()`` (or ``directory``); return the path."""
    directory = Path(directory) if directory is not None else figures_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (name if name.endswith(".png") else f"{name}.png")
    # Fixed metadata keeps re-generated PNGs byte-stable between runs.
    fig.savefig(path, dpi=150, metadata={"Software": None})
    return path


def plot_contours(ax, loss_fn, xlim, ylim, levels=20, n=160, log_levels=True, cmap="Blues_r"):
    """Draw filled-free contour lines of ``loss_fn(W)`` (W of shape (..., 2)) on ``ax``."""
    xs = np.linspace(*xlim, n)
    ys = np.linspace(*ylim, n)
    X, Y = np.meshgrid(xs, ys)
    Z = loss_fn(np.stack([X, Y], axis=-1))
    if log_levels:
        positive = Z[Z > 0]
        lo = max(positive.min(), positive.max() * 1e-4) if positive.size else 1e-6
        level_values = np.geomspace(lo, Z.max(), levels)
    else:
        level_values = levels
    ax.contour(X, Y, Z, levels=level_values, cmap=cmap, linewidths=1.0)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    return ax


def plot_trajectory(ax, path, color="#d62728", label=None, marker="o", markersize=3, linestyle="-"):
    """Draw an optimisation path of shape (k+1, 2): line, points, start and end markers."""
    path = np.asarray(path)
    finite = np.all(np.isfinite(path), axis=1)
    path = path[finite]
    ax.plot(
        path[:, 0], path[:, 1], linestyle=linestyle, color=color, lw=1.5, label=label, alpha=0.9
    )
    ax.plot(path[:, 0], path[:, 1], marker, color=color, markersize=markersize, alpha=0.8)
    ax.plot(
        path[0, 0], path[0, 1], "s", color="black", markersize=7, label="start" if label else None
    )
    return ax


def annotate_divergence(ax, text="diverged", color="#b00020", y=0.5):
    """Write a large, unmistakable divergence notice in the middle of ``ax``; return the Text.

    Panels create it once with ``text=""`` and later ``set_text`` / ``set_visible`` it.
    """
    return ax.text(
        0.5,
        y,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=16,
        color=color,
        weight="bold",
        bbox=dict(facecolor="white", edgecolor=color, alpha=0.9, boxstyle="round"),
    )


def display_points(x, y, max_points: int = 1000):
    """(x, y) cut to at most about ``max_points`` points that draw the same line on screen.

    The series is split into ``max_points / 2`` runs of consecutive points and each run keeps
    its lowest and highest point, in their order (min-max decimation), plus the first and last
    point. With runs narrower than a pixel the drawn line covers the same pixels as the full
    series, for a fraction of the drawing time (a live panel's 8000-step curve costs 3 ms a
    line). NaNs (gaps) are kept where a whole run is NaN. Shorter series are returned as they are.
    """
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D and of one length, got {x.shape} and {y.shape}.")
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}.")
    n = y.size
    if n <= max_points:
        return x, y
    run = math.ceil(n / (max_points // 2))
    rows = n // run
    block = y[: rows * run].reshape(rows, run)
    finite = np.isfinite(block)
    low = np.where(finite, block, np.inf).argmin(axis=1)
    high = np.where(finite, block, -np.inf).argmax(axis=1)
    starts = np.arange(rows) * run
    keep = np.concatenate(
        (
            [0],
            (starts + np.minimum(low, high)),
            (starts + np.maximum(low, high)),
            np.arange(rows * run, n),
            [n - 1],
        )
    )
    keep = np.unique(keep)
    return x[keep], y[keep]


def show_image_grid(X, y, class_names, per_class: int = 6, seed: int = 0):
    """A grid of ``per_class`` images of every class (rows), with class names: returns the figure."""
    import matplotlib.pyplot as plt
    import torch

    g = torch.Generator().manual_seed(seed)
    fig, axes = plt.subplots(
        len(class_names), per_class, figsize=(per_class * 1.1, len(class_names) * 1.15)
    )
    for label, row in enumerate(axes):
        idx = torch.nonzero(y == label).squeeze(1)
        pick = idx[torch.randperm(len(idx), generator=g)[:per_class]]
        for ax, i in zip(row, pick):
            ax.imshow(X[i, 0].numpy(), cmap="gray_r", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
        row[0].set_ylabel(class_names[label], rotation=0, ha="right", va="center", fontsize=11)
    fig.suptitle("Fashion-MNIST: real training images, one row per class", fontsize=13)
    fig.tight_layout()
    return fig


class TextCachingRenderer(RendererAgg):
    """An Agg renderer that renders each (string, font, angle) once and then reuses the bitmap.

    matplotlib's Agg draws text glyph by glyph on every draw, about half of a panel's redraw.
    Here a text's coverage bitmap is made once, cropped, and afterwards stamped in the text's
    colour at its (whole-pixel) position. Texts at other angles than 0 and 90 degrees, and
    usetex, take matplotlib's own path.

    A text seen for the first time (a title or legend entry that shows a changing number) is
    assembled from cached glyph bitmaps where matplotlib offers its glyph API (3.11 and later,
    which renders every glyph through FreeType on every draw): each glyph of each font and size
    is rendered once per position on FreeType's 1/64-pixel grid, so the bitmap is exactly the
    one matplotlib draws, and a new plain string costs about half of matplotlib's own draw.
    Elsewhere, and for vertical text and formulas with bars, the string is rendered on a
    scratch canvas.
    """

    _CACHE_LIMIT = 4000
    _GLYPH_LIMIT = 20000
    _SUBPIXEL = 64  # glyph positions to 1/64 pixel, FreeType's own grid: pixel-exact text

    def __init__(self, width, height, dpi):
        super().__init__(width, height, dpi)
        self._text_cache: dict = {}
        self._height_cache: dict = {}
        self._glyph_cache: dict = {}

    def share_caches(self, other: TextCachingRenderer) -> None:
        """Use ``other``'s text, glyph and font caches (a scratch canvas of the same dpi)."""
        self._text_cache = other._text_cache
        self._height_cache = other._height_cache
        self._glyph_cache = other._glyph_cache

    def _get_font_height_metrics(self, prop):
        """(ascent, descent, line gap) of a font in pixels, once per font (``Text`` asks per draw).

        The computation is matplotlib's own (``Text._get_layout``), which looks the font up and
        reads its tables on every draw unless the renderer offers this method.
        """
        hit = self._height_cache.get(prop)
        if hit is None:
            hit = self._height_cache[prop] = _font_height_metrics(prop, self.dpi)
        return hit

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath == "TeX" or angle not in (0, 90):
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        extra = None if mtext is None else (mtext.get_language(), str(mtext.get_fontfeatures()))
        key = (s, prop, angle, ismath, gc.get_antialiased(), mpl.rcParams["text.hinting"], extra)
        hit = self._text_cache.get(key)
        if hit is None:
            if len(self._text_cache) > self._CACHE_LIMIT:
                self._text_cache.clear()
            hit = self._text_cache[key] = self._render_text(s, prop, angle, ismath, gc, mtext)
        coverage, left, top = hit
        if coverage.size:
            # draw_text_image takes the bitmap's left and bottom edges (y downwards).
            self._renderer.draw_text_image(
                coverage, round(x) - left, round(y) - top + coverage.shape[0], 0, gc
            )

    def _render_text(self, s, prop, angle, ismath, gc, mtext):
        """(coverage bitmap, anchor's column in it, anchor's row in it) of one text."""
        if angle == 0 and _HAS_GLYPH_API:
            glyphs = self._layout_glyphs(s, prop, ismath, gc, mtext)
            if glyphs is not None:
                return self._compose_glyphs(glyphs, gc.get_antialiased())
        return self._render_text_on_scratch(s, prop, angle, ismath, gc, mtext)

    def _layout_glyphs(self, s, prop, ismath, gc, mtext):
        """[(font, size, glyph index, dx, dy upwards)] as matplotlib's Agg draw places them.

        None where the text needs more than glyphs (a formula's fraction bar or root).
        """
        if ismath:
            parse = self.mathtext_parser.parse(s, self.dpi, prop, antialiased=gc.get_antialiased())
            if parse.rects:
                return None
            return [(font, size, index, dx, dy) for font, size, _, index, dx, dy in parse.glyphs]
        font = self._prepare_font(prop)
        items = font._layout(
            s,
            flags=backend_agg.get_hinting_flag(),
            features=mtext.get_fontfeatures() if mtext is not None else None,
            language=mtext.get_language() if mtext is not None else None,
        )
        size = prop.get_size_in_points()
        return [(item.ft_object, size, item.glyph_index, item.x, item.y) for item in items]

    def _glyph(self, font, size, index, fx: int, fy: int, antialiased: bool):
        """(coverage, left, top) of one glyph drawn at (fx, fy)/_SUBPIXEL px from the origin."""
        flags = backend_agg.get_hinting_flag()
        key = (font.fname, font.face_index, size, self.dpi, index, fx, fy, antialiased, flags)
        hit = self._glyph_cache.get(key)
        if hit is None:
            if len(self._glyph_cache) > self._GLYPH_LIMIT:
                self._glyph_cache.clear()
            font.set_size(size, self.dpi)
            scale = 64 // self._SUBPIXEL
            font._set_transform(_IDENTITY_16_16, [fx * scale, fy * scale])
            mode = _RenderMode.NORMAL if antialiased else _RenderMode.MONO
            bitmap = font._render_glyph(index, flags, mode)
            coverage = np.array(bitmap.buffer, dtype=np.uint8, copy=True)
            if not antialiased:
                coverage *= 0xFF
            font._set_transform(_IDENTITY_16_16, [0, 0])
            hit = self._glyph_cache[key] = (coverage, bitmap.left, bitmap.top)
        return hit

    def _compose_glyphs(self, glyphs, antialiased: bool):
        """One coverage bitmap from cached glyphs, with the anchor (baseline start) at (0, 0)."""
        placed = []
        for font, size, index, dx, dy in glyphs:
            qx, qy = round(dx * self._SUBPIXEL), round(dy * self._SUBPIXEL)
            ix, fx = divmod(qx, self._SUBPIXEL)
            iy, fy = divmod(qy, self._SUBPIXEL)
            coverage, left, top = self._glyph(font, size, index, fx, fy, antialiased)
            if coverage.size:
                placed.append((coverage, ix + left, -(iy + top)))  # column, row (downwards)
        if not placed:
            return np.zeros((0, 0), np.uint8), 0, 0
        c0 = min(col for _, col, _ in placed)
        r0 = min(row for _, _, row in placed)
        c1 = max(col + cov.shape[1] for cov, col, _ in placed)
        r1 = max(row + cov.shape[0] for cov, _, row in placed)
        out = np.zeros((r1 - r0, c1 - c0), np.uint8)
        for cov, col, row in placed:
            region = out[row - r0 : row - r0 + cov.shape[0], col - c0 : col - c0 + cov.shape[1]]
            np.maximum(region, cov, out=region)
        return out, -c0, -r0

    def _render_text_on_scratch(self, s, prop, angle, ismath, gc, mtext):
        """The text drawn by matplotlib on a canvas of its own, then cropped."""
        w, h, d = self.get_text_width_height_descent(s, prop, ismath)
        pad = math.ceil(prop.get_size_in_points() * self.dpi / 72) + 2
        ascent = math.ceil(h - d)
        if angle == 0:
            size, (ox, oy) = (math.ceil(w) + 2 * pad, math.ceil(h) + 2 * pad), (pad, pad + ascent)
        else:  # 90 degrees: the text runs upwards from the anchor
            size = (math.ceil(h) + 2 * pad, math.ceil(w) + 2 * pad)
            ox, oy = pad + ascent, pad + math.ceil(w)
        scratch = RendererAgg(size[0], size[1], self.dpi)
        black = scratch.new_gc()
        black.copy_properties(gc)
        black.set_foreground("black")
        black.set_alpha(1.0)
        RendererAgg.draw_text(scratch, black, ox, oy, s, prop, angle, ismath=ismath, mtext=mtext)
        black.restore()
        alpha = np.asarray(scratch.buffer_rgba())[..., 3]
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        if not rows.size:
            return np.zeros((0, 0), np.uint8), 0, 0
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        return np.ascontiguousarray(alpha[r0:r1, c0:c1]), ox - c0, oy - r0


_IDENTITY_16_16 = np.array([[0x10000, 0], [0, 0x10000]])
try:
    from matplotlib.ft2font import FT2Font as _FT2Font
    from matplotlib.ft2font import RenderMode as _RenderMode
except ImportError:  # matplotlib before 3.11 has no glyph API; the scratch canvas is used
    _FT2Font = _RenderMode = None
_HAS_GLYPH_API = (
    _RenderMode is not None
    and all(hasattr(_FT2Font, name) for name in ("_layout", "_render_glyph", "_set_transform"))
    and hasattr(backend_agg, "get_hinting_flag")
)


def _font_height_metrics(prop, dpi):
    from matplotlib.font_manager import fontManager, get_font

    font = get_font(fontManager._find_fonts_by_props(prop))
    for table_name, gap, ascent, descent in (
        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
        ("hhea", "lineGap", "ascent", "descent"),
    ):
        table = font.get_sfnt_table(table_name)
        if table is not None:
            scale = prop.get_size_in_points() * dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
            return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
    return None, None, None


class TextCachingCanvas(FigureCanvasAgg):
    """FigureCanvasAgg with a TextCachingRenderer (kept while size and dpi stay the same).

    With ``reuse_axes = True`` (the live panels) a draw also reuses the axes' frames, ticks, tick
    labels and grids while no axes has moved or changed its limits, scales or labels since the
    previous draw: the second such draw saves a picture of just those parts, and later ones
    restore it and draw only the data, titles, notes and legends over it (matplotlib's blitting).
    Data drawn below the grid (zorder < 1.5: contours, fills) then lands above it, a difference
    of a few faint grid pixels.
    """

    reuse_axes = False

    def __init__(self, figure=None):
        super().__init__(figure)
        self._signature = None
        self._background = None
        self._title_places: dict = {}
        self._legends: dict = {}

    @property
    def axes_saved(self) -> bool:
        """True while the next draw can restore the saved frames, ticks and grids (no new ticks)."""
        return self._background is not None

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = TextCachingRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer

    def draw(self):
        signature = _axes_signature(self.figure) if self.reuse_axes else None
        if signature is None or signature != self._signature:
            self._signature, self._background = signature, None
            super().draw()
            self._title_places = _title_places(self.figure)
            return
        dynamic = _dynamic_artists(self.figure)
        if self._background is None:  # the layout repeats: save the frames, ticks and grids
            shown = [a for a in dynamic if a.get_visible()]
            for artist in shown:
                artist.set_visible(False)
            try:
                super().draw()
            finally:
                for artist in shown:
                    artist.set_visible(True)
            self._background = self.renderer.copy_from_bbox(self.figure.bbox)
        renderer = self.get_renderer()
        renderer.restore_region(self._background)
        self._place_titles(renderer)
        for artist in dynamic:
            if isinstance(artist, mlegend.Legend) and artist.get_visible():
                self._draw_legend(artist, renderer)
            else:
                artist.draw(renderer)
        self.figure.stale = False

    def _place_titles(self, renderer) -> None:
        """Put the axes titles where the last full draw placed them (the axes have not moved).

        ``Axes.draw`` recomputes them from the tick labels' extents on every draw, a tenth of a
        redraw; ``set_title`` resets them, so they are set back here. A title that was empty at
        the last full draw has no place yet and gets matplotlib's own placement.
        """
        places = _title_places(self.figure)
        if places.keys() != self._title_places.keys():
            for ax in self.figure.axes:
                ax._update_title_position(renderer)
            self._title_places = places
            return
        for title, position in self._title_places.values():
            title.set_position(position)

    def _draw_legend(self, legend, renderer) -> None:
        """Draw a legend from a cached picture of it while its content and place are unchanged.

        A legend's layout is computed in Python on every draw (a fifth of a redraw). Here an
        unchanged legend (texts, handles, frame and place) is drawn once on a transparent canvas
        and then composited. A legend that changes from one draw to the next (a number in a
        label) is drawn directly until it stays the same; ``loc="best"`` legends, which move
        with the data, are always drawn.
        """
        key = _legend_signature(legend)
        hit = self._legends.get(id(legend))
        if key is None:
            return legend.draw(renderer)
        if hit is not None and hit[0] != key:  # changed since the last draw: cache it once it stays
            self._legends[id(legend)] = (key, None, 0, 0)
            return legend.draw(renderer)
        if hit is None or hit[1] is None:
            w, h = renderer.get_canvas_width_height()
            scratch = TextCachingRenderer(int(w), int(h), renderer.dpi)
            scratch.share_caches(renderer)
            legend.draw(scratch)
            box = legend.get_window_extent(scratch)
            x0, y0 = max(0, math.floor(box.x0) - 2), max(0, math.floor(box.y0) - 2)
            x1, y1 = min(int(w), math.ceil(box.x1) + 2), min(int(h), math.ceil(box.y1) + 2)
            rgba = np.asarray(scratch.buffer_rgba())[int(h) - y1 : int(h) - y0, x0:x1]
            hit = self._legends[id(legend)] = (key, np.ascontiguousarray(rgba[::-1]), x0, y0)
        _, picture, x0, y0 = hit
        if picture.size:
            gc = renderer.new_gc()
            renderer.draw_image(gc, x0, y0, picture)
            gc.restore()


def _title_places(fig) -> dict:
    """{(axes id, which): (title, position)} of every non-empty axes title."""
    return {
        (id(ax), k): (title, title.get_position())
        for ax in fig.axes
        for k, title in enumerate((ax.title, ax._left_title, ax._right_title))
        if title.get_text()
    }


def _legend_signature(legend):
    """What a legend's picture depends on; None for ``loc="best"`` (it follows the data)."""
    if legend._loc == 0:
        return None
    texts = tuple(
        (t.get_text(), t.get_visible(), t.get_color(), t.get_fontsize()) for t in legend.texts
    )
    handles = tuple(
        (type(h).__name__, h.get_visible(), h.get_alpha(), *_handle_style(h))
        for h in legend.legend_handles
        if h is not None
    )
    frame = legend.get_frame()
    return (
        texts,
        handles,
        legend._loc,
        legend.get_bbox_to_anchor().bounds,
        legend.get_frame_on(),
        tuple(frame.get_facecolor()),
        tuple(frame.get_edgecolor()),
        legend.get_alpha(),
        legend.axes.bbox.bounds if legend.axes is not None else None,
    )


def _handle_style(handle) -> tuple:
    style = []
    for getter in (
        "get_color",
        "get_facecolor",
        "get_edgecolor",
        "get_linestyle",
        "get_linewidth",
        "get_marker",
        "get_markersize",
    ):
        if hasattr(handle, getter):
            value = getattr(handle, getter)()
            style.append(
                tuple(np.ravel(value).tolist()) if isinstance(value, np.ndarray) else value
            )
    return tuple(style)


def _axes_signature(fig) -> tuple:
    """What the frames, ticks and grids depend on; equal signatures draw identical axes."""
    parts = [tuple(fig.get_size_inches()), fig.dpi]
    for ax in fig.axes:
        parts.append(
            (
                id(ax),
                ax.get_visible(),
                ax.axison,
                ax.get_position(original=True).bounds,
                ax.get_xlim(),
                ax.get_ylim(),
                ax.get_xscale(),
                ax.get_yscale(),
                ax.get_xlabel(),
                ax.get_ylabel(),
                ax.get_aspect(),
            )
        )
    return tuple(parts)


def _dynamic_artists(fig) -> list:
    """Every artist but the axes' background, spines, ticks and grids, in drawing order."""
    dynamic = []
    for ax in sorted(fig.axes, key=lambda a: a.get_zorder()):
        static = {ax.patch, ax.xaxis, ax.yaxis, *ax.spines.values()}
        children = [c for c in ax.get_children() if c not in static and c not in fig.axes]
        dynamic += sorted(children, key=lambda c: c.get_zorder())
    own = [*fig.lines, *fig.patches, *fig.texts, *fig.images, *fig.legends, *fig.artists]
    own += [t for t in (fig._suptitle, fig._supxlabel, fig._supylabel) if t is not None]
    return dynamic + sorted(own, key=lambda c: c.get_zorder())
