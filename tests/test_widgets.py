"""SliderPanel's projector sizing and its fast canvas (text cache, reused axes) draw what Agg draws."""

from __future__ import annotations

import io

import ipywidgets
import numpy as np
import PIL.Image
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from course_utils import plotting
from course_utils.plotting import COURSE_STYLE, TextCachingCanvas, TextCachingRenderer
from course_utils.widgets import (
    LIVE_DPI,
    LIVE_WIDTH_IN,
    MIN_FONT_PT,
    SliderPanel,
    float_slider,
    live_figsize,
    rgba_png,
)


class Waves:
    """An incremental drawer: fixed limits, so later redraws reuse the axes."""

    def setup(self, fig):
        ax1, ax2 = fig.subplots(1, 2)
        x = np.linspace(0, 10, 400)
        (line,) = ax1.plot(x, np.sin(x), label="sin(a x)")
        ax1.set(xlim=(0, 10), ylim=(-1.5, 1.5), xlabel="x", ylabel="$y$")
        ax1.legend(loc="upper right", fontsize=8)  # smaller than the panel allows
        bars = ax2.bar([0, 1, 2], [1, 2, 3], color="#2ca02c")
        ax2.set(ylim=(0, 12), title="")
        ax2.set_yscale("log")
        ax2.set_ylim(0.1, 12)
        note = ax2.text(0.05, 0.9, "", transform=ax2.transAxes, fontsize=9)
        return dict(x=x, line=line, bars=bars, note=note, ax1=ax1)

    def update(self, st, a):
        st["line"].set_ydata(np.sin(a * st["x"]))
        for k, bar in enumerate(st["bars"]):
            bar.set_height(1 + k * a)
        st["note"].set_text(f"a = {a:.2f}")
        st["ax1"].set_title(f"frequency a = {a:.2f}")


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _panel(reuse: bool = True) -> SliderPanel:
    panel = SliderPanel(Waves(), {"a": float_slider("a", 1.0, 0.5, 3.0, step=0.05)}, (15, 5))
    panel._fig.canvas.reuse_axes = reuse
    return panel


def test_live_figure_fits_a_projector_and_static_keeps_its_size():
    panel = _panel()
    assert panel.static_figsize == (15, 5)
    width, height = panel.figsize
    assert width == LIVE_WIDTH_IN and width * LIVE_DPI <= 830
    assert _rgb(bytes(panel.image.value)).shape[1] == round(width * LIVE_DPI)
    assert live_figsize((6, 3), 1) == (6, 3)  # small figures stay as they are
    many = live_figsize((12, 6), 7)  # 7 controls: 4 rows of sliders above the figure
    assert many[1] * LIVE_DPI <= 590 - 34 - 4 * 36 + 1
    fig = panel.static_figure()
    assert tuple(fig.get_size_inches()) == (15, 5)


def test_no_live_text_below_the_minimum():
    panel = _panel()
    sizes = [t.get_fontsize() for t in panel._fig.findobj(lambda a: hasattr(a, "get_fontsize"))]
    assert min(sizes) >= MIN_FONT_PT


@pytest.mark.parametrize("values", [[1.0, 1.05, 1.1, 1.05, 1.0], [3.0, 0.5, 0.55, 0.6]])
def test_reused_axes_draw_the_same_picture_as_a_full_draw(values):
    fast, full = _panel(reuse=True), _panel(reuse=False)
    for a in values:
        fast.set(a=a)
        full.set(a=a)
        diff = np.abs(_rgb(bytes(fast.image.value)) - _rgb(bytes(full.image.value))).max(axis=2)
        # bars (zorder 1) land above the faint grid instead of below it: a few pixels
        assert (diff > 64).mean() < 2e-3, a
    assert fast._fig.canvas._background is not None  # the fast path was taken


def test_changed_limits_force_a_full_draw():
    panel = _panel()
    panel.set(a=1.05)
    panel.set(a=1.1)
    assert panel._fig.canvas._background is not None
    panel._state["ax1"].set_xlim(0, 5)
    panel.redraw()
    assert panel._fig.canvas._background is None


def test_text_cache_matches_agg():
    with_cache, plain = Figure(figsize=(5, 2), dpi=90), Figure(figsize=(5, 2), dpi=90)
    TextCachingCanvas(with_cache)
    FigureCanvasAgg(plain)
    for fig in (with_cache, plain):
        ax = fig.add_subplot()
        ax.set(xlabel="step $t$", ylabel="loss", title="α = 0.1: ε inside √")
        ax.plot([1, 2, 3])
        fig.canvas.draw()
        fig.canvas.draw()  # the second draw uses the cached bitmaps
    a, b = (np.asarray(f.canvas.buffer_rgba())[..., :3].astype(int) for f in (with_cache, plain))
    assert (np.abs(a - b).max(axis=2) > 96).mean() < 0.01  # whole-pixel text positions


def _on_common_canvas(a, b):
    """Two (coverage, anchor column, anchor row) bitmaps pasted with their anchors aligned."""
    (ca, la, ta), (cb, lb, tb) = a, b
    oy, ox = max(ta, tb), max(la, lb)
    height = oy + max(ca.shape[0] - ta, cb.shape[0] - tb)
    width = ox + max(ca.shape[1] - la, cb.shape[1] - lb)
    out = np.zeros((2, height, width), int)
    for k, (cov, left, top) in enumerate((a, b)):
        out[k, oy - top : oy - top + cov.shape[0], ox - left : ox - left + cov.shape[1]] = cov
    return out


@pytest.mark.skipif(not plotting._HAS_GLYPH_API, reason="this matplotlib has no glyph API")
@pytest.mark.parametrize(
    "text, ismath",
    [
        ("adam (final loss 1.23e-04)", False),
        ("α = 0.1: ε inside √, β₂ → 1, E‖∇F(x_τ)‖²", False),
        (r"$\beta_2 = 0.999$, $w_1^2 + h_{\max}$", True),
    ],
)
@pytest.mark.parametrize("size", [9.5, 12, 13])
def test_glyph_assembled_text_is_exactly_matplotlibs(text, ismath, size):
    renderer = TextCachingRenderer(600, 200, 90)
    gc, prop = renderer.new_gc(), FontProperties(size=size)
    glyphs = renderer._layout_glyphs(text, prop, ismath, gc, None)
    assert glyphs, "the glyph path must be taken for this text"
    assembled = renderer._compose_glyphs(glyphs, antialiased=True)
    again = renderer._compose_glyphs(glyphs, antialiased=True)  # from the glyph cache
    reference = renderer._render_text_on_scratch(text, prop, 0, ismath, gc, None)
    ours, theirs = _on_common_canvas(assembled, reference)
    assert theirs.sum() > 0 and np.array_equal(ours, theirs)
    assert np.array_equal(*_on_common_canvas(assembled, again))


def test_widgets_module_imports_with_the_course_style():
    assert COURSE_STYLE["font.size"] >= 12
    assert isinstance(_panel().controls["a"], ipywidgets.FloatSlider)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (414, 828)])
def test_rgba_png_decodes_to_the_same_pixels(shape):
    rgba = np.random.default_rng(0).integers(0, 256, (*shape, 4), dtype=np.uint8)
    rgba[: shape[0] // 2] = 255  # flat colour, like a plot's background
    image = PIL.Image.open(io.BytesIO(rgba_png(rgba)))
    assert image.mode == "RGBA" and image.size == (shape[1], shape[0])
    assert np.array_equal(np.asarray(image), rgba)


def test_a_panel_moves_the_kernels_objects_out_of_the_collectors_way():
    import gc

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    _panel()
    assert gc.get_freeze_count() > 1000  # matplotlib's and the panel's objects, at least


class FailsAboveTwo(Waves):
    def update(self, st, a):
        if a > 2:
            raise ValueError("a > 2 cannot be drawn")
        super().update(st, a)


@pytest.mark.filterwarnings("error")  # a warning while recovering would be the panel's error
def test_a_panel_recovers_from_an_error_without_its_message():
    panel = SliderPanel(FailsAboveTwo(), {"a": float_slider("a", 1.0, 0.5, 3.0, step=0.05)})
    good = _rgb(bytes(panel.image.value))
    panel.set(a=2.5)
    assert "a > 2" in panel.last_error and "cannot be drawn" in panel.status.value
    assert any("could not be drawn" in t.get_text() for t in panel._fig.texts)
    panel.set(a=1.0)
    assert panel.last_error is None and panel.status.value == ""
    assert not any("could not be drawn" in t.get_text() for t in panel._fig.texts)
    back = _rgb(bytes(panel.image.value))  # the same picture (reused axes move faint grid pixels)
    assert (np.abs(back - good).max(axis=2) > 96).mean() < 0.01


def test_texts_outside_figure_finds_a_note_off_the_edge():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from course_utils.widgets import texts_outside_figure

    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "inside", transform=ax.transAxes)
    ax.text(0.9, 0.5, "a note far too long to fit on the right", transform=ax.transAxes)
    fig.canvas.draw()
    assert texts_outside_figure(fig) == ["a note far too long to fit on the right"]
