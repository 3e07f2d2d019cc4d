"""The slider-panel building block every notebook reuses.

A panel is a drawing function ``draw(fig, **values)`` plus named sliders. It shows

* a static figure at the default values (``panel.static_figure()``), so a notebook reads well on
  GitHub and in HTML, and
* a live panel (``display(panel)``): sliders on the left, each labelled with its symbol and
  value, a reset button, and the figure on the right rendered straight to PNG with the Agg
  canvas (no pyplot, no Output widget), which keeps a redraw in tens of milliseconds.

For the fastest redraws pass instead an object with ``setup(fig) -> state`` (create the axes
and artists once) and ``update(state, **values)`` (change their data): the panel then never
clears the figure, so matplotlib reuses axes, ticks and text instead of rebuilding them.

Every redraw is timed (``panel.timings_ms``, wall clock; ``panel.cpu_ms``, CPU time of the
kernel's thread, which a busy machine inflates much less). A drawing function should show
divergence on the figure itself; if it raises anyway, the panel shows the message in red instead
of a traceback (``panel.last_error`` keeps it for tests).
"""

from __future__ import annotations

import hashlib
import io
import time
import warnings
import weakref
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .plotting import COURSE_STYLE

_REGISTRY: list = []  # weak references to every panel made in this kernel (for tests)


def all_panels() -> list:
    """Every SliderPanel still alive in this kernel, in creation order (used by the tests)."""
    return [p for p in (ref() for ref in _REGISTRY) if p is not None]


_LIVE_LIMIT_MS = 300.0  # "auto": slower redraws switch dragging to redraw-on-release
_LABEL_WIDTH = "130px"
_SLIDER_LAYOUT = dict(width="390px")
# Projector-sized text for the sliders of every panel (the page default is 13 px).
_PANEL_CSS = """<style>
.course-slider-panel .widget-label, .course-slider-panel .widget-readout,
.course-slider-panel .widget-dropdown select, .course-slider-panel .widget-button {
  font-size: 15px;
}
</style>"""


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
    figsize : figure size in inches; the default suits a projector.
    dpi : pixels per inch of the live image.
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
        dpi: int = 90,
        continuous_update: bool | str = "auto",
        title: str | None = None,
    ):
        self.draw_fn = draw
        self.title = title
        self.controls = dict(controls)
        self.defaults = {name: w.value for name, w in self.controls.items()}
        self.figsize = figsize
        self.dpi = dpi
        self.timings_ms: list[float] = []
        self.cpu_ms: list[float] = []
        self.last_error: str | None = None
        self.draw_count = 0

        self._fig = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self._fig)
        self._incremental = hasattr(draw, "setup") and hasattr(draw, "update")
        self._state = None
        # The image may shrink to the notebook's width but never grows past its pixel size.
        self.image = widgets.Image(
            format="png",
            layout=widgets.Layout(width="auto", height="auto", max_width="100%", min_width="0"),
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
        header = [widgets.HTML(f"<b style='font-size:17px'>{title}</b>")] if title else []
        css = widgets.HTML(_PANEL_CSS, layout=widgets.Layout(display="none"))
        sidebar = widgets.VBox(
            [css, *header, *self.controls.values(), self.reset_button, self.status],
            layout=widgets.Layout(min_width="400px", padding="4px"),
        )
        # Sliders on the left; in a window too narrow for both, the figure wraps below them at
        # full size instead of shrinking to an unreadable stamp.
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
            with plt.rc_context(COURSE_STYLE), warnings.catch_warnings():
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
            return
        if self._state is None:
            _projector_margins(fig)
            self._state = self.draw_fn.setup(fig)
        self.draw_fn.update(self._state, **values)

    def _render_png(self) -> bytes:
        # One Agg draw plus fast PNG compression: about half the time of fig.savefig.
        self._fig.canvas.draw()
        rgba = np.asarray(self._fig.canvas.buffer_rgba())
        buf = io.BytesIO()
        PIL.Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def static_figure(self, **overrides):
        """A pyplot figure at the default values (plus overrides): the static figure before a panel."""
        values = {**self.defaults, **overrides}
        with plt.rc_context(COURSE_STYLE):
            fig = plt.figure(figsize=self.figsize)
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
