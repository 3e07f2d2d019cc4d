"""plotting.display_points: fewer points, the same line on screen."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_utils.plotting import display_points


def _picture(x, y):
    fig = Figure(figsize=(3.0, 2.0), dpi=90)  # 270 px wide, like one of three panel axes
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(x, y, lw=1.5)
    ax.set(xlim=(x[0], x[-1]), ylim=(-4, 4))
    ax.set_axis_off()
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].min(axis=2) < 128  # inked pixels


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [3000, 8000])
def test_decimated_line_inks_the_same_pixels(seed, n):
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=float)
    y = np.clip(np.cumsum(rng.standard_normal(n)) * 0.05 + rng.standard_normal(n) * 0.5, -4, 4)
    xs, ys = display_points(x, y)
    assert len(xs) <= 1003 and xs[0] == x[0] and xs[-1] == x[-1]
    assert np.all(np.diff(xs) > 0)  # in order, no repeats
    full, cut = _picture(x, y), _picture(xs, ys)
    differ = (full != cut).sum()
    assert differ <= 0.02 * full.sum(), (differ, full.sum())  # antialiased edge pixels


def test_every_runs_extremes_are_kept():
    y = np.zeros(5000)
    y[1234], y[4321] = 7.0, -3.0
    _, ys = display_points(np.arange(5000.0), y, max_points=100)
    assert ys.max() == 7.0 and ys.min() == -3.0


def test_gaps_survive_and_short_series_are_untouched():
    y = np.ones(4000)
    y[:1000] = np.nan  # no value yet, like the rare weight's rate before its first update
    xs, ys = display_points(np.arange(4000.0), y)
    assert np.isnan(ys[xs < 990]).all() and np.isfinite(ys[xs >= 1000]).all()
    x, y = np.arange(10.0), np.arange(10.0)
    assert display_points(x, y)[0] is x


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="one length"):
        display_points(np.arange(5), np.arange(6))
    with pytest.raises(ValueError, match="at least 4"):
        display_points(np.arange(50), np.arange(50), max_points=2)
