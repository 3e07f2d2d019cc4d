"""The slider-panel building block every notebook reuses.

A panel is a drawing function ``draw(fig, **values)`` plus named sliders. It shows

* a static figure at the default values (``panel.static_figure()``), so a notebook reads well on
  GitHub and in HTML, and
* a live panel (``display(panel)``): sliders beside the figure, each labelled with its symbol
  and value, a reset button, and the figure rendered straight to PNG with the Agg canvas (no
  pyplot, no Output widget), which keeps a redraw in tens of milliseconds.

Sized for a projector: at 1280x720 in JupyterLab with the file browser open, the notebook's
output column is about 850 px wide and 600 px tall. The live figure is therefore at most
``LIVE_WIDTH_IN`` wide and as tall as the sliders leave room for (``live_figsize``), drawn at
90 dpi with no text under 12 pt (15 px, the size of the slider text). Where the window is too
narrow for sliders and figure side by side, the sliders wrap into two columns above the figure.
The static figure keeps the drawing's own (wider) ``figsize``.

Text is the slow part of an Agg redraw (matplotlib renders each glyph on each draw), so the
live canvas caches each text's rendered bitmap and reuses it while string, font and angle stay
the same: tick labels, axis labels and legends cost almost nothing after the first redraw.

For the fastest redraws pass instead an object with ``setup(fig) -> state`` (create the axes
and artists once) and ``update(state, **values)`` (change their data): the panel then never
clears the figure, so matplotlib reuses axes, ticks and text instead of rebuilding them.

Every redraw is timed (``panel.timings_ms``, wall clock; ``panel.cpu_ms``, CPU time of the
kernel's thread, which a busy machine inflates much less). A drawing function should show
divergence on the figure itself; if it raises anyway, the panel shows the message in red instead
of a traceback (``panel.last_error`` keeps it for tests).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import math
import struct
import time
import warnings
import weakref
import zlib
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.text as mtext
import numpy as np
from matplotlib.figure import Figure

from .plotting import COURSE_STYLE, TextCachingCanvas

_REGISTRY: list = []  # weak references to every panel made in this kernel (for tests)


def all_panels() -> list:
    """Every SliderPanel still alive in this kernel, in creation order (used by the tests)."""
    return [p for p in (ref() for ref in _REGISTRY) if p is not None]


_LIVE_LIMIT_MS = 300.0  # "auto": slower redraws switch dragging to redraw-on-release
_LABEL_WIDTH = "130px"
_SLIDER_LAYOUT = dict(width="400px")
LIVE_DPI = 90  # 12 pt = 15 px
MIN_FONT_PT = 12.0  # no live figure text smaller than this
LIVE_WIDTH_IN = 9.2  # 828 px: the output column at 1280x720 with the file browser open
_OUTPUT_HEIGHT_PX = 590  # the notebook's visible height at 1280x720, less margins
_ROW_PX = 36  # one row of sliders (28 px widget, margins)
_HEADER_PX = 34  # the panel title
# Projector-sized text for the sliders of every panel (the page default is 13 px). The sidebar
# holds the title, the controls and the reset button; it sits beside the figure when the output
# is wide enough and otherwise spans the width above it, with the controls in two columns.
_PANEL_CSS = """<style>
.course-slider-panel .widget-label, .course-slider-panel .widget-readout,
.course-slider-panel .widget-dropdown select, .course-slider-panel .widget-button,
.course-slider-panel .widget-html-content, .course-slider-panel .widget-toggle-button {
  font-size: 15px;
}
.course-panel-sidebar > .widget-slider, .course-panel-sidebar > .widget-dropdown,
.course-panel-sidebar > .widget-checkbox { margin-right: 12px; }
</style>"""


def live_figsize(figsize, n_controls: int) -> tuple[float, float]:
    """The live figure's size in inches: ``figsize`` cut to fit 1280x720 beside/below the sliders.

    Width at most ``LIVE_WIDTH_IN``; height at most what is left of the visible notebook height
    after the title and the sliders (two to a row, plus the reset button) when they sit above
    the figure. Never taller than ``figsize`` asks for, and at least 2.8 inches.
    """
    width, height = figsize
    rows = math.ceil((n_controls + 1) / 2)
    room_px = _OUTPUT_HEIGHT_PX - _HEADER_PX - rows * _ROW_PX
    return min(width, LIVE_WIDTH_IN), max(2.8, min(height, room_px / LIVE_DPI))


def _style():
    return {"description_width": _LABEL_WIDTH}


def _nice_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) near span/100, so readouts stay short."""
    import math

    raw = span / 100
    exponent = math.floor(math.log10(raw))
    mantissa = raw / 10**exponent
    nice = 1 if mantissa < 1.5 else 2 if mantissa < 3.5 else 5 if mantissa < 7.5 else 10
    return nice * 10**exponent


def float_slider(
    label: str,
    value: float,
    min: float,
    max: float,
    step: float | None = None,
    readout_format: str = ".3g",
) -> widgets.FloatSlider:
    """A linear slider whose label names the symbol, e.g. ``float_slider("α·λ_max", 1.0, 0.05, 2.1)``."""
    step = step if step is not None else _nice_step(max - min)
    return widgets.FloatSlider(
        value=value,
        min=min,
        max=max,
        step=step,
        description=label,
        readout_format=readout_format,
        style=_style(),
        layout=widgets.Layout(**_SLIDER_LAYOUT),
    )


def log_slider(
    label: str,
    value: float,
    min: float,
    max: float,
    steps_per_decade: int = 20,
    readout_format: str = ".3g",
) -> widgets.FloatLogSlider:
    """A log-scale slider between ``min`` and ``max`` (positive), e.g. for κ or learning rates.

    The grid of 10^(1/steps_per_decade) steps passes through the default ``value``: the browser
    snaps a slider to its grid, so an off-grid default (2.0 on a grid from 0.01) would come back
    as 1.995 after "Reset to defaults". min and max move inwards to the nearest grid points.
    """
    import math

    if not 0 < min <= value <= max:
        raise ValueError(
            f"log_slider {label!r}: need 0 < min <= value <= max, got {min}, {value}, {max}."
        )
    below = math.floor(steps_per_decade * math.log10(value / min) + 1e-9)
    above = math.floor(steps_per_decade * math.log10(max / value) + 1e-9)
    centre = math.log10(value)
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=centre - below / steps_per_decade,
        max=centre + above / steps_per_decade,
        step=1 / steps_per_decade,
        description=label,
        readout_format=readout_format,
        style=_style(),
        layout=widgets.Layout(**_SLIDER_LAYOUT),
    )


def int_slider(label: str, value: int, min: int, max: int, step: int = 1) -> widgets.IntSlider:
    """An integer slider, e.g. for the number of steps."""
    return widgets.IntSlider(
        value=value,
        min=min,
        max=max,
        step=step,
        description=label,
        style=_style(),
        layout=widgets.Layout(**_SLIDER_LAYOUT),
    )


class SliderPanel(widgets.HBox):
    """Sliders driving a fast redraw of one matplotlib figure.

    Parameters
    ----------
    draw : callable ``draw(fig, **values)`` that adds axes to an empty figure and plots.
    controls : mapping of keyword name -> widget (slider, dropdown, checkbox...).
    figsize : size in inches of the static figure; the live figure is ``live_figsize(figsize)``
        (``panel.figsize``; ``panel.static_figsize`` keeps the argument).
    dpi : pixels per inch of the live image (90: 12 pt text is 15 px).
    continuous_update : True redraws while dragging; False only on release. ``"auto"`` (the
        default) starts live and switches to redraw-on-release while the recent redraws take
        over 300 ms (and back when they are fast again). Live dragging cannot queue stale
        redraws: the widget front end keeps at most one value in flight per slider and sends
        only the latest one when the kernel is free, so the final picture follows the release
        within about one redraw (measured by tests/browser).
    """

    def __init__(
        self,
        draw: Callable,
        controls: dict,
        figsize=(11, 4.6),
        dpi: int = LIVE_DPI,
        continuous_update: bool | str = "auto",
        title: str | None = None,
    ):
        self.draw_fn = draw
        self.title = title
        self.controls = dict(controls)
        self.defaults = {name: w.value for name, w in self.controls.items()}
        self.static_figsize = tuple(figsize)
        self.figsize = live_figsize(figsize, len(self.controls))
        self.dpi = dpi
        self.timings_ms: list[float] = []
        self.cpu_ms: list[float] = []
        self.last_error: str | None = None
        self.draw_count = 0

        self._fig = Figure(figsize=self.figsize, dpi=dpi)
        TextCachingCanvas(self._fig).reuse_axes = True
        self._incremental = hasattr(draw, "setup") and hasattr(draw, "update")
        self._state = None
        sidebar = self._build_controls(title)
        # Sliders beside the figure where both fit; in a narrower output the figure wraps below
        # them at full size (the sliders then take two columns) instead of shrinking to a stamp.
        super().__init__(
            [sidebar, self.image],
            layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap"),
        )
        # Stable hooks for the browser tests: every panel, and this panel by creation index.
        self.panel_index = len(_REGISTRY)
        self.add_class("course-slider-panel")
        self.add_class(f"course-panel-{self.panel_index}")

        self._muted = False
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        if continuous_update not in (True, False, "auto"):
            raise ValueError(f"continuous_update={continuous_update!r}: use True, False or 'auto'.")
        self._auto_live = continuous_update == "auto"
        self._set_live(continuous_update is not False)
        self.redraw()
        _REGISTRY.append(weakref.ref(self))
        _freeze_old_objects()

    def _build_controls(self, title: str | None) -> widgets.Box:
        """The image, reset button, status line and the sidebar holding the sliders."""
        # The image may shrink to the notebook's width but never grows past its pixel size.
        self.image = widgets.Image(
            format="png",
            layout=widgets.Layout(
                width="auto", height="auto", max_width="100%", min_width="0", flex="0 1 auto"
            ),
        )
        self.status = widgets.HTML(value="")
        self.status.add_class("course-panel-status")
        self.reset_button = widgets.Button(
            description="Reset to defaults", icon="undo", layout=widgets.Layout(width="200px")
        )
        self.reset_button.on_click(lambda _: self.reset())

        for w in self.controls.values():  # one label column, one width, whoever made the control
            if hasattr(w, "style") and hasattr(w.style, "description_width"):
                w.style.description_width = _LABEL_WIDTH
            w.layout.width = _SLIDER_LAYOUT["width"]
        full_row = widgets.Layout(width="100%")
        header = (
            [widgets.HTML(f"<b style='font-size:17px'>{title}</b>", layout=full_row)]
            if title
            else []
        )
        self.status.layout = full_row
        css = widgets.HTML(_PANEL_CSS, layout=widgets.Layout(display="none"))
        sidebar = widgets.Box(
            [css, *header, *self.controls.values(), self.reset_button, self.status],
            layout=widgets.Layout(
                flex="1 1 420px",
                flex_flow="row wrap",
                align_content="flex-start",
                align_items="center",
                padding="4px",
                min_width="0",
            ),
        )
        sidebar.add_class("course-panel-sidebar")
        return sidebar

    def _set_live(self, live: bool) -> None:
        self.live = live
        for w in self.controls.values():
            if hasattr(w, "continuous_update"):
                w.continuous_update = live

    def _adapt_live(self) -> None:
        # The first redraw pays one-time costs (fonts, artists), so judge the user's redraws.
        recent = self.timings_ms[1:][-3:]
        if self._auto_live and recent:
            live = float(np.median(recent)) < _LIVE_LIMIT_MS
            if live != self.live:
                self._set_live(live)

    @property
    def values(self) -> dict:
        """The current value of every control, by keyword name."""
        return {name: w.value for name, w in self.controls.items()}

    def _on_change(self, _change) -> None:
        if not self._muted:
            self.redraw()

    def set(self, **values) -> None:
        """Set several controls at once and redraw once (used by tests and exercises)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(
                f"Unknown control(s) {sorted(unknown)}; this panel has {sorted(self.controls)}."
            )
        self._muted = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._muted = False
        self.redraw()

    def reset(self) -> None:
        """Put every control back to its default value."""
        self.set(**self.defaults)

    def redraw(self) -> None:
        """Clear the figure, call the drawing function, and push a new PNG to the image."""
        start, cpu_start = time.perf_counter(), time.thread_time()
        try:
            with _course_rc(), warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                self._draw_into(self._fig, self.values)
            self.last_error = None
            self.status.value = ""
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._fig.clear()
            self._state = None
            self._fig.text(
                0.5,
                0.5,
                "This setting could not be drawn:\n" + self.last_error,
                ha="center",
                va="center",
                color="#b00020",
                fontsize=12,
                wrap=True,
            )
            self.status.value = f"<span style='color:#b00020'>{self.last_error}</span>"
        self.image.value = self._render_png()
        self.draw_count += 1
        self.timings_ms.append((time.perf_counter() - start) * 1000)
        self.cpu_ms.append((time.thread_time() - cpu_start) * 1000)
        self._adapt_live()

    def _draw_into(self, fig, values: dict) -> None:
        if not self._incremental:
            fig.clear()
            _projector_margins(fig)
            self.draw_fn(fig, **values)
            _enlarge_small_text(fig)
            return
        if self._state is None:
            fig.clear()  # after an error the figure holds only its message
            fig.set_layout_engine(None)  # and _fit_layout_once's frozen engine
            _projector_margins(fig)
            self._state = self.draw_fn.setup(fig)
            self.draw_fn.update(self._state, **values)
            _enlarge_small_text(fig)
            _fit_layout_once(fig)
        self.draw_fn.update(self._state, **values)
        # Small text can only appear when artists are made: at setup, checked above, and when
        # a full draw makes new ticks (after it the canvas has no saved axes).
        if not fig.canvas.axes_saved:
            _enlarge_small_text(fig)

    def _render_png(self) -> bytes:
        """One Agg draw, then the pixels as a PNG (see ``rgba_png``)."""
        canvas = self._fig.canvas
        canvas.draw()
        return rgba_png(np.asarray(canvas.buffer_rgba()))

    def static_figure(self, **overrides):
        """A pyplot figure at the default values (plus overrides): the static figure before a panel."""
        values = {**self.defaults, **overrides}
        with plt.rc_context(COURSE_STYLE):
            fig = plt.figure(figsize=self.static_figsize)
            if self._incremental:
                self.draw_fn.update(self.draw_fn.setup(fig), **values)
            else:
                self.draw_fn(fig, **values)
        return fig

    def sweep_extremes(self) -> list[dict]:
        """Set each control to its minimum, maximum and default in turn; return the settings tried.

        Used by the tests: after each setting ``last_error`` must be None; "image" is a hash of
        the PNG shown, so a test can check that the picture changed.
        """
        tried = []
        for name, w in self.controls.items():
            for value in _extremes(w, self.defaults[name]):
                self.set(**{**self.defaults, name: value})
                tried.append(
                    {
                        name: value,
                        "error": self.last_error,
                        "image": hashlib.md5(bytes(self.image.value)).hexdigest(),
                    }
                )
        self.reset()
        return tried


def _freeze_old_objects() -> None:
    """Keep Python's full garbage collections out of the redraws.

    A full collection scans every object in the kernel (about 100 ms with matplotlib, torch and
    the notebook's data loaded), and the temporary objects of a redraw start one every few
    redraws: a slider move then now and again takes three times as long. After a collection
    now, ``gc.freeze`` moves the objects alive to a generation the collector skips, so later
    collections scan only what was made since. Objects frozen here are still freed when their
    last reference goes; only reference cycles among them are no longer collected.
    """
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def _course_rc():
    """COURSE_STYLE for the duration, restoring just its keys (``rc_context`` copies them all)."""
    saved = {key: mpl.rcParams[key] for key in COURSE_STYLE}
    mpl.rcParams.update(COURSE_STYLE)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def rgba_png(rgba: np.ndarray, level: int = 1) -> bytes:
    """A PNG of an (height, width, 4) uint8 RGBA image (the Agg canvas), written fast.

    Unfiltered rows and zlib at ``level`` 1: a third of the time of Pillow's encoder (which
    converts to RGB and tries every row filter) for a file about as small, since a plot is
    mostly flat colour. Any PNG reader decodes it (the tests compare Pillow's reading).
    """
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + 4 * width), np.uint8)
    rows[:, 0] = 0  # filter type "None" for every row
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.data, level)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _projector_margins(fig) -> None:
    """Margins in inches that fit tick labels, axis labels and a title at the course font sizes.

    The live image is the whole canvas (no bbox cropping, no tight_layout: both cost a second
    layout pass), so matplotlib's default fractions would clip an x label on a short figure. A
    drawing function that calls ``fig.subplots_adjust`` itself overrides these.
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=max(0.125, 0.95 / width),
        right=1 - 0.3 / width,
        bottom=max(0.11, 0.72 / height),
        top=1 - 0.5 / height,
    )


def _fit_layout_once(fig) -> None:
    """Fit the axes to the live figure's size with one constrained-layout pass, then freeze.

    A drawing's own ``subplots_adjust`` fractions suit its static size; on the compact live
    figure they would clip labels. Only tick labels, axis labels and titles claim room: notes
    and legends drawn inside the axes stay inside them. A figure with axes placed by
    ``fig.add_axes`` keeps its positions. Later redraws keep the positions found here (a layout
    pass on every redraw would double its cost).
    """
    if not fig.axes or any(ax.get_subplotspec() is None for ax in fig.axes):
        return
    inside = [a for ax in fig.axes for a in (*ax.texts, ax.get_legend()) if a is not None]
    for artist in inside:
        artist.set_in_layout(False)
    fig.set_layout_engine("constrained", h_pad=0.04, w_pad=0.04)
    fig.canvas.draw()
    fig.set_layout_engine("none")
    for artist in inside:
        artist.set_in_layout(True)


def _enlarge_small_text(fig) -> None:
    """Raise every text of ``fig`` under MIN_FONT_PT (legends at 9 pt, say) to MIN_FONT_PT."""
    for text in fig.findobj(mtext.Text):
        if text.get_fontsize() < MIN_FONT_PT:
            text.set_fontsize(MIN_FONT_PT)


def _extremes(w, default) -> list:
    if isinstance(w, widgets.FloatLogSlider):
        return [w.base**w.min, w.base**w.max, default]
    if hasattr(w, "min") and hasattr(w, "max"):
        return [w.min, w.max, default]
    if hasattr(w, "options"):
        opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
        return list(dict.fromkeys(opts))
    if isinstance(w, widgets.Checkbox | widgets.ToggleButton):
        return [True, False]
    return [default]


def texts_outside_figure(fig, margin_px: float = 1.0) -> list[str]:
    """The strings of the texts a draw of ``fig`` shows partly outside the figure's edges.

    Counts what is drawn: the figure's texts and suptitle, each visible axes' titles, axis
    labels, notes (``ax.texts``), the labels of the ticks in view and the visible legend
    entries. Call it after a draw (the panels draw on every ``set``).
    """
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts)
    if getattr(fig, "_suptitle", None) is not None:
        texts.append(fig._suptitle)
    for legend in fig.legends:
        if legend.get_visible():
            texts += legend.get_texts()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += list(ax.texts)
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():
                texts += [t for t in (tick.label1, tick.label2) if t.get_visible()]
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            texts += legend.get_texts()
    box = fig.bbox
    outside = []
    for text in texts:
        if not (text.get_visible() and text.get_text().strip()):
            continue
        e = text.get_window_extent(renderer)
        if (e.x0 < box.x0 - margin_px or e.x1 > box.x1 + margin_px
                or e.y0 < box.y0 - margin_px or e.y1 > box.y1 + margin_px):
            outside.append(text.get_text())
    return outside


def text_overflow_at_extremes(panel: SliderPanel) -> list[dict]:
    """Set each control to its extremes in turn (as ``sweep_extremes``) and collect the texts
    that leave the live figure: [{"setting": {...}, "outside": [...]}] for offending settings."""
    found = []
    for name, w in panel.controls.items():
        for value in _extremes(w, panel.defaults[name]):
            panel.set(**{**panel.defaults, name: value})
            outside = texts_outside_figure(panel._fig)
            if outside:
                found.append({"setting": {name: value}, "outside": outside})
    panel.reset()
    return found
