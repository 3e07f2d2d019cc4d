"""Tests for course_utils.nb08_weight_decay: parameterisations, grid bookkeeping, analysis, figures."""

from __future__ import annotations

import json
import math
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils import nb08_exercises as ex
from course_utils import nb08_figures as figs
from course_utils import nb08_stats as st
from course_utils import nb08_weight_decay as wd
from course_utils.models import make_mlp
from course_utils.nb08_cli import main
from course_utils.runs import RunConfig
from course_utils.training import make_optimizer

SMALL = wd.GridSpec(
    lrs=(1e-3, 4e-3),
    decays={"adam": (0.0, 1e-4, 1e-3), "adamw": (0.0, 1e-3, 1e-2)},
    seeds=(0, 1),
    train_subset=256,
    epochs=1,
    n_val=500,
)


# ------------------------------------------------------------------ parameterisation


def test_torch_weight_decay_converts_both_ways():
    assert wd.torch_weight_decay("adamw", 1e-3, 1e-2) == pytest.approx(10.0)
    assert wd.torch_weight_decay("adam", 1e-3, 1e-2) == 1e-2
    for method in wd.METHODS:
        lam = wd.paper_decay(method, 2e-3, wd.torch_weight_decay(method, 2e-3, 3e-4))
        assert lam == pytest.approx(3e-4, rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: wd.torch_weight_decay("sgd", 1e-3, 0.1), "Unknown method"),
        (lambda: wd.torch_weight_decay("adamw", 0.0, 0.1), "lr must be"),
        (lambda: wd.torch_weight_decay("adamw", 1e-3, -1.0), "lam must be"),
        (lambda: wd.paper_decay("adamw", math.nan, 0.1), "lr must be"),
    ],
)
def test_parameterisation_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _shrink_under_cosine(lr: float, weight_decay: float, steps: int = 50) -> float:
    """Weight left after ``steps`` torch AdamW steps with zero gradient and a cosine schedule."""
    w = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for _ in range(steps):
        w.grad = torch.zeros_like(w)
        opt.step()
        sched.step()
    return float(w.item())


def test_paper_parameterisation_decay_follows_schedule_not_lr():
    steps, lam = 50, 1e-2
    eta = [(1 + math.cos(math.pi * t / steps)) / 2 for t in range(steps)]
    expected = math.prod(1 - e * lam for e in eta)  # the paper's w <- w - eta_t * lam * w
    for lr in (1e-4, 1e-3, 1e-2):
        torch_wd = wd.torch_weight_decay("adamw", lr, lam)
        assert _shrink_under_cosine(lr, torch_wd, steps) == pytest.approx(expected, rel=1e-12)
    # torch's parameterisation at one fixed weight_decay: 100x smaller lr, ~100x less decay
    lost_small = 1 - _shrink_under_cosine(1e-4, 1.0, steps)
    lost_large = 1 - _shrink_under_cosine(1e-2, 1.0, steps)
    assert 80 < lost_large / lost_small <= 100  # (compounding makes it a bit less than 100)


def test_adamw_with_zero_decay_is_adam():
    """Why the grid runs the lam = 0 column once: AdamW(wd=0) and Adam(wd=0) are the same."""
    X = torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (64,), generator=torch.Generator().manual_seed(1))
    params = []
    for name in ("adam", "adamw"):
        model = make_mlp(3)
        opt = make_optimizer(name, model.parameters(), lr=1e-3, weight_decay=0.0)
        for _ in range(5):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
        params.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(params[0], params[1])


# ------------------------------------------------------------------ grid bookkeeping


def test_grid_configs_share_the_zero_column_and_recover_lam():
    configs = wd.grid_configs(SMALL)
    assert len(configs) == SMALL.n_runs == 2 * (1 + 2 + 2) * 2
    assert len({c.name for c in configs}) == len(configs)
    cells = {wd.cell_of(c) for c in configs}
    assert ("adam", 1e-3, 0.0) in cells and ("adamw", 1e-3, 0.0) not in cells
    adamw = [c for c in configs if c.optimizer == "adamw" and c.lr == 4e-3]
    assert sorted(c.weight_decay for c in adamw) == pytest.approx([0.25, 0.25, 2.5, 2.5])
    assert sorted({wd.cell_of(c)[2] for c in adamw}) == pytest.approx([1e-3, 1e-2])
    assert all(c.schedule == "cosine" and c.train_subset == 256 for c in configs)
    # seed-major order: a half-finished sweep has every cell for the first seeds
    assert [c.seed for c in configs[: len(configs) // 2]] == [0] * (len(configs) // 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lrs": (1e-3,)}, "at least two"),
        ({"lrs": (2e-3, 1e-3)}, "increasing"),
        ({"decays": {"adam": (0.0, 1e-4, 1e-3)}}, "keys"),
        ({"decays": {"adam": (1e-5, 1e-4, 1e-3), "adamw": (0.0, 1e-3, 1e-2)}}, "start with 0"),
        ({"seeds": (0,)}, "two distinct"),
        ({"train_subset": 59_800}, "train_subset"),
        ({"n_val": 0}, "n_val"),
    ],
)
def test_grid_spec_rejects_bad_settings(kwargs, message):
    settings = {**SMALL.to_dict(), **kwargs}
    settings["lrs"] = tuple(settings["lrs"])
    settings["seeds"] = tuple(settings["seeds"])
    with pytest.raises(ValueError, match=message):
        wd.GridSpec(**settings)


def test_ci_spec_fits_the_budget_and_full_spec_is_bigger():
    assert wd.NOTEBOOK_SPEC.n_runs <= 210
    assert len(wd.NOTEBOOK_SPEC.seeds) >= 4
    assert wd.FULL_SPEC.n_runs > wd.NOTEBOOK_SPEC.n_runs
    assert wd.FULL_SPEC.steps_per_run > wd.NOTEBOOK_SPEC.steps_per_run


def test_run_grid_is_resumable(tmp_path, capsys):
    configs = wd.grid_configs(SMALL)[:4]
    start = time.perf_counter()
    first = wd.run_grid(configs, tmp_path, workers=2, progress=False)
    assert [r["config"] for r in first] == [c.to_dict() for c in configs]
    assert all(r["meta"]["n_val"] == SMALL.n_val for r in first)
    # corrupt one file: it is named and recomputed, the others are read back
    broken = tmp_path / f"{configs[1].name}.json"
    broken.write_text("{not json", encoding="utf-8")
    second = wd.run_grid(configs, tmp_path, workers=2, progress=False)
    assert [r["loaded"] for r in second] == [True, False, True, True]
    assert "Corrupt results file" in capsys.readouterr().err
    assert second[1]["history"]["val_acc"] == first[1]["history"]["val_acc"]
    print(f"run_grid, 4 tiny runs twice: {time.perf_counter() - start:.1f} s")
    # another validation split is another run (its name says so), never a mix-up
    other = wd.GridSpec(**{**SMALL.to_dict(), "n_val": 600})
    assert {c.name for c in wd.grid_configs(other)}.isdisjoint(c.name for c in configs)


# ------------------------------------------------------------------ analysis


def _fake_results(spec: wd.GridSpec, error_fn) -> list[dict]:
    """Runner-shaped results whose final error is ``error_fn(method, lr, lam, seed)`` percent."""
    results = []
    for cfg in wd.grid_configs(spec):
        method, lr, lam = wd.cell_of(cfg)
        methods = wd.METHODS if lam == 0 else (method,)
        err = error_fn(methods[-1], lr, lam, cfg.seed)
        history = {"val_acc": [1 - err / 100] * cfg.epochs, "diverged": False}
        test = {"acc": 1 - (err + 1) / 100}
        results.append({"config": cfg.to_dict(), "history": history, "test": test})
    return results


SPEC5 = wd.GridSpec(
    lrs=(2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3),
    decays={"adam": (0.0, 1e-5, 1e-4, 1e-3, 1e-2), "adamw": (0.0, 1e-4, 1e-3, 1e-2, 1e-1)},
    seeds=(0, 1, 2, 3),
)


def _coupled_and_separable(method, lr, lam, seed):
    """Adam+L2: best log10(lam) = -3 - log10(lr/1e-3) (slope -1); AdamW: best lam = 1e-3."""
    noise = 0.01 * ((seed * 7 + int(1e6 * lr)) % 5)
    x = math.log10(lam) if lam > 0 else -7.0
    target = -3.0 - math.log10(lr / 1e-3) if method == "adam" else -3.0
    if method == "adamw" and lam == 0:
        target = -3.0
    return 15 + (x - target) ** 2 + noise


def test_grid_errors_and_trend_on_a_known_grid():
    grids = wd.grid_errors(_fake_results(SPEC5, _coupled_and_separable), SPEC5)
    assert grids["adam"].errors.shape == (5, 5, 4)
    assert np.all(np.isfinite(grids["adamw"].errors))
    adamw = wd.best_decay_trend(grids["adamw"], n_boot=200)
    assert adamw["slope"] == pytest.approx(0.0, abs=1e-12)
    assert list(adamw["best_decay"]) == [1e-3] * 5
    assert math.isnan(adamw["corr"]) and adamw["torch_slope"] == pytest.approx(-1.0)
    adam = wd.best_decay_trend(grids["adam"], n_boot=200)
    # a factor 2 in lr moves the best by at most one decade column: the fitted slope is negative
    assert adam["slope"] < -0.5 and adam["corr"] < -0.8
    assert adam["torch_slope"] == adam["slope"]
    np.testing.assert_allclose(adam["choice_freq"].sum(axis=1), 1.0)
    assert wd.best_cell(grids["adamw"])[1] == 2


def test_grid_errors_names_missing_runs_and_handles_divergence():
    results = _fake_results(SPEC5, _coupled_and_separable)
    with pytest.raises(ValueError, match="missing"):
        wd.grid_errors(results[:-1], SPEC5)
    results[0]["history"]["diverged"] = True
    grids = wd.grid_errors(results, SPEC5)
    assert np.isnan(grids["adam"].mean).sum() == 1
    assert np.isnan(grids["adamw"].mean).sum() == 1  # the shared zero column
    wd.best_decay_trend(grids["adam"], n_boot=10)  # a diverged cell never wins, no error


def test_compare_cells_unpaired_and_paired():
    a, b = [15.0, 15.2, 15.4, 15.6], [14.0, 14.25, 14.35, 14.6]
    out = st.compare_cells(a, b)
    assert out["diff"] == pytest.approx(1.0)
    s = np.std(a, ddof=1)
    assert out["se"] == pytest.approx(math.sqrt((s**2 + np.var(b, ddof=1)) / 4))
    assert 5.5 < out["df"] <= 6 and out["p"] < 0.01 and not out["paired"]
    paired = st.compare_cells(a, b, paired=True)
    d = np.subtract(a, b)
    assert paired["se"] == pytest.approx(d.std(ddof=1) / 2) and paired["df"] == 3
    assert paired["se"] < out["se"] / 5  # the shared seed effect cancels
    # 4 paired seeds detect about 4.5 paired SEs (noncentral t, df 3, 80 % power, 5 % level)
    assert out["detectable"] is None
    assert 3.5 * paired["se"] < paired["detectable"] < 6 * paired["se"]
    assert "detectable" in wd.describe_comparison("a", "b", paired)
    with pytest.raises(ValueError, match="two seeds"):
        st.compare_cells([1.0], [2.0, 3.0])
    with pytest.raises(ValueError, match="same seeds"):
        st.compare_cells([1.0, 2.0], [2.0, 3.0, 4.0], paired=True)


def test_gain_of_the_zero_decay_cell_over_itself_is_zero():
    grids = wd.grid_errors(_fake_results(SPEC5, _coupled_and_separable), SPEC5)
    errors = grids["adamw"].errors.copy()
    errors[:, 0] = errors.min() - 1.0  # no decay is best in every row
    grid = wd.Grid("adamw", grids["adamw"].lrs, grids["adamw"].decays, errors, SPEC5.seeds)
    rows = st.decay_gain_by_row(grid)
    assert all(r["best_decay"] == 0 and r["gain"] == 0 and r["se"] == 0 for r in rows)


@pytest.mark.parametrize("zero_at", [-4.5, -6.0, -8.0])
def test_placement_free_statistics_do_not_move_with_the_zero_column(zero_at):
    """A grid whose lower rows pick lam = 0: the argmin slope follows where 0 is drawn, the
    band edge and the best positive decay do not."""

    def error(method, lr, lam, seed):
        if lam == 0:  # the two lowest rows are best without decay, the others are not
            return 14.0 if lr < 1e-3 else 20.0
        target = -3.0 + math.log10(lr / 1e-3)  # best positive lam proportional to lr (slope +1)
        return 15 + 0.3 * (math.log10(lam) - target) ** 2 + 0.01 * seed

    grids = wd.grid_errors(_fake_results(SPEC5, error), SPEC5)
    stats = st.decoupling_statistics(grids["adamw"], n_boot=20)
    default = wd.best_decay_trend(grids["adamw"], n_boot=5)["slope"]
    moved = wd.best_decay_trend(grids["adamw"], n_boot=5, zero_at=zero_at)["slope"]
    assert moved != pytest.approx(default)
    fixed = stats["best positive λ"]
    assert stats["best λ (λ=0 one step below)"]["censored"][:2] == ["low", "low"]
    # the lowest row's best positive decay is the smallest one while lam = 0 beats it: censored low
    assert fixed["censored"][:2] == ["low", ""]
    assert fixed["slope"] == pytest.approx(
        st.decoupling_statistics(grids["adamw"], n_boot=20)["best positive λ"]["slope"]
    )
    assert 0.5 < fixed["slope"] < 1.5


def test_confirmation_configs_need_fresh_seeds():
    cells = {"AdamW best": ("adamw", 1e-3, 1e-3), "no decay": ("adamw", 1e-3, 0.0)}
    out = wd.confirmation_configs(SPEC5, cells, seeds=(100, 101))
    assert [c.optimizer for c in out["no decay"]] == ["adam", "adam"]
    assert out["AdamW best"][0].weight_decay == pytest.approx(1.0)
    with pytest.raises(ValueError, match="overlap"):
        wd.confirmation_configs(SPEC5, cells, seeds=(3, 100))


def test_check_decay_prediction_reads_the_band_not_the_zero_placement(capsys):
    grids = wd.grid_errors(_fake_results(SPEC5, _coupled_and_separable), SPEC5)
    adamw = grids["adamw"]  # best lam = 1e-3 in every row, error rising 1 point per decade
    assert ex.check_decay_prediction(adamw, 7e-4, 1e-3)
    assert ex.check_decay_prediction(adamw, 7e-4, 1.2e-3)  # nearest column: 1e-3
    assert not ex.check_decay_prediction(adamw, 7e-4, 1e-1)
    assert not ex.check_decay_prediction(adamw, 7e-4, 0.0)
    assert "| False" in capsys.readouterr().out
    flat = wd.Grid("adam", adamw.lrs, adamw.decays, np.full_like(adamw.errors, 15.0), SPEC5.seeds)
    assert ex.check_decay_prediction(flat, 7e-4, 0.0)  # a flat row: no decay is as good as any
    # below the smallest decay, between the zero column and it: good when both neighbours are
    smallest = float(flat.decays[1])
    assert ex.check_decay_prediction(flat, 7e-4, smallest / 3)
    assert not ex.check_decay_prediction(adamw, 7e-4, smallest / 3)  # lam = 0 is not good there
    assert not ex.check_decay_prediction(flat, 7e-4, float(flat.decays[-1]) * 10)  # above the grid
    capsys.readouterr()
    assert not ex.check_decay_prediction(adamw, 7e-4, 1e-3 / 7e-4)  # torch's λ/α entered
    assert "looks like torch's weight_decay" in capsys.readouterr().out
    with pytest.raises(ValueError, match="lam"):
        ex.check_decay_prediction(adamw, 7e-4, -1.0)
    with pytest.raises(ValueError, match="between"):
        ex.check_decay_prediction(adamw, 1.0, 1e-3)


# ------------------------------------------------------------------ figures


def test_figures_draw_with_marked_best_cells():
    from matplotlib.patches import Rectangle

    grids = wd.grid_errors(_fake_results(SPEC5, _coupled_and_separable), SPEC5)
    fig = figs.plot_heatmaps(grids)
    heat_axes = fig.axes[:2]
    for ax, per_cell in zip(heat_axes, (1, 2)):  # AdamW's cells also print slide 8's lambda
        red = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_linewidth() > 3]
        assert len(red) == 1
        assert len(ax.texts) == 25 * per_cell
    assert "λ/α=1" in [t.get_text() for t in heat_axes[1].texts]  # lam 1e-3 at alpha 1e-3
    fig2 = figs.plot_torch_coordinates(grids["adamw"])
    assert fig2.axes[1].get_xscale() == "log"
    stats = {m: st.decoupling_statistics(g, n_boot=20) for m, g in grids.items()}
    fig3 = figs.plot_best_decay(grids, stats)
    fig4 = figs.plot_cell_comparison({"grid": {"AdamW best": [1, 2, 3], "Adam + L2 best": [2, 3]}})
    for f in (fig, fig2, fig3, fig4):
        f.canvas.draw()
        plt.close(f)


def test_fmt_value():
    assert [wd.fmt_value(v) for v in (0, 2.5e-4, 1e-3, 0.5, 40.0)] == [
        "0",
        "2.5e-4",
        "1e-3",
        "0.5",
        "40",
    ]


def test_runconfig_round_trip_of_adamw_decay():
    """lam / lr is stored as a float; the runner's file check must accept it when read back."""
    cfg = wd.grid_configs(SPEC5)[7]
    assert RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg.resolved()


def test_run_confirmation_trains_shared_cells_once_on_the_test_set(tmp_path):
    cells = {"A": ("adam", 1e-3, 0.0), "B": ("adamw", 1e-3, 0.0), "C": ("adamw", 1e-3, 1e-3)}
    out = wd.run_confirmation(
        SMALL, cells, seeds=(50, 51), out_dir=tmp_path, workers=1, progress=False
    )
    assert set(out) == {"A", "B", "C"} and all(v.shape == (2,) for v in out.values())
    np.testing.assert_array_equal(out["A"], out["B"])  # one run, two labels
    assert len(list(tmp_path.glob("adam*_seed5*.json"))) == 4
    stored = json.loads(next(tmp_path.glob("adamw_*seed50.json")).read_text())
    assert stored["meta"]["n_val"] == SMALL.n_val  # validated like the grid ...
    assert sum(map(sum, stored["test"]["confusion"])) == 10_000  # ... scored on the test set
    assert out["C"][0] == pytest.approx(100 * (1 - stored["test"]["acc"]))


def test_command_line_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--workers", "0"])
    assert exit_info.value.code == 2
    assert "--workers must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--size", "huge"])


def test_torch_slopes_are_the_paper_slopes_shifted_for_adamw_only():
    grids = wd.grid_errors(_fake_results(SPEC5, _coupled_and_separable), SPEC5)
    for method, grid in grids.items():
        out = st.decoupling_statistics(grid, n_boot=20)
        for s in out.values():
            shift = 1.0 if method == "adamw" else 0.0
            assert s["slope_torch"] == pytest.approx(s["slope"] - shift)
    # the separable AdamW grid (best lam fixed): flat in the paper's lam, -1 in torch's weight_decay
    best = st.decoupling_statistics(grids["adamw"], n_boot=20)["best positive λ"]
    assert best["slope"] == pytest.approx(0.0, abs=1e-9) and best["slope_torch"] == pytest.approx(
        -1.0
    )


def test_best_cell_frequency_separates_a_clear_winner_from_near_equals():
    rng = np.random.default_rng(0)
    lrs, decays = np.array([1e-3, 2e-3]), np.array([0.0, 1e-3, 3e-3])
    clear = 15 + rng.normal(0, 0.1, (2, 3, 4))
    clear[1, 2] -= 2.0
    freq = st.best_cell_frequency(wd.Grid("adam", lrs, decays, clear, (0, 1, 2, 3)), n_boot=200)
    assert next(iter(freq)) == (1, 2) and freq[(1, 2)] == 1.0
    flat = 15 + rng.normal(0, 0.3, (2, 3, 4))
    freq = st.best_cell_frequency(wd.Grid("adam", lrs, decays, flat, (0, 1, 2, 3)), n_boot=200)
    assert max(freq.values()) < 0.9 and sum(freq.values()) == pytest.approx(1.0)


# ------------------------------------------------------------------ the extension (censored top rows)

SPEC_EXT = wd.GridSpec(
    lrs=SPEC5.lrs,
    decays=SPEC5.decays,
    seeds=SPEC5.seeds,
    extension=(("adamw", 2e-3, 1.0), ("adamw", 4e-3, 1.0), ("adamw", 4e-3, 10.0)),
)


def _best_decay_grows(method, lr, lam, seed):
    """AdamW's best log10(lam) = -2 + 3 log10(lr / 1e-3): the top rows want 1e-1 or more."""
    x = math.log10(lam) if lam > 0 else -7.0
    target = -2.0 + 3 * math.log10(lr / 1e-3) if method == "adamw" else -3.0
    return 15 + 0.5 * (x - target) ** 2 + 0.01 * seed


def test_grid_spec_extension_counts_configs_and_rejects_bad_cells():
    assert SPEC_EXT.n_runs == SPEC5.n_runs + 3 * 4
    assert len(wd.grid_configs(SPEC_EXT)) == SPEC_EXT.n_runs
    assert SPEC_EXT.all_decays("adamw") == (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
    assert SPEC_EXT.all_decays("adam") == SPEC5.decays["adam"]
    ran = SPEC_EXT.ran("adamw")
    assert ran.shape == (5, 7) and ran.sum() == 25 + 3 and ran[4, 6] and not ran[3, 6]
    for bad, message in (
        (("adamw", 3e-3, 1.0), "rates"),
        (("adamw", 4e-3, 1e-2), "above the largest"),
        (("sgd", 4e-3, 1.0), "method"),
    ):
        with pytest.raises(ValueError, match=message):
            wd.GridSpec(lrs=SPEC5.lrs, decays=SPEC5.decays, extension=(bad,))
    # the grid, one larger decay for two top rows, one smaller decay for four rows
    assert wd.NOTEBOOK_SPEC.n_runs == 180 + 6 * 4
    assert (
        wd.NOTEBOOK_SPEC.ran("adamw")[-2:, -1].all()
        and not wd.NOTEBOOK_SPEC.ran("adamw")[:-2, -1].any()
    )


def test_extension_uncensors_the_top_rows_and_raises_their_slope():
    grids = wd.grid_errors(_fake_results(SPEC_EXT, _best_decay_grows), SPEC_EXT)
    adamw = grids["adamw"]
    assert adamw.errors.shape == (5, 7, 4)
    assert np.isnan(adamw.errors[~adamw.ran]).all() and np.isfinite(adamw.errors[adamw.ran]).all()
    assert list(adamw.last_ran) == [4, 4, 4, 5, 6]
    rect = adamw.rectangle(5)
    assert rect.errors.shape == (5, 5, 4) and rect.ran.all()
    before = st.decoupling_statistics(rect, n_boot=20)["best positive λ"]
    after = st.decoupling_statistics(adamw, n_boot=20)["best positive λ"]
    assert before["censored"][-2:] == ["high", "high"]  # the rectangle caps the top rows
    assert "high" not in after["censored"][:-1] and after["slope"] > before["slope"] + 0.3
    # a cell not run never wins, and the heatmap draws it as not run
    assert wd.best_cell(adamw) in {(i, j) for i, j in zip(*np.nonzero(adamw.ran))}
    fig = figs.plot_heatmaps(grids)
    assert sum(t.get_text() == "not run" for t in fig.axes[1].texts) == (~adamw.ran).sum()
    plt.close(fig)
    for f in (
        figs.plot_torch_coordinates(adamw),
        figs.plot_best_decay(
            grids, {m: st.decoupling_statistics(g, n_boot=5) for m, g in grids.items()}
        ),
    ):
        f.canvas.draw()
        plt.close(f)


def test_command_line_prints_the_placement_free_table(monkeypatch, capsys):
    import course_utils.nb08_cli as cli

    def fake_run_grid(configs, out, workers, progress):
        spec = wd.GridSpec(
            **{
                **wd.NOTEBOOK_SPEC.to_dict(),
                "device": configs[0].device,
                "extension": wd.NOTEBOOK_SPEC.extension,
            }
        )

        def noisy(method, lr, lam, seed):  # seed noise that differs between cells
            jitter = np.random.default_rng([seed, int(1e6 * lr), int(1e6 * lam)]).normal(0, 0.2)
            return _coupled_and_separable(method, lr, lam, seed) + jitter

        return _fake_results(spec, noisy)

    monkeypatch.setattr(cli, "run_grid", fake_run_grid)
    assert cli.main(["--size", "notebook", "--device", "cpu", "--no-progress"]) == 0
    out = capsys.readouterr().out
    for text in (
        "* best positive λ",
        "slide 8 λ",
        "row winners",
        "gain from the row's best decay",
        "seed resamples",
        "best Adam+L2",
    ):
        assert text in out, text


# ------------------------------------------------------------------ the low extension (censored low picks)

SPEC_LOW = wd.GridSpec(
    lrs=SPEC5.lrs,
    decays=SPEC5.decays,
    seeds=SPEC5.seeds,
    extension=(("adam", SPEC5.lrs[0], 1e-6), ("adam", SPEC5.lrs[3], 1e-6)),
)


def _best_at_1e6_for_row0(method, lr, lam, seed):
    """Adam+L2: lam = 0 worst in every row; row 0's best is below 1e-5, the others' at 1e-3."""
    if lam == 0:
        return 20.0 + 0.01 * seed
    target = -6.0 if lr == SPEC5.lrs[0] else -3.0
    return 15 + 0.5 * (math.log10(lam) - target) ** 2 + 0.01 * seed


def test_low_extension_orders_columns_and_marks_smallest_positive_picks_low():
    assert SPEC_LOW.all_decays("adam") == (0.0, 1e-6) + tuple(SPEC5.decays["adam"][1:])
    assert SPEC_LOW.n_runs == SPEC5.n_runs + 2 * 4
    assert len(wd.grid_configs(SPEC_LOW)) == SPEC_LOW.n_runs
    with pytest.raises(ValueError, match="smallest positive"):
        wd.GridSpec(lrs=SPEC5.lrs, decays=SPEC5.decays, extension=(("adam", SPEC5.lrs[0], 0.0),))
    adam = wd.grid_errors(_fake_results(SPEC_LOW, _best_at_1e6_for_row0), SPEC_LOW)["adam"]
    assert list(adam.first_ran) == [1, 2, 2, 1, 2] and adam.ran[:, 0].all()
    rect = adam.without([1e-6])
    assert rect.errors.shape == (5, 5, 4) and rect.ran.all()
    # on the rectangle row 0 picks the smallest positive decay although lam = 0 is *worse*:
    # its true best could be any smaller decay, so the pick is censored low
    before = st.decoupling_statistics(rect, n_boot=10)
    assert rect.mean[0, 0] > rect.mean[0, 1]
    for name in ("best λ (λ=0 one step below)", "best positive λ"):
        assert before[name]["censored"][0] == "low", name
    # with 1e-6 trained there, row 0 picks it (still the smallest trained: still low); row 3,
    # extended but best at 1e-3, is inside the grid; the band statistics are never low there
    after = st.decoupling_statistics(adam, n_boot=10)
    assert (
        after["best positive λ"]["decays"][0] == 1e-6
        and after["best positive λ"]["censored"][0] == "low"
    )
    assert after["best positive λ"]["censored"][3] == ""
    assert all(e != "low" for e in after["largest λ within 0.25 pt of best"]["censored"])


def test_check_torch_value_and_prediction_skip_untrained_columns(capsys):
    assert ex.check_torch_value("adamw", 3e-3, 1e-3, 1e-3 / 3e-3)
    assert not ex.check_torch_value("adamw", 3e-3, 1e-3, 1e-3)
    assert "λ/α" in capsys.readouterr().out
    assert ex.check_torch_value("adam", 3e-3, 1e-3, 1e-3)
    assert not ex.check_torch_value("adam", 3e-3, 1e-3, 1e-3 / 3e-3)
    with pytest.raises(ValueError, match="weight_decay"):
        ex.check_torch_value("adamw", 3e-3, 1e-3, -1.0)
    # a column trained in only one of the two rows (here 1e-6 in row 0) is never an answer
    adam = wd.grid_errors(_fake_results(SPEC_LOW, _best_at_1e6_for_row0), SPEC_LOW)["adam"]
    assert not ex.check_decay_prediction(adam, 3.5e-4, 1e-6)
    # below the smallest decay trained in both rows: lam = 0 (worst) must be good too
    assert not ex.check_decay_prediction(adam, 3.5e-4, 3e-6)
    assert ex.check_decay_prediction(adam, 3.5e-4, 1e-3, within=10.0)


def test_cell_comparison_draws_paired_differences():
    cells = {
        "Adam + L2 best": [15.0, 15.2, 15.1],
        "AdamW best": [15.1, 15.4, 15.1],
        "no decay": [15.3, 15.5, 15.2],
    }
    fig = figs.plot_cell_comparison({"grid": cells})
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels == [
        "AdamW best − Adam + L2 best",
        "no decay − Adam + L2 best",
        "no decay − AdamW best",
    ]
    plt.close(fig)
