"""Notebook 10's lessons, over a range of seeds and settings around the ones shown.

* sign descent: Adam with beta2 = 0 runs signSGD's curve; with exact gradients Adam (beta2 = 0.999)
  ends decades below sign descent's limit cycle; with noise signum settles above Adam;
* steepest descent: each norm's formula beats random unit directions; Newton-Schulz lifts more
  singular values with more steps;
* Shampoo: exact memory; a step much cheaper than full-matrix Adagrad's (timing, wide margins);
* the rotation race: GD, Newton, full-matrix Adagrad, Shampoo and Muon are invariant at every
  angle, Adam and signum are not (except at 0 and 90 degrees, a permutation with signs);
  Shampoo's steps point only loosely along full-matrix Adagrad's, the same at every angle, while
  diagonal Adagrad's agreement falls with the rotation;
* the panel: every slider setting draws without error;
* Fashion-MNIST: the runner's rules (log-uniform box draws, caching, Muon on the hidden matrices);
  the control (AdamW with the hybrid's two rates) is level with AdamW and behind Muon + AdamW at
  another search seed and another size, and a rest rate below its box gains it nothing.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils import nb10_fashion as fashion
from course_utils import nb10_muon as muon
from course_utils import nb10_norms as norms
from course_utils import nb10_sign as sign
from course_utils.models import make_mlp

# ------------------------------------------------------------------------------ section 1


@pytest.mark.parametrize("lr", [0.06, 0.09, 0.13, 0.2])
def test_adam_memory_beats_the_sign_limit_cycle_with_exact_gradients(lr):
    floors = sign.quadratic_floors([lr])
    s = floors["signSGD", lr][0]
    assert abs(floors["Adam, β₁ = β₂ = 0", lr][0] - s) < 0.3  # the same cycle (eps aside)
    runs = sign.quadratic_runs(lr, steps=int(2.5 / lr))  # before any coordinate arrives
    path_gap = np.abs(runs["signSGD"][0].path - runs["Adam, β₁ = β₂ = 0"][0].path).max()
    assert path_gap < 1e-4  # the same path up to eps / |g| per step
    assert floors["Adam, β₁ = 0, β₂ = 0.999", lr][0] < s - 5
    assert s > -5  # the cycle: sign descent stalls


@pytest.mark.parametrize("sigma", [0.2, 0.3, 0.5])
def test_signum_settles_above_adam_with_noisy_gradients(sigma):
    for lr in (0.08, 0.12):
        noisy = sign.quadratic_floors([lr], noise_std=sigma, seeds=range(8))
        diff = noisy["signum, β₁ = 0.9", lr] - noisy["Adam, β₁ = 0.9, β₂ = 0.999", lr]
        assert diff.mean() > 2 * diff.std(ddof=1) / np.sqrt(len(diff)), (sigma, lr)


def test_adam_equals_sign_for_other_seeds_and_steps():
    assert max(sign.adam_equals_sign(n=300, lr=lr, seed=s) for s in range(3) for lr in (0.01, 1.0)) < 1e-14


# ------------------------------------------------------------------------------ section 2


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", [(6, 9), (12, 5)])
def test_steepest_directions_beat_random_directions(seed, shape):
    G = np.random.default_rng(seed).standard_normal(shape) ** 3  # heavy-tailed entries
    for name, D in norms.steepest_directions(G).items():
        assert np.isclose(norms.norm_of(D, name), 1.0)
        assert np.sum(G * D) >= norms.best_random_gain(G, name, n=300, seed=seed)


def test_newton_schulz_lifts_more_singular_values_with_more_steps():
    G = np.random.default_rng(0).standard_normal((40, 60)) @ np.diag(np.geomspace(1, 1e-3, 60))
    lifted = [norms.lifted_fraction(G, k) for k in (1, 3, 5, 8)]
    assert lifted == sorted(lifted) and lifted[0] < lifted[-1]
    with pytest.raises(ValueError, match="norm"):
        norms.norm_of(G, "l1")


# ------------------------------------------------------------------------------ section 3


def test_memory_is_exact_and_shampoo_is_far_cheaper_than_the_full_matrix():
    assert norms.memory_floats(3, 5) == {"diagonal Adagrad": 15, "Shampoo": 34,
                                         "full-matrix Adagrad": 225}
    t = norms.time_preconditioner_steps(20, 20, repeats=3)
    assert t["full-matrix Adagrad"][0] > 10 * t["Shampoo"][0]


# ------------------------------------------------------------------------------ section 4


@pytest.mark.parametrize("angle", [15.0, 30.0, 60.0, 75.0])
def test_rotation_race_invariance_at_every_angle(angle):
    gaps = muon.invariance_gaps(angle, steps=60)
    assert all(gaps[m] < 1e-10 for m in muon.INVARIANT), gaps
    assert gaps["adam"] > 0.05 and gaps["sign"] > 0.05, gaps


def test_a_right_angle_is_a_signed_permutation_which_adam_does_not_notice():
    gaps = muon.invariance_gaps(90.0, steps=60)
    assert gaps["adam"] < 1e-10 and gaps["sign"] < 1e-10


@pytest.mark.parametrize("lr", [0.05, 0.1])
def test_rotation_costs_adam_a_decade(lr, monkeypatch):
    monkeypatch.setitem(muon.RACE_LRS, "adam", lr)
    aligned, rotated = muon.race_runs("adam", (0.0, 45.0))[0]
    assert np.log10(rotated[-1]) > np.log10(aligned[-1]) + 1


def test_rotation_panel_draws_every_setting():
    panel = muon.make_rotation_panel()
    tried = panel.sweep_extremes()
    assert all(t["error"] is None for t in tried)
    assert len({t["image"] for t in tried}) > 2
    with pytest.raises(ValueError, match="Unknown method"):
        muon.race_runs("lion")


# ------------------------------------------------------------------------------ section 5


def test_box_draws_are_log_uniform_inside_the_box_and_repeatable():
    box = fashion.SEARCH_BOXES["adamw"]
    draws = fashion.sample_box(box, 200, shift=0.3)
    assert draws == fashion.sample_box(box, 200, shift=0.3)
    assert draws != fashion.sample_box(box, 200, shift=0.1)
    lr = np.array([d["lr"] for d in draws])
    assert lr.min() >= 1e-4 * 0.999 and lr.max() <= 1e-2 * 1.001
    assert 0.35 < np.mean(lr < 1e-3) < 0.65  # the box's geometric middle splits it in half


def test_muon_takes_the_hidden_matrices_and_adamw_the_rest():
    model = make_mlp(0)
    hidden, rest = fashion.hidden_and_rest(model)
    assert [tuple(p.shape) for p in hidden] == [(256, 784), (128, 256)]
    assert sum(p.numel() for p in hidden + rest) == 235_146
    opt = fashion.make_contender("muon+adamw", model, {"lr": 0.02, "adamw_lr": 1e-3})
    before = [p.detach().clone() for p in model.parameters()]
    X = torch.randn(16, 1, 28, 28)
    torch.nn.functional.cross_entropy(model(X), torch.arange(16) % 10).backward()
    opt.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    with pytest.raises(ValueError, match="Unknown contender"):
        fashion.make_contender("lion", model, {})


def test_the_control_has_the_hybrids_split_and_rates_with_adamw_in_muons_place():
    model = make_mlp(0)
    opt = fashion.make_contender("adamw-2lr", model, {"lr": 3e-3, "adamw_lr": 2e-4})
    hybrid = fashion.make_contender("muon+adamw", make_mlp(0), {"lr": 0.02, "adamw_lr": 2e-4})
    assert isinstance(opt, torch.optim.AdamW)
    assert [g["lr"] for g in opt.param_groups] == [3e-3, 2e-4]
    assert all(g["weight_decay"] == 0 for g in opt.param_groups + hybrid.param_groups)
    shapes = [[tuple(p.shape) for p in g["params"]] for g in opt.param_groups]
    assert shapes == [[tuple(p.shape) for p in g["params"]] for g in hybrid.param_groups]
    assert fashion.SEARCH_BOXES["adamw-2lr"].keys() == fashion.SEARCH_BOXES["muon+adamw"].keys()


@pytest.mark.parametrize("setting", [
    dict(search_seed=1),  # another search: other network and batch order for every trial
    dict(search_seed=0, train_subset=2500, epochs=2),  # a smaller, shorter study
])
def test_the_gap_is_muons_not_the_second_rates(setting):
    size = {**fashion.SIZES["small"], "seeds": (5, 6, 7)}
    size.update({k: v for k, v in setting.items() if k != "search_seed"})
    tuned = {name: fashion.confirm(name, fashion.random_search(name, size, setting["search_seed"])["best"], size)
             for name in fashion.SEARCH_BOXES}
    test = {name: r["test_acc"] for name, r in tuned.items()}
    muon_part = test["muon+adamw"] - test["adamw-2lr"]
    rate_part = test["adamw-2lr"] - test["adamw"]
    assert np.all(muon_part > 0) and muon_part.mean() > 0.02  # ahead of the control on every seed
    assert abs(rate_part.mean()) < 0.4 * muon_part.mean()  # the second rate explains little
    val_end = {name: r["val_curves"][:, -1] for name, r in tuned.items()}
    assert np.all(val_end["muon+adamw"] > val_end["adamw-2lr"])  # ahead after the last epoch
    fig, ax = plt.subplots()
    fashion.plot_val_curves(ax, tuned)
    assert len(ax.get_legend().get_texts()) == 3
    plt.close(fig)


@pytest.mark.parametrize("setting", [
    dict(search_seed=0),  # the notebook's study
    dict(search_seed=1),  # another search: other network and batch order for every trial
    dict(search_seed=0, train_subset=2500, epochs=2),  # a smaller, shorter study
])
def test_the_controls_rest_rate_gains_nothing_below_its_box(setting):
    size = {**fashion.SIZES["small"], "seeds": (5, 6, 7)}
    size.update({k: v for k, v in setting.items() if k != "search_seed"})
    search = fashion.random_search("adamw-2lr", size, setting["search_seed"])
    below_box = (1e-5, 3e-5, 6e-5)
    assert max(below_box) < fashion.SEARCH_BOXES["adamw-2lr"]["adamw_lr"][0]
    scan = fashion.rate_scan("adamw-2lr", search["best"], "adamw_lr", below_box, size, setting["search_seed"])
    seed_sd = np.std(fashion.confirm("adamw-2lr", search["best"], size)["val_acc"], ddof=1)
    assert max(scan.values()) - search["best_acc"] < 0.5 * seed_sd  # well within the seed noise


def test_a_run_is_cached_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    size = dict(train_subset=256, n_val=256, epochs=1, trials=2, seeds=(1, 2))
    first = fashion.train("signum", {"lr": 1e-3}, 0, size)
    assert list(tmp_path.rglob("*.json"))
    again = fashion.train("signum", {"lr": 1e-3}, 0, size)
    assert again["history"]["val_acc"] == first["history"]["val_acc"]
    assert 0.0 < fashion.final_val_acc(first) <= 1.0


# ------------------------------------------------------------------------------ exercises


def test_exercise_checkers_accept_correct_forms_and_name_mistakes():
    from course_utils import nb10_exercises as ex

    def signum_torch(w, g, m, lr=0.01, beta1=0.9):
        w, g, m = (torch.as_tensor(a) for a in (w, g, m))
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        return w - lr * m.sign(), m

    assert ex.check_signum(signum_torch, verbose=False).passed
    for hint, wrong in ex.SIGNUM_MISTAKES.items():
        result = ex.check_signum(wrong, verbose=False)
        assert not result.passed and result.hint == "Likely mistake: " + hint
    assert ex.check_newton_schulz(ex.newton_schulz_reference, verbose=False).passed
    with np.errstate(over="ignore", invalid="ignore"):
        for hint, wrong in ex.NS_MISTAKES.items():
            result = ex.check_newton_schulz(wrong, verbose=False)
            assert not result.passed and result.hint == "Likely mistake: " + hint
    assert ex.check_shampoo_memory(59200, verbose=False).passed  # 3 significant figures
    assert not ex.check_shampoo_memory(784.0, verbose=False).passed


def test_rotation_panel_text_stays_inside_the_figure():
    from course_utils.widgets import text_overflow_at_extremes

    assert text_overflow_at_extremes(muon.make_rotation_panel()) == []


def test_the_timed_full_matrix_step_is_notebook_02s():
    from course_utils.nb02_demos import full_matrix_adagrad_update

    rng = np.random.default_rng(0)
    w, G = rng.standard_normal(12), np.zeros((12, 12))
    a, b = (w, G), (w, G)
    for _ in range(5):
        g = rng.standard_normal(12)
        a = norms.full_matrix_step(a[0], g, a[1], 0.1)
        b = full_matrix_adagrad_update(b[0], g, b[1], 0.1)
    assert np.allclose(a[0], b[0]) and np.allclose(a[1], b[1])


def test_race_step_sizes_are_tuned_by_one_rule_and_rotation_costs_adam():
    lrs = muon.tuned_race_lrs()
    assert all(lr in muon.RACE_LR_GRID for lr in lrs.values())
    race = muon.rotation_race(45.0)
    for m in ("gd", "full", "shampoo", "muon"):
        assert abs(muon.race_score(race[m][0]) - muon.race_score(race[m][1])) < 0.02
    assert np.log10(race["adam"][1][-1] / race["adam"][0][-1]) > 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pure_noise_factor_median_and_rms(seed):
    from course_utils.nb10_sign import pure_noise_factor

    f = pure_noise_factor(steps=200, n=20_000, seed=seed)
    assert 0.1 < np.median(f) < 0.2
    assert 0.18 < np.sqrt(np.mean(f**2)) < 0.28
    with pytest.raises(ValueError):
        pure_noise_factor(steps=0)


@pytest.mark.parametrize("data_seed", [0, 1, 2, 3])
@pytest.mark.parametrize("angle", [20.0, 45.0, 70.0])
def test_rotation_race_ranking_over_problems_and_angles(data_seed, angle):
    race = muon.rotation_race(angle, data_seed=data_seed)
    score = {m: (muon.race_score(a), muon.race_score(r)) for m, (a, r) in race.items()}
    assert sorted(score, key=lambda m: score[m][1])[:2] in (["shampoo", "full"], ["full", "shampoo"])
    assert score["adam"][0] < min(score[m][0] for m in ("gd", "muon", "sign"))
    assert abs(score["sign"][1] - score["sign"][0]) < 0.3
    assert abs(score["muon"][0] - score["gd"][0]) < 0.5  # Muon and GD close by mean loss
    assert np.log10(race["muon"][0][-1] / race["gd"][0][-1]) < 0  # Muon ahead at t = 100


@pytest.mark.parametrize("data_seed", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("angle", [20.0, 45.0, 70.0])
def test_shampoo_steps_are_related_to_full_matrix_and_invariant_diagonal_ones_are_not(data_seed, angle):
    aligned = {k: np.median(c) for k, c in muon.step_cosines(0.0, data_seed).items()}
    rotated = {k: np.median(c) for k, c in muon.step_cosines(angle, data_seed).items()}
    assert abs(aligned["Shampoo"] - rotated["Shampoo"]) < 1e-6
    assert 0.3 < aligned["Shampoo"] < 0.8
    assert rotated["diagonal Adagrad"] < min(aligned["diagonal Adagrad"], rotated["Shampoo"])
    first = muon.step_cosines(0.0, data_seed)
    assert first["gradient"][0] > 1 - 1e-9 and first["Shampoo"][0] < 0.9


def test_nesterov_buffer_is_less_lopsided_than_one_gradient():
    from course_utils.optimizers import newton_schulz

    u = norms.mlp_nesterov_buffer(layer=1, steps=20)
    g = norms.mlp_gradient(layer=1, steps=20)
    assert u.shape == g.shape == (256, 784)
    assert np.sqrt(np.mean(newton_schulz(u) ** 2)) > np.sqrt(np.mean(newton_schulz(g) ** 2))
    with pytest.raises(ValueError):
        norms.mlp_nesterov_buffer(momentum=1.0)
