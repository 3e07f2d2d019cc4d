"""Notebook 03's helpers: EMAs, bias correction, figures 2.2-2.3, the panel and the checkers."""

import time
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils import nb03_ema as lab


def test_ema_matches_the_unrolled_sum():
    rng = np.random.default_rng(0)
    x = rng.random(40)
    beta = 0.8
    unrolled = [
        (1 - beta) * sum(beta ** (t - j) * x[j - 1] for j in range(1, t + 1)) for t in range(1, 41)
    ]
    np.testing.assert_allclose(lab.ema(x, beta), unrolled, rtol=1e-13)


@pytest.mark.parametrize("beta, steps", [(0.9, 50), (0.99, 500), (0.999, 5000)])
def test_constant_gradient_closed_form(beta, steps):
    result = lab.constant_gradient_check(g=3.0, beta=beta, steps=steps)
    assert result.allclose and result.maxdiff < 1e-12  # float64 rounding over many steps


def test_bias_correction_recovers_a_constant_exactly_enough():
    m = lab.ema(np.full(100, 2.5), 0.9)
    np.testing.assert_allclose(lab.bias_correct(m, 0.9), 2.5, rtol=1e-13)


def test_accumulation_grows_and_ema_recovers_after_a_spike():
    g = lab.spiky_gradients(steps=3000, spike=10.0, spike_at=(1000,), seed=0)
    G = lab.accumulate(g**2)
    assert np.all(np.diff(G) > 0) and G[-1] > 3000
    v = lab.ema(g**2, 0.9)
    before, peak, later = v[999], v[1004], v[1004 + lab.recovery_steps(0.9, 0.01)]
    assert peak > 10 * before and later < 2 * before
    assert G[1100] - G[998] > 500  # the spike stays in G for good


def test_recovery_steps():
    assert lab.recovery_steps(0.9, 0.01) == 44
    assert lab.recovery_steps(0.999, 0.01) == 4603
    assert 0.999**4603 <= 0.01 < 0.999**4602


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        lab.ema(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="noise"):
        lab.spiky_gradients(noise=-1.0)
    with pytest.raises(ValueError, match="outside"):
        lab.spiky_gradients(steps=100, spike_at=(500,))
    with pytest.raises(ValueError, match="fraction"):
        lab.recovery_steps(0.9, 1.5)


def test_section2_figure_has_four_panels():
    axes = lab.section2_figure(Figure(figsize=(14, 10)))
    titles = [ax.get_title() for ax in axes.flat]
    assert len(titles) == 4 and [t[:3] for t in titles] == ["2.1", "2.2", "2.3", "2.3"]


def test_ema_panel_sweeps_every_slider_extreme():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails, not only RuntimeWarning
        panel = lab.make_ema_panel()
        default_image = bytes(panel.image.value)
        cpu_start, redraws_start = time.process_time(), panel.draw_count
        tried = panel.sweep_extremes()
        cpu_ms = 1000 * (time.process_time() - cpu_start) / (panel.draw_count - redraws_start)
        panel.set(beta1=0.99, beta2=0.999, spike=100.0, noise=2.0)
        assert panel.last_error is None
        panel.set(beta1=0.0, beta2=0.5, spike=0.0, noise=0.0)
        assert panel.last_error is None
    assert len(tried) == 3 * len(panel.controls)
    assert [t for t in tried if t["error"]] == []
    for i in range(0, len(tried), 3):
        low, high, default = tried[i : i + 3]
        assert len({low["image"], high["image"], default["image"]}) == 3, low
    assert bytes(panel.image.value) != default_image
    median = float(np.median(panel.timings_ms))
    print(
        f"make_ema_panel: median redraw {median:.0f} ms wall over {len(panel.timings_ms)}, "
        f"{cpu_ms:.0f} ms CPU per redraw"
    )
    # Speed is shown by benchmarks/bench_panels.py, not asserted here (timings are load-dependent).


def test_panel_without_noise_shows_exact_correction():
    drawer = lab.EmaDrawer()
    st = drawer.setup(Figure())
    drawer.update(st, beta1=0.9, beta2=0.999, spike=10.0, noise=0.0)
    np.testing.assert_allclose(st["hat_m"].get_ydata(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(st["hat_v"].get_ydata(), 1.0, rtol=1e-12)


def test_slider_defaults_lie_on_the_slider_grid():
    # The browser snaps values to the grid: an off-grid default would not survive a reset.
    panel = lab.make_ema_panel()
    for name, w in panel.controls.items():
        k = (w.value - w.min) / w.step
        assert abs(k - round(k)) < 1e-6, (name, w.value, k)


# --- the lessons of the demos, over settings around the shown ones -------------------------


@pytest.mark.parametrize("beta1, beta2", [(0.9, 0.999), (0.8, 0.99), (0.95, 0.9999)])
def test_uncorrected_adam_steps_are_too_large_not_too_small(beta1, beta2):
    raw = lab.adam_step_ratio(beta1, beta2, 500, correct_m=False, correct_v=False)
    t = np.arange(1, 501)
    np.testing.assert_allclose(raw, (1 - beta1**t) / np.sqrt(1 - beta2**t), rtol=1e-12)
    assert np.all(raw > 1)  # too large at every step of the first 500
    np.testing.assert_allclose(lab.adam_step_ratio(beta1, beta2, 500), 1.0, rtol=1e-12)
    only_v = lab.adam_step_ratio(beta1, beta2, 5, correct_m=False, correct_v=True)
    assert only_v[0] == pytest.approx(1 - beta1)  # the momentum's bias alone: too small


@pytest.mark.parametrize("beta1", [0.8, 0.9, 0.95])
@pytest.mark.parametrize("shift", [-0.5, -0.1, 0.1, 0.5])
def test_uncorrected_first_step_is_too_large_only_above_the_threshold(beta1, shift):
    # The uncorrected first step is (1 - beta1) / sqrt(1 - beta2) times alpha: above alpha
    # exactly when beta2 > 1 - (1 - beta1)^2. Move beta2 a fraction of (1 - threshold) around it.
    threshold = 1 - (1 - beta1) ** 2
    beta2 = threshold + shift * (1 - threshold)
    raw = lab.adam_step_ratio(beta1, beta2, 3, correct_m=False, correct_v=False)
    assert (raw[0] > 1) == (shift > 0)


@pytest.mark.parametrize("beta2", [0.95, 0.98])
def test_with_common_large_model_beta2_the_first_uncorrected_steps_are_too_small(beta2):
    raw = lab.adam_step_ratio(0.9, beta2, 200, correct_m=False, correct_v=False)
    assert raw[0] < 0.75 and raw[1] < 1  # the slide's "overly small" holds here, at first
    assert raw.max() < 1.6  # and later the excess is far below beta2 = 0.999's 6.6


@pytest.mark.parametrize("beta", [0.9, 0.99, 0.999])
@pytest.mark.parametrize("noise", [0.3, 0.5])
def test_ema_spread_matches_the_stationary_formula(beta, noise):
    spread = lab.ema_spread(beta, steps=8000, seeds=range(600), noise=noise)
    assert spread == pytest.approx(lab.ema_spread_theory(beta, noise=noise), rel=0.12)


def test_panel_burst_can_be_watched_until_it_fades():
    # Exercise 5: with burst 100 and beta2 = 0.999, v must come back under 2 v_before in the window.
    drawer = lab.EmaDrawer()
    st = drawer.setup(Figure())
    drawer.update(st, beta1=0.9, beta2=0.999, spike=100.0, noise=0.5)
    t, v = st["v_long"].get_xdata(), st["v_long"].get_ydata()  # the points drawn
    limit = st["v_before"].get_ydata()[0]
    back = t[(t > 3005) & (v <= limit)]
    assert t[0] == 1 and t[-1] == 8000
    assert back.size and 3005 + 3000 < back[0] < 3005 + 4500  # 3000-4500 steps after the burst


def test_ema_panel_keeps_its_axes_while_the_betas_move():
    # m and v limits come from the range of x, which bounds both curves for every beta.
    p = lab.make_ema_panel()
    for beta1, beta2 in ((0.5, 0.99), (0.0, 0.9), (0.99, 0.999), (0.8, 0.5)):
        p.set(beta1=beta1, beta2=beta2)
    assert p._fig.canvas._background is not None


@pytest.mark.parametrize("beta2, delta", [(0.9, 0.25), (0.99, 0.25), (0.9, 0.5), (0.99, 0.5)])
def test_rmsprop_with_constant_alpha_cycles_or_converges(beta2, delta):
    from course_utils import nb02_demos as demos

    for lr in (0.1, 0.15, 0.2, 0.3, 0.5):
        gap = demos.stall_run(
            distance=100.0, lr=lr, steps=3000, delta=delta, beta2=beta2, methods=("rmsprop",)
        )["gap_rmsprop"][-200:]
        amplitude = np.abs(gap).max()
        # Either converged exactly or the 2-cycle at w* +- alpha/2: nothing in between.
        assert amplitude < 1e-9 or abs(amplitude - lr / 2) < 1e-3 * lr, (lr, amplitude)
    small = demos.stall_run(
        distance=100.0, lr=0.1, steps=3000, delta=delta, beta2=beta2, methods=("rmsprop",)
    )
    assert np.abs(small["gap_rmsprop"][-200:]).max() < 1e-9  # a small enough alpha settles
