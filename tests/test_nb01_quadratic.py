"""Notebook 01's panel and the lessons of its demos."""

import warnings

import numpy as np
import pytest

from course_utils import nb01_quadratic as lab
from course_utils.nb01_quadratic import make_gd_panel
from course_utils.quadratic import Quadratic, contraction_factors, gradient_descent


def test_panel_survives_every_slider_extreme_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = make_gd_panel()
        default_image = bytes(panel.image.value)
        tried = panel.sweep_extremes()
        panel.set(kappa=1000.0, lr_scaled=2.1, steps=400, noise=0.5)  # all extremes at once
        assert panel.last_error is None and bytes(panel.image.value) != default_image
    assert len(tried) == 3 * len(panel.controls)
    assert [t for t in tried if t["error"]] == []
    # every slider changes the picture at one of its ends at least
    for i in range(0, len(tried), 3):
        low, high, default = tried[i : i + 3]
        assert len({low["image"], high["image"], default["image"]}) >= 2, low
    print(
        f"01 gd panel: median redraw {np.median(panel.timings_ms):.0f} ms over {len(panel.timings_ms)}"
    )


def test_panel_reset_restores_defaults():
    panel = make_gd_panel()
    panel.set(kappa=500.0, angle=0.0)
    panel.reset()
    assert panel.values == panel.defaults


# --- the lessons of the demos, over settings around the shown ones -------------------------


@pytest.mark.parametrize("w0", [(1.0, 0.2), (-1.0, 0.5), (0.3, -1.0)])
@pytest.mark.parametrize("lr_factor", [0.5, 1.5, 1.9])
@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0])
def test_each_eigendirection_shrinks_by_its_own_factor(w0, lr_factor, angle):
    q = Quadratic((1.0, 0.02), angle_deg=angle)
    lr = lr_factor / max(q.h)
    z = np.abs(q.to_eigenbasis(gradient_descent(q, w0, lr, 20).path))
    measured = np.exp(np.mean(np.log(z[1:] / z[:-1]), axis=0))
    np.testing.assert_allclose(measured, contraction_factors(q.h, lr), rtol=1e-6)


@pytest.mark.parametrize("kappa", [10.0, 50.0, 200.0])
def test_jacobi_scaling_fades_with_rotation_and_is_gd_at_45(kappa):
    left = [lab.jacobi_kappa(Quadratic.from_kappa(kappa, angle_deg=a)) for a in (0, 5, 10, 20, 45)]
    assert left[0] == pytest.approx(1.0) and left[-1] == pytest.approx(kappa)
    assert np.all(np.diff(left) > 0)
    runs = lab.preconditioning_runs(kappa, 45.0)
    np.testing.assert_allclose(runs["jacobi"].path, runs["gd"].path, atol=1e-12)
    assert lab.preconditioning_runs(kappa, 0.0)["jacobi"].losses[1] < 1e-25  # one step


@pytest.mark.parametrize("kappa, sigma", [(5.0, 0.05), (10.0, 0.1), (20.0, 0.2)])
@pytest.mark.parametrize("lr_factor", [0.2, 1.0])
def test_sgd_mean_loss_settles_on_the_theory(kappa, sigma, lr_factor):
    q = Quadratic.from_kappa(kappa)
    lr = lr_factor / max(q.h)
    losses = lab.sgd_mean_loss(q, [1.0, 1.0], lr, steps=400, noise_std=sigma, seeds=range(500))
    floor = lab.sgd_loss_floor(q.h, lr, sigma)
    assert losses[250:].mean() == pytest.approx(floor, rel=0.05)
    assert np.mean(losses[250:, 0] < floor) > 0.5  # one seed mostly below its mean


def test_sgd_mean_loss_is_gradient_descent_per_seed():
    q = Quadratic.from_kappa(10.0)
    many = lab.sgd_mean_loss(q, [1.0, 1.0], 0.5, steps=30, noise_std=0.1, seeds=[7])
    one = gradient_descent(q, [1.0, 1.0], 0.5, 30, noise_std=0.1, seed=7)
    np.testing.assert_allclose(many[:, 0], one.losses, rtol=1e-12)


def test_gd_panel_keeps_its_axes_while_kappa_and_alpha_move():
    # Fixed/decade-snapped loss limits: redraws reuse the axes (widgets.py's fast path).
    p = make_gd_panel()
    for kappa, lr in ((3.0, 1.5), (30.0, 1.0), (100.0, 0.5), (50.0, 0.8)):
        p.set(kappa=kappa, lr_scaled=lr)
    assert p._fig.canvas._background is not None


def _loss_axis_room(fig):
    """(decades of axis below the lowest curve, decades the legend and its gap need, decades above the top
    curve, every curve inside the limits, legend clear of the curves) for the panel's loss axis."""
    ax = fig.axes[1]
    fig.canvas.draw()
    ys = [line.get_ydata() for line in ax.get_lines() if line.get_visible()]
    ys = np.concatenate([np.asarray(y, dtype=float) for y in ys])
    ys = ys[np.isfinite(ys)]
    bottom, top = np.log10(ax.get_ylim())
    low, high = np.log10(ys.min()), np.log10(ys.max())
    legend = ax.get_legend().get_window_extent()
    lowest_px = ax.transData.transform([[0.0, ys.min()]])[0, 1]
    band = (legend.y1 - ax.bbox.y0) / ax.bbox.height + lab.LEGEND_GAP
    legend_decades = band * (top - bottom)
    inside = bottom <= low and high <= top
    return low - bottom, legend_decades, top - high, inside, legend.y1 < lowest_px


SETTINGS = [
    {},
    dict(kappa=1.0),
    dict(kappa=3.0, lr_scaled=1.0),
    dict(kappa=1000.0, steps=400),
    dict(lr_scaled=2.1),
    dict(lr_scaled=2.1, steps=400, kappa=1000.0),
    dict(lr_scaled=0.05, steps=5),
    dict(noise=0.5, steps=400),
    dict(noise=0.01, lr_scaled=0.05),
    dict(w1_0=0.0, w2_0=0.0),
    dict(w1_0=0.0, w2_0=0.0, noise=0.2),
    dict(angle=0.0, kappa=300.0, w1_0=1.0, w2_0=-1.0),
]


@pytest.mark.parametrize(
    "settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "default"
)
def test_gd_panel_loss_axis_fits_the_curves(settings):
    # P3 of the third review: the axis used to keep ~5 empty decades below the default curve.
    # Now the only room below the lowest curve is the legend's (plus less than a decade's
    # snapping), the curves are inside the limits and clear of the legend, live and static.
    p = make_gd_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p.set(**{**p.defaults, **settings})
        static = p.static_figure(**settings)
    assert p.last_error is None
    for fig in (p._fig, static):
        below, legend, above, inside, clear = _loss_axis_room(fig)
        assert inside and clear, settings
        assert below <= legend + 1.0 + 1e-6, (settings, below, legend)
        assert above <= 1.0 + np.log10(3.0) + 1e-6, (settings, above)


def test_gd_panel_default_loss_axis_ends_near_the_curve():
    # The default run ends near 2e-7: the axis stops a legend's height below it, not at 1e-12.
    p = make_gd_panel()
    bottom, top = p._fig.axes[1].get_ylim()
    assert (bottom, top) == (1e-9, 1.0)
    assert p._fig.axes[1].get_lines()[0].get_ydata()[-1] == pytest.approx(1.8e-7, rel=0.1)


def test_loss_limits():
    assert lab.loss_limits(2e-7, 0.13) == (1e-7, 1.0)
    assert lab.loss_limits(2e-7, 0.13, band=0.25) == (1e-9, 1.0)  # (-6.7 - 0) / 0.75 = -8.9
    assert lab.loss_limits(0.3, 0.3) == (1e-2, 1.0)  # at least two decades
    assert lab.loss_limits(1e-16, 1e-16, band=0.3) == (1e-17, 1e-15)
    lo, hi = lab.loss_limits(1e-3, 1e5, band=0.3)
    assert np.log10(1e-3 / lo) >= 0.3 * np.log10(hi / lo)
    for bad in [(0.0, 1.0), (1.0, 0.5), (1e-3, np.inf), (np.nan, 1.0)]:
        with pytest.raises(ValueError, match="low"):
            lab.loss_limits(*bad)
    with pytest.raises(ValueError, match="band"):
        lab.loss_limits(1e-3, 1.0, band=1.0)
    assert lab.decade_limits(2e-3, 0.3) == (1e-4, 1.0)


@pytest.mark.parametrize("kappa, angle", [(1.0, 0.0), (10.0, 45.0), (300.0, 20.0), (1000.0, 90.0)])
def test_level_ellipses_lie_on_their_levels(kappa, angle):
    q = Quadratic.from_kappa(kappa, angle_deg=angle)
    segments, colors = lab.level_ellipses(q, lab.BOX)
    losses = q.loss(segments)  # (levels, points)
    levels = losses[:, 0]
    assert np.allclose(losses, levels[:, None], rtol=1e-12)
    assert np.all(np.diff(levels) > 0) and np.isclose(levels[-1] / levels[0], 1e4)
    corners = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]]) * lab.BOX
    assert np.isclose(levels[-1], q.loss(corners).max())
    assert colors.shape == (len(levels), 4)


@pytest.mark.parametrize("kappa", [20.0, 50.0, 100.0])
@pytest.mark.parametrize("w0", [(-1.0, 0.6), (1.0, 0.6), (0.3, -1.0)])
def test_tuned_per_coordinate_gain_fades_with_rotation(kappa, w0):
    # Both GD and the per-coordinate method tuned for the 30 steps shown.
    gain = {}
    for angle in (0.0, 10.0, 30.0, 45.0):
        runs = lab.preconditioning_runs(kappa, angle, 30, w0)
        gain[angle] = runs["gd"].losses[-1] / max(runs["jacobi"].losses[-1], 1e-300)
    assert gain[0.0] > 1e10 and gain[10.0] > 30  # axis-aligned and slightly rotated: large
    assert gain[30.0] < 10  # mostly gone by 30 degrees
    assert gain[45.0] == pytest.approx(1.0, rel=1e-9)  # and nothing at 45


def test_panels_of_00_to_03_keep_their_text_inside_the_figure_at_every_extreme():
    from course_utils import nb00_decay, nb02_adagrad, nb02_panels, nb03_ema
    from course_utils.widgets import text_overflow_at_extremes

    for factory in (
        nb00_decay.make_decay_panel,
        make_gd_panel,
        nb02_adagrad.make_effective_lr_panel,
        nb02_panels.make_sparse_panel,
        nb02_panels.make_quadratic_panel,
        nb03_ema.make_ema_panel,
    ):
        assert text_overflow_at_extremes(factory()) == [], factory.__name__


def test_gd_panel_loss_axis_fits_the_curves_at_random_slider_positions():
    p = make_gd_panel()
    rng = np.random.default_rng(0)
    for _ in range(30):
        values = {}
        for name, w in p.controls.items():
            if hasattr(w, "base"):
                values[name] = float(w.base ** rng.uniform(w.min, w.max))
            else:
                v = rng.uniform(w.min, w.max)
                values[name] = int(round(v / w.step) * w.step) if isinstance(w.value, int) else v
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p.set(**values)
        assert p.last_error is None, values
        below, legend, above, inside, clear = _loss_axis_room(p._fig)
        assert inside and clear and below <= legend + 1.0 + 1e-6, values
