"""Notebook 09: the trial runner, the budget arithmetic, inclusion and the exercise checkers."""

import itertools
import json
import math

import numpy as np
import pytest
import torch

from course_utils import nb09_budget as bud
from course_utils import nb09_exercises as ex
from course_utils import nb09_inclusion as inc
from course_utils import nb09_trials as T
from course_utils.nb09_study import NOTEBOOK_SPEC, group_keys, search_configs


@pytest.fixture(scope="module")
def data():
    return T.load_data()


# ------------------------------------------------------------------ search spaces


def test_halton_is_the_radical_inverse():
    pts = T.halton(4, 2)
    np.testing.assert_allclose(pts[:, 0], [0.5, 0.25, 0.75, 0.125])
    np.testing.assert_allclose(pts[:, 1], [1 / 3, 2 / 3, 1 / 9, 4 / 9])


@pytest.mark.parametrize("method", T.METHODS)
@pytest.mark.parametrize("space", T.SPACES)
def test_every_method_searches_by_the_same_rules(method, space):
    points = T.search_points(method, space, 16)
    lrs = np.log10([p["lr"] for p in points])
    assert np.all((lrs >= -4 - 1e-3) & (lrs <= 1e-3))
    # evenly spread: every decade of the learning rate gets 4 +- 1 points
    counts = np.histogram(lrs, bins=4, range=(-4, 0))[0]
    assert counts.min() >= 3 and counts.max() <= 5
    tuned = T.tuned_names(method, space)
    for name in ("momentum", "eps", "weight_decay"):
        values = {p[name] for p in points}
        assert (len(values) > 1) == (name in tuned), name
    assert points == T.search_points(method, space, 16)  # deterministic


def test_the_study_gives_every_optimizer_the_same_number_of_trials():
    configs = search_configs(NOTEBOOK_SPEC)
    assert set(configs) == set(group_keys(NOTEBOOK_SPEC))
    assert {len(c) for c in configs.values()} == {NOTEBOOK_SPEC.n_trials}
    assert all(c.seed == 0 and not c.test for group in configs.values() for c in group)


def test_trial_config_rejects_bad_input_and_names_everything():
    with pytest.raises(ValueError, match="workload"):
        T.TrialConfig("cnn", "adam", 1e-3, 0.9, 1e-8, 0.0)
    with pytest.raises(ValueError, match="optimizer"):
        T.TrialConfig("mlp", "lion", 1e-3, 0.9, 1e-8, 0.0)
    with pytest.raises(ValueError, match="lr"):
        T.TrialConfig("mlp", "adam", math.nan, 0.9, 1e-8, 0.0)
    name = T.TrialConfig("mlp", "adam", 1e-3, 0.9, 1e-8, 0.0, threads=2).name
    assert "_cpu_t2_torch" in name and T.torch_version() in name and name.endswith("seed0")


# ------------------------------------------------------------------ the resumable runner


def _tiny(**kw):
    base = dict(lr=0.05, momentum=0.9, eps=0.0, weight_decay=0.0, epochs=1, train_subset=512)
    base.update(n_val=512, batch_size=128, evals_per_epoch=2)
    base.update(kw)
    return T.TrialConfig("logreg", "sgd", **base)


def test_trials_are_stored_reloaded_and_a_corrupt_file_is_recomputed(tmp_path, data, capsys):
    cfgs = [_tiny(), _tiny(seed=1, test=True)]
    first = T.run_trials(cfgs, tmp_path, data=data)
    assert [r["loaded"] for r in first] == [False, False]
    assert first[0]["history"]["step"] == [2, 4] and first[0]["test"] is None
    assert 0 < first[1]["test"]["acc"] <= 1
    again = T.run_trials(cfgs, tmp_path, data=data)
    assert [r["loaded"] for r in again] == [True, True]
    assert again[0]["history"]["val_acc"] == first[0]["history"]["val_acc"]
    path = tmp_path / f"{cfgs[0].name}.json"
    stored = json.loads(path.read_text())
    stored["history"]["val_acc"] = stored["history"]["val_acc"][:1]
    path.write_text(json.dumps(stored))
    third = T.run_trials(cfgs, tmp_path, data=data)
    assert "Corrupt trial file" in capsys.readouterr().err
    assert third[0]["loaded"] is False and third[1]["loaded"] is True
    assert third[0]["history"]["val_acc"] == first[0]["history"]["val_acc"]  # reproducible


def test_two_processes_give_the_same_trials_as_one(tmp_path, data):
    # run_trials' pool is runs.train_in_pool, shared with run_experiment.
    cfgs = [_tiny(), _tiny(seed=1, test=True), _tiny(lr=0.2)]
    pooled = T.run_trials(cfgs, tmp_path / "pool", workers=2)
    alone = T.run_trials(cfgs, tmp_path / "one", data=data)
    assert [r["loaded"] for r in pooled] == [False] * 3
    for a, b in zip(pooled, alone):
        assert a["history"]["val_acc"] == b["history"]["val_acc"]
        assert a["history"]["train_loss"] == b["history"]["train_loss"]
        assert a["test"] == b["test"]
    again = T.run_trials(cfgs, tmp_path / "pool", workers=2)
    assert [r["loaded"] for r in again] == [True] * 3


def test_a_diverging_trial_is_marked(data):
    cfg = T.TrialConfig("mlp", "sgd", 10.0, 0.99, 0.0, 0.0, epochs=2, train_subset=512, n_val=512)
    result = T.run_trial(cfg, data)
    assert result["history"]["diverged"]


# ------------------------------------------------------------------ best of K


@pytest.mark.parametrize("n,k", [(5, 1), (5, 2), (6, 3), (7, 7), (8, 4)])
def test_expected_best_of_k_is_the_mean_over_all_subsets(n, k):
    x = np.random.default_rng(n * 10 + k).uniform(size=n)
    best = [max(c) for c in itertools.combinations(x, k)]
    mean, sd = bud.expected_best_of_k(x, k)
    assert mean == pytest.approx(np.mean(best), abs=1e-12)
    assert sd == pytest.approx(np.std(best), abs=1e-12)


def test_best_of_k_never_falls_with_the_budget_and_bootstrap_covers_it():
    x = np.random.default_rng(0).uniform(0.5, 0.9, 16)
    means, sds = bud.best_of_k_curve(x)
    assert np.all(np.diff(means) >= 0) and sds[-1] == 0 and means[-1] == x.max()
    boot = bud.bootstrap_best_of_k(x, 4, 500)
    assert boot.min() <= means[3] <= boot.max()
    c = bud.compare_at_k(x, x - 0.01, 4)
    assert c["diff"] == pytest.approx(0.01) and c["detectable"] == pytest.approx(2.8 * c["se"], 0.01)


def test_fastest_of_k_matches_all_subsets():
    times = np.array([100.0, 50.0, np.inf, 200.0, np.inf])
    for k in range(1, 6):
        r = bud.best_of_k_steps(times, k)
        mins = [min(c) for c in itertools.combinations(times, k)]
        assert r["p_reach"] == pytest.approx(np.mean(np.isfinite(mins)))
        assert r["median"] == np.sort(mins)[(len(mins) - 1) // 2] or r["median"] == np.median(mins)


def test_steps_to_target_and_crossings():
    steps = np.array([10, 20, 30])
    acc = np.array([[0.5, 0.7, 0.9], [0.8, 0.6, 0.7], [0.1, 0.2, 0.3]])
    np.testing.assert_array_equal(bud.steps_to_target(steps, acc, 0.7), [20, 10, np.inf])
    assert bud.crossings(steps, [0.5, 0.7, 0.9], [0.6, 0.7, 0.8]) == [30]
    assert bud.crossings(steps, [0.5, 0.6, 0.7], [0.6, 0.7, 0.8]) == []


def test_performance_profile():
    times = {"a": {"x": 1.0, "y": 2.0}, "b": {"x": 3.0, "y": 1.0}, "c": {"x": 1.0, "y": np.inf}}
    rho = bud.performance_profile(times, [1.0, 2.0, 3.0, 100.0])
    np.testing.assert_allclose(rho["x"], [2 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(rho["y"], [1 / 3, 2 / 3, 2 / 3, 2 / 3])


# ------------------------------------------------------------------ optimizer inclusion


@pytest.mark.parametrize("workload", ["logreg", "mlp"])
@pytest.mark.parametrize("seed,alpha", [(0, 0.01), (1, 0.005)])
def test_adam_with_huge_eps_follows_momentum_sgd(data, workload, seed, alpha):
    kw = dict(alpha=alpha, beta1=0.9, steps=60, data=data, workload=workload, seed=seed)
    sgd = inc.train_path("sgd", **{k: v for k, v in kw.items()})
    plain = inc.train_path("sgd_plain", **kw)
    gaps = [inc.relative_gap(inc.train_path("adam", eps=e, **kw), sgd) for e in (1e-8, 1.0, 1e6)]
    assert gaps[0] > 0.3 and gaps[2] < 1e-4 and gaps[1] > gaps[2]
    big = inc.train_path("adam", eps=1e6, **kw)
    assert inc.relative_gap(big, plain) > 100 * gaps[2]  # the bias correction is what is left


def test_inclusion_needs_the_scaled_learning_rate(data):
    kw = dict(alpha=0.01, beta1=0.9, steps=30, data=data, workload="logreg")
    sgd = inc.train_path("sgd", **kw)
    unscaled = inc.train_path("adam", eps=1e6, lr_adam=0.01, **kw)
    assert inc.relative_gap(unscaled, sgd) > 0.9  # lr not scaled by eps: Adam barely moves


# ------------------------------------------------------------------ exercise checkers


def _solution_best(scores, k):
    s = sorted(scores)
    return sum(s[i - 1] * math.comb(i - 1, k - 1) for i in range(k, len(s) + 1)) / math.comb(
        len(s), k
    )


def test_exercise_checkers_pass_solutions_and_name_mistakes():
    assert ex.check_expected_best(_solution_best, verbose=False).passed
    r = ex.check_expected_best(lambda s, k: max(s[:k]), verbose=False)
    assert not r.passed and "order" in r.hint
    assert ex.check_adam_lr(lambda a, e, b: a * e / (1 - b), verbose=False).passed
    r = ex.check_adam_lr(lambda a, e, b: a * e, verbose=False)
    assert not r.passed and "1 - beta1" in r.hint
    assert ex.check_profile(
        lambda t, m, tau: float(np.mean([t[w][m] / min(t[w].values()) <= tau for w in t])),
        verbose=False,
    ).passed
    r = ex.check_profile(lambda t, m, tau: 0.0, verbose=False)
    assert not r.passed
    strict = ex.check_profile(
        lambda t, m, tau: float(np.mean([t[w][m] / min(t[w].values()) < tau for w in t])),
        verbose=False,
    )
    assert not strict.passed and "<= tau" in strict.hint
    r = ex.check_expected_best(ex._with_replacement, verbose=False)
    assert not r.passed and "replacement" in r.hint


def test_the_torch_optimizers_match_their_configs():
    cfg = T.TrialConfig("mlp", "adam", 1e-3, 0.8, 1e-6, 1e-4)
    opt = T.make_trial_optimizer(cfg, [torch.nn.Parameter(torch.zeros(2))])
    assert opt.defaults["betas"] == (0.8, 0.999) and opt.defaults["eps"] == 1e-6


# ------------------------------------------------------------------ the lessons, on other seeds


def _curve(data, method, hp, seed, workload="mlp", **kw):
    cfg = T.TrialConfig(workload, method, **hp, seed=seed, epochs=4, train_subset=4000,
                        n_val=2000, **kw)
    return np.maximum.accumulate(np.asarray(T.run_trial(cfg, data)["history"]["val_acc"]))


@pytest.mark.parametrize("seed", [11, 12])
def test_the_one_epoch_pick_leads_early_and_loses_its_lead(data, seed):
    # the notebook's two picks (Adam tuned for one epoch, SGD tuned for four), on other seeds
    # and half the data
    adam = {"lr": 0.00307, "momentum": 0.8506, "eps": 2.938e-10, "weight_decay": 0.001875}
    sgd = {"lr": 0.03116, "momentum": 0.9403, "eps": 0.0, "weight_decay": 1.966e-05}
    lead = _curve(data, "adam", adam, seed) - _curve(data, "sgd", sgd, seed)
    assert lead[0] > 0.02 and lead[-1] < lead[0] - 0.02


@pytest.mark.parametrize("seed", [0, 3])
def test_a_short_horizon_picks_a_larger_learning_rate(data, seed):
    points = T.search_points("sgd", "lr", 8)
    cfgs = [T.TrialConfig("logreg", "sgd", **p, seed=seed, epochs=4, train_subset=4000,
                          n_val=2000) for p in points]
    from course_utils.nb09_study import to_search

    search = to_search(("logreg", "sgd", "lr"), [T.run_trial(c, data) for c in cfgs])
    h = bud.short_horizon(search, 2)
    assert h["lr_short"] >= h["lr_long"] and h["regret"] >= 0


def test_paired_ratio_calls_costs_different_only_when_every_round_agrees():
    from course_utils import nb09_timing as timing

    slow = {"rounds": [1.3, 1.4, 1.2, 2.5, 1.3, 1.35, 1.3]}
    fast = {"rounds": [1.0, 1.1, 1.0, 1.9, 1.0, 1.0, 1.05]}
    r = timing.paired_ratio(slow, fast)
    assert r["different"] and r["above"] == 7 and r["n"] == 7
    assert r["p_sign"] == pytest.approx(2 / 2**7) and r["low"] <= r["median"] <= r["high"]
    # one round the other way: not resolved, and the sign test agrees (p = 16/128)
    mixed = {"rounds": [1.3, 1.4, 1.2, 2.5, 1.3, 1.35, 0.9]}
    r = timing.paired_ratio(mixed, fast)
    assert not r["different"] and r["p_sign"] == pytest.approx(16 / 128)
    # a single burst of load in one round cannot flip the verdict, unlike max/min spreads
    burst = dict(fast, rounds=[1.0, 1.1, 1.0, 9.0, 1.0, 1.0, 1.05])
    slow_burst = dict(slow, rounds=[1.3, 1.4, 1.2, 9.5, 1.3, 1.35, 1.3])
    assert timing.paired_ratio(slow_burst, burst)["different"]
    with pytest.raises(ValueError):
        timing.paired_ratio({"rounds": [1.0, 2.0]}, {"rounds": [1.0]})


def test_ties_share_one_rule_and_leaders_are_a_set():
    steps = {"sgd": 94.0, "adam": 94.0, "adagrad": 158.0}
    per_step = {"sgd": 2.0, "adam": 3.0, "adagrad": 1.0}
    assert bud.leaders(steps) == {"sgd", "adam"}
    assert bud.leaders({"sgd": math.inf, "adam": math.inf, "adagrad": math.inf}) == frozenset()
    text = bud.describe_order(steps, per_step)
    assert " = " in text and text.index("SGD") < text.index("Adam") < text.index("Adagrad")
    order = sorted(steps, key=lambda m: bud.rank_key(steps[m], per_step[m]))
    assert order == ["sgd", "adam", "adagrad"]
    # the leaders do not depend on the order the methods are listed in
    assert bud.leaders(dict(reversed(list(steps.items())))) == bud.leaders(steps)


def test_seconds_per_step_keeps_the_rounds_paired(data):
    from course_utils import nb09_timing as timing

    table = timing.seconds_per_step("logreg", data, repeats=3, steps=4)
    for row in table.values():
        assert len(row["rounds"]) == 3 and row["min"] == min(row["rounds"]) > 0
        assert row["min"] <= row["median"] and row["spread"] >= 0
    r = timing.paired_ratio(table["adam"], table["sgd"])
    assert r["n"] == 3 and r["low"] <= r["median"] <= r["high"] and 0 < r["p_sign"] <= 1
