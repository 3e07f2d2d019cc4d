"""The shared statistics: t tables, paired and unpaired differences, per-method noise, power."""

import math

import numpy as np
import pytest

from course_utils import stats as st


@pytest.mark.parametrize(
    "df, q975",
    [(1, 12.706), (2, 4.303), (5, 2.571), (9, 2.262), (29, 2.045), (10**7, 1.960)],
)
def test_t_quantiles_match_the_printed_table(df, q975):
    assert st.t_quantile(0.975, df) == pytest.approx(q975, abs=1e-3)
    assert st.t_two_sided_p(q975, df) == pytest.approx(0.05, abs=1e-4)
    assert st.t_two_sided_p(-q975, df) == pytest.approx(0.05, abs=1e-4)


def test_p_value_edges():
    assert st.t_two_sided_p(0.0, 4) == 1.0
    assert st.t_two_sided_p(math.inf, 4) == 0.0
    assert st.t_two_sided_p(1.0, 1) == pytest.approx(0.5)  # Cauchy: P(|T| > 1) = 1/2


def test_paired_difference_by_hand():
    out = st.paired_difference([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert set(out) == {"mean", "se", "t", "df", "p", "n", "ci_low", "ci_high"}
    assert out["mean"] == 2.0 and out["df"] == 2 and out["n"] == 3
    assert out["se"] == pytest.approx(1 / math.sqrt(3))
    assert out["t"] == pytest.approx(2 * math.sqrt(3))
    assert out["p"] == pytest.approx(0.0742, abs=1e-4)  # t = 3.464, df = 2
    assert out["ci_low"] == pytest.approx(2 - 4.3027 / math.sqrt(3), abs=1e-4)
    assert out["ci_high"] == pytest.approx(2 + 4.3027 / math.sqrt(3), abs=1e-4)


def test_identical_differences_are_exact():
    out = st.paired_difference([1.5, 2.5], [1.0, 2.0])
    assert out["se"] == 0.0 and out["t"] == math.inf and out["p"] == 0.0
    assert out["ci_low"] == out["ci_high"] == 0.5
    same = st.paired_difference([1.0, 2.0], [1.0, 2.0])
    assert same["t"] == 0.0 and same["p"] == 1.0


def test_pairing_removes_a_shared_seed_effect():
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 1.0, 8)
    a = 0.3 + seed_effect + rng.normal(0, 0.05, 8)
    b = seed_effect + rng.normal(0, 0.05, 8)
    paired, unpaired = st.paired_difference(a, b), st.welch_difference(a, b)
    assert paired["mean"] == pytest.approx(unpaired["mean"])
    assert paired["mean"] == pytest.approx(0.3, abs=0.1)
    assert paired["se"] < unpaired["se"] / 5 and paired["p"] < 1e-4 and unpaired["p"] > 0.3


def test_welch_matches_its_formula():
    a, b = [1.0, 2.0, 4.0, 7.0], [0.0, 0.5, 0.7]
    va, vb = np.var(a, ddof=1) / 4, np.var(b, ddof=1) / 3
    out = st.welch_difference(a, b)
    assert out["se"] == pytest.approx(math.sqrt(va + vb))
    assert out["df"] == pytest.approx((va + vb) ** 2 / (va**2 / 3 + vb**2 / 2))
    assert out["n"] == (4, 3)


def test_confidence_interval_covers_the_truth_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(4000):
        d = 0.7 + rng.normal(0, 2.0, 5)
        out = st.paired_difference(d, np.zeros(5))
        hits += out["ci_low"] <= 0.7 <= out["ci_high"]
    assert hits / 4000 == pytest.approx(0.95, abs=0.012)  # 3.5 binomial SE


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="as many seeds"):
        st.paired_difference([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least two"):
        st.paired_difference([1], [2])
    with pytest.raises(ValueError, match="NaN"):
        st.paired_difference([1, float("nan")], [1, 2])
    with pytest.raises(ValueError, match="alpha"):
        st.paired_difference([1, 2], [1, 3], alpha=1.5)
    with pytest.raises(ValueError, match="methods x seeds"):
        st.method_noise(np.zeros(5))
    with pytest.raises(ValueError, match="sd_diff"):
        st.detectable_difference(0.0, 5)
    with pytest.raises(ValueError, match="n >= 2"):
        st.detectable_difference(1.0, 1)
    with pytest.raises(ValueError, match="gap"):
        st.seeds_for_gap(1.0, 0.0)
    with pytest.raises(ValueError, match="power"):
        st.detectable_difference(1.0, 5, power=0.01)


@pytest.mark.parametrize("seed", range(3))
def test_method_noise_recovers_each_methods_noise(seed):
    rng = np.random.default_rng(seed)
    sds = np.array([0.3, 0.5, 1.2, 0.4])
    n = 400
    values = (
        rng.normal(0, 1, (4, 1))
        + rng.normal(0, 3, (1, n))
        + rng.normal(0, 1, (4, n)) * sds[:, None]
    )
    out = st.method_noise(values)
    assert out["per_method"] == pytest.approx(sds, rel=0.15)
    assert out["df"] == 3 * (n - 1)
    # The pooled residual is the root mean variance of the methods.
    assert out["pooled"] == pytest.approx(math.sqrt(np.mean(sds**2)), rel=0.1)
    # SD of a difference: sqrt(s_i^2 + s_l^2), the seed effect cancels.
    assert out["sd_diff"][0, 2] == pytest.approx(math.hypot(0.3, 1.2), rel=0.1)
    assert np.allclose(out["sd_diff"], out["sd_diff"].T) and np.all(np.diag(out["sd_diff"]) == 0)


def test_method_noise_of_equally_noisy_methods():
    rng = np.random.default_rng(3)
    values = rng.normal(0, 2, (1, 300)) + rng.normal(0, 0.5, (5, 300))
    out = st.method_noise(values)
    assert out["pooled"] == pytest.approx(0.5, rel=0.05)
    assert out["per_method"] == pytest.approx(np.full(5, 0.5), rel=0.15)
    two = st.method_noise(values[:2])
    assert two["per_method"].tolist() == [two["pooled"]] * 2


def test_power_at_zero_difference_is_alpha():
    assert st.paired_power(0.0, 1.0, 6) == pytest.approx(0.05)
    assert st.paired_power(0.0, 1.0, 6, alpha=0.01) == pytest.approx(0.01)


@pytest.mark.parametrize("n, sd", [(3, 0.7), (6, 0.5), (10, 1.3)])
def test_detectable_difference_has_the_promised_power_by_simulation(n, sd):
    delta = st.detectable_difference(sd, n)
    rng = np.random.default_rng(n)
    d = delta + rng.normal(0, sd, (40_000, n))
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
    rejected = np.abs(t) > st.t_quantile(0.975, n - 1)
    assert rejected.mean() == pytest.approx(0.80, abs=0.01)  # 5 binomial SE
    # and a difference 30 % smaller is missed far more often
    assert st.paired_power(0.7 * delta, sd, n) < 0.6


def test_detectable_difference_matches_the_normal_approximation_for_many_seeds():
    sd, n = 1.0, 400
    approx = (1.959964 + 0.841621) * sd / math.sqrt(n)
    assert st.detectable_difference(sd, n) == pytest.approx(approx, rel=0.01)
    assert st.detectable_difference(2 * sd, n) == pytest.approx(2 * approx, rel=0.01)
    sizes = [st.detectable_difference(sd, k) for k in (2, 3, 6, 10, 30)]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize("gap, seeds", [(0.5, 34), (0.8, 15), (0.2, 199)])
def test_seeds_for_gap_matches_the_published_sample_sizes(gap, seeds):
    """Paired t-test, two-sided alpha 0.05, power 0.8, effect size gap / sd (Cohen's d_z):
    the sample sizes G*Power and Cohen's tables give."""
    assert st.seeds_for_gap(1.0, gap) == seeds
    assert st.detectable_difference(1.0, seeds) <= gap < st.detectable_difference(1.0, seeds - 1)


def test_null_range_of_identical_methods():
    out = st.null_range(4, 1.0, observed=1.0, draws=200_000)
    assert out["expected"] == pytest.approx(2.059, abs=0.02)  # E[range of 4 normals]
    assert out["low"] < 1.0 < out["expected"] < out["high"]
    assert 0.05 < out["p_at_most"] < 0.2


def test_binomial_se():
    assert st.binomial_se(0.886, 10_000) == pytest.approx(0.00318, abs=1e-5)
    with pytest.raises(ValueError):
        st.binomial_se(1.2, 10)


def test_mcnemar_difference_by_hand():
    # 20 images: a alone gets 5 wrong, b alone none, both get 2 wrong, the other 13 both right
    a = [1] * 5 + [1, 1] + [0] * 13
    b = [0] * 5 + [1, 1] + [0] * 13
    out = st.mcnemar_difference(a, b)
    assert (out["n"], out["b"], out["c"]) == (20, 5, 0)
    assert out["diff"] == pytest.approx(0.25)  # 7/20 - 2/20
    assert out["se"] == pytest.approx(math.sqrt(5 - 25 / 20) / 20)  # 0.0968
    assert out["p_exact"] == pytest.approx(2 * 0.5**5)  # both tails of Binomial(5, 1/2) at 5, 0
    same = st.mcnemar_difference(a, a)
    assert same["diff"] == 0 and same["se"] == 0 and same["p_exact"] == 1.0


def test_mcnemar_exact_p_is_the_binomial_tail():
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.random(300) < 0.2
        b = np.where(rng.random(300) < 0.9, a, ~a)
        out = st.mcnemar_difference(a, b)
        k, m = out["b"], out["b"] + out["c"]
        tail = sum(math.comb(m, i) for i in range(min(k, m - k) + 1)) / 2**m
        assert out["p_exact"] == pytest.approx(min(1.0, 2 * tail))


def test_mcnemar_se_matches_a_simulation_of_new_test_sets():
    # each new test image: only a wrong with prob 0.04, only b wrong 0.03, else no difference
    rng = np.random.default_rng(0)
    n, reps = 2000, 4000
    u = rng.random((reps, n))
    a = u < 0.04 + 0.10  # 0.10: both wrong
    b = (u >= 0.04) & (u < 0.04 + 0.03 + 0.10)
    results = [st.mcnemar_difference(x, y) for x, y in zip(a, b)]
    diffs = np.array([r["diff"] for r in results])
    ses = np.array([r["se"] for r in results])
    assert diffs.mean() == pytest.approx(0.01, abs=0.001)
    assert ses.mean() == pytest.approx(diffs.std(), rel=0.05)
    # far below the unpaired SE of two error rates of ~14 %
    assert ses.mean() < 0.6 * math.sqrt(2 * 0.14 * 0.86 / n)


def test_paired_item_se_averages_seeds_over_items():
    rng = np.random.default_rng(2)
    a = rng.random((4, 500)) < 0.15
    b = np.where(rng.random((4, 500)) < 0.9, a, ~a)
    out = st.paired_item_se(a, b)
    assert out["n_seeds"] == 4 and out["n_items"] == 500 and len(out["per_seed"]) == 4
    assert out["diff"] == pytest.approx(np.mean([r["diff"] for r in out["per_seed"]]))
    one = st.paired_item_se(a[:1], b[:1])
    assert one["se"] == pytest.approx(out["per_seed"][0]["se"])
    with pytest.raises(ValueError):
        st.paired_item_se(a, b[:, :10])
    with pytest.raises(ValueError):
        st.mcnemar_difference([0, 2], [0, 1])
