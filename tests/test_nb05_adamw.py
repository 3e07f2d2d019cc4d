"""Tests for course_utils.nb05_adamw: torch's decay convention, Adam+L2's effective decay on the
course MLP, the decay toy and its panel, and the AdamW exercise checkers."""

import warnings

import numpy as np
import pytest

from course_utils import nb05_adamw as W

# ---------------------------------------------------------------- torch's convention


def test_torch_adamw_decays_by_lr_times_weight_decay():
    assert W.torch_decay_factor(1e-3, 1e-2) == pytest.approx(1 - 1e-5, abs=1e-15)
    assert W.torch_decay_factor(0.1, 0.5) == pytest.approx(0.95, abs=1e-15)


def test_paper_conversion_reproduces_the_paper_decay():
    wd = W.paper_to_torch_weight_decay(1e-2, lr=1e-3)
    assert wd == pytest.approx(10.0)
    assert W.torch_decay_factor(1e-3, wd) == pytest.approx(1 - 1e-2, abs=1e-14)


def test_paper_conversion_rejects_zero_lr():
    with pytest.raises(ValueError, match="lr must be > 0"):
        W.paper_to_torch_weight_decay(1e-2, lr=0.0)


# ---------------------------------------------------------------- effective decay on the MLP


@pytest.fixture(scope="module")
def decay():
    return W.effective_decay_l2(steps=30)


def test_effective_decay_groups_cover_every_parameter(decay):
    assert sum(r.size for r in decay.per_group.values()) == 235_146
    assert list(decay.per_group)[-1] == "biases (all layers)"
    assert decay.adamw_rate == pytest.approx(1e-7)


def test_effective_decay_spreads_over_orders_of_magnitude(decay):
    rates = decay.all_rates
    lo, hi = np.quantile(rates, [0.01, 0.99])
    assert np.log10(hi / lo) > 2.5  # more than two and a half decades between 1% and 99%
    assert np.all(rates > 0) and np.all(np.isfinite(rates))


def test_effective_decay_matches_torch_state_formula():
    # Recompute one group by hand from a fresh torch run: rate = lr*wd/(sqrt(v_hat)+eps).
    res = W.effective_decay_l2(steps=3, lr=1e-3, weight_decay=1e-4)
    rates = res.per_group["layer 3 weights (128×10)"]
    assert rates.max() <= 1e-3 * 1e-4 / 1e-8 + 1e-12  # bounded by lr*wd/eps
    assert rates.min() > 0


def test_effective_decay_rejects_bad_steps():
    with pytest.raises(ValueError, match="steps"):
        W.effective_decay_l2(steps=0)


# ---------------------------------------------------------------- the toy and its panel


def test_toy_adam_and_adamw_treat_all_scales_alike_l2_does_not():
    toy = W.decay_toy(lr=0.01, weight_decay=1.0)
    adam, l2, adamw = toy.final
    assert np.ptp(adam) < 1e-6 and np.ptp(adamw) < 1e-6  # the same for s = 10, 1, 0.1
    # Adam+L2 ends near the ridge solution s/(s+lambda): large s kept, small s shrunk.
    np.testing.assert_allclose(l2, np.array([10, 1, 0.1]) / (np.array([10, 1, 0.1]) + 1), atol=0.06)
    assert adamw[0] < adam[0]  # AdamW does decay
    assert toy.rates[2] == pytest.approx([0.01] * 3)
    assert toy.rates[1, 2] / toy.rates[1, 0] > 50  # Adam+L2 decays the small-gradient one most


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lam,lr", [(0.3, 0.01), (1.0, 0.01), (1.0, 0.03)])
def test_toy_lessons_hold_over_seeds_and_settings(seed, lam, lr):
    toy = W.decay_toy(lr=lr, weight_decay=lam, seed=seed)
    adam, l2, adamw = toy.final
    assert np.ptp(adam) < 1e-5 and np.ptp(adamw) < 1e-5  # scale-blind, with and without decay
    assert l2[0] > l2[1] > l2[2]  # Adam+L2 decays the small-gradient parameter most
    np.testing.assert_allclose(toy.rates[2], lr * lam)  # AdamW: alpha * lambda for all
    # Which method decays more depends on sqrt(v_hat) against 1: s = 10 has sqrt(v_hat) > 1.
    assert toy.rates[1, 0] < toy.rates[2, 0] < toy.rates[1, 2]


def test_torch_shrink_over_the_course_run_is_about_a_tenth_of_a_percent():
    for steps in (20 * 391, 20 * 469):  # 50,000 or 60,000 training images, batches of 128
        shrink = W.torch_shrink_over_run(1e-3, 1e-4, steps)
        assert shrink == pytest.approx((1 - 1e-7) ** steps, abs=1e-12)
        assert 0.0007 < 1 - shrink < 0.001


def test_toy_without_decay_all_methods_agree():
    toy = W.decay_toy(lr=0.01, weight_decay=0.0)
    np.testing.assert_allclose(toy.path[:, 1], toy.path[:, 0])
    np.testing.assert_allclose(toy.path[:, 2], toy.path[:, 0])


def test_decay_panel_sweep_extremes():
    panel = W.make_decay_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tried = panel.sweep_extremes()
    assert tried and all(t["error"] is None for t in tried), tried
    for values in ({"weight_decay": 0.1}, {"lr": 0.1}, {"weight_decay": 0.01, "lr": 0.003}):
        before = panel.image.value
        panel.set(**values)
        assert panel.image.value != before, values
    median = float(np.median(panel.timings_ms))
    print(f"decay panel: median redraw {median:.0f} ms over {len(panel.timings_ms)} redraws")
    # Speed is shown by benchmarks/bench_panels.py, not asserted here (timings are load-dependent).


# ---------------------------------------------------------------- exercise checkers




def test_decay_panel_texts_stay_inside_the_figure_at_every_extreme():
    from course_utils.nb05_adamw import make_decay_panel
    from course_utils.widgets import text_overflow_at_extremes

    assert text_overflow_at_extremes(make_decay_panel()) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l2_tail_is_weights_already_driven_to_zero(seed):
    from course_utils.nb05_adamw import l2_tail

    tail = l2_tail(steps=100, seed=seed)
    assert 0.02 < tail["tail"] / tail["size"] < 0.1
    assert tail["tail_median_abs_w"] < 0.1 * tail["start_median_abs_w"]
    assert tail["huge"] == 0 or tail["huge_median_abs_w"] < 1e-4
    assert tail["adamw_shrinkage"] < 2e-5
    # About half the tail below 1e-3, the layer's share below 1e-3 several times plain Adam's,
    # and the tail's weights far smaller than after plain Adam.
    assert 0.3 < tail["tail_small_fraction"] < 0.8
    small = tail["layer_small_fraction"]
    assert small["Adam+L2"] > 2 * max(small["plain Adam"], small["start"])
    assert tail["tail_vs_plain"] < 0.2  # at least 5x smaller (about 1/50 at seed 0)
