"""The experiment runner: one JSON per run, resumable, corrupt files recomputed, a strict CLI."""

import json
import subprocess
import sys

import pytest

import course_utils.nb07_experiment as ex
from course_utils.nb07_experiment import RunConfig, run_experiment


@pytest.fixture(scope="module")
def small_data():
    """Real Fashion-MNIST, with the validation set cut to 1,000 images to keep tests fast."""
    X_train, y_train, X_val, y_val = ex.load_data("cpu")
    return X_train, y_train, X_val[:1000], y_val[:1000]


def tiny(optimizer="adam", seed=0, **kw):
    return RunConfig(optimizer=optimizer, seed=seed, epochs=1, train_subset=512, **kw)


def test_one_json_per_run_with_config_and_history(tmp_path, small_data):
    configs = [tiny("sgd"), tiny("adam", seed=1)]
    results = run_experiment(configs, tmp_path, data=small_data, progress=False)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{c.name}.json" for c in configs)
    stored = json.loads((tmp_path / f"{configs[1].name}.json").read_text())
    assert stored["config"] == configs[1].to_dict()
    assert stored["config"]["lr"] == 0.001 and stored["config"]["seed"] == 1
    assert set(ex.HISTORY_KEYS) <= set(stored["history"])
    assert all(len(stored["history"][k]) == 1 for k in ex.HISTORY_KEYS)
    assert stored["meta"]["n_train"] == 512
    assert [r["loaded"] for r in results] == [False, False]


def test_same_seed_same_history_different_seed_differs(tmp_path, small_data):
    a = ex.run_one(tiny(seed=0), small_data, progress=False)["history"]
    b = ex.run_one(tiny(seed=0), small_data, progress=False)["history"]
    c = ex.run_one(tiny(seed=1), small_data, progress=False)["history"]
    assert a["train_loss"] == b["train_loss"] and a["val_acc"] == b["val_acc"]
    assert a["train_loss"] != c["train_loss"]


def test_interrupted_sweep_resumes_without_recomputing(tmp_path, small_data, monkeypatch):
    configs = [tiny("adam"), tiny("adagrad"), tiny("adamw")]
    real_run_one = ex.run_one
    calls = []

    def crash_after_first(cfg, *args, **kwargs):
        if calls:
            raise KeyboardInterrupt("simulated interruption")
        calls.append(cfg.name)
        return real_run_one(cfg, *args, **kwargs)

    monkeypatch.setattr(ex, "run_one", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(configs, tmp_path, data=small_data, progress=False)
    first = tmp_path / f"{configs[0].name}.json"
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no partial or temporary file
    stamp, content = first.stat().st_mtime_ns, first.read_text()

    recomputed = []

    def counting(cfg, *args, **kwargs):
        recomputed.append(cfg.name)
        return real_run_one(cfg, *args, **kwargs)

    monkeypatch.setattr(ex, "run_one", counting)
    results = run_experiment(configs, tmp_path, data=small_data, progress=False)
    assert recomputed == [configs[1].name, configs[2].name]
    assert first.stat().st_mtime_ns == stamp and first.read_text() == content
    assert [r["loaded"] for r in results] == [True, False, False]
    assert len(list(tmp_path.iterdir())) == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated mid-write
        lambda text: "",
        lambda text: text.replace('"val_acc"', '"val_accuracy"'),
        lambda text: text.replace('"seed": 0', '"seed": 7'),
    ],
    ids=["truncated", "empty", "missing-metric", "wrong-config"],
)
def test_corrupt_file_is_reported_by_name_and_recomputed(tmp_path, small_data, capsys, damage):
    cfg = tiny("adamw")
    (good,) = run_experiment([cfg], tmp_path, data=small_data, progress=False)
    path = tmp_path / f"{cfg.name}.json"
    path.write_text(damage(path.read_text()))
    capsys.readouterr()
    (again,) = run_experiment([cfg], tmp_path, data=small_data, progress=False)
    err = capsys.readouterr().err
    assert str(path) in err and "Recomputing" in err
    assert again["loaded"] is False
    assert again["history"]["val_acc"] == good["history"]["val_acc"]
    assert json.loads(path.read_text())["config"] == cfg.to_dict()


def test_force_recomputes(tmp_path, small_data):
    cfg = tiny("sgd")
    run_experiment([cfg], tmp_path, data=small_data, progress=False)
    (again,) = run_experiment([cfg], tmp_path, data=small_data, progress=False, force=True)
    assert again["loaded"] is False


def test_config_validation_and_names():
    assert RunConfig("sgd").resolved().lr == 0.01
    assert RunConfig("adamw").resolved().weight_decay == 1e-4
    assert RunConfig("adam", weight_decay=0.01).name != RunConfig("adam").name
    assert RunConfig("adam", schedule="cosine").name != RunConfig("adam").name
    assert RunConfig("adam", train_subset=6000).name != RunConfig("adam").name
    assert (
        RunConfig.from_dict(RunConfig("adam", lr=3e-4).to_dict()).name
        == RunConfig("adam", lr=3e-4).name
    )
    for bad, match in [
        (dict(optimizer="rmsprop"), "Unknown optimizer"),
        (dict(optimizer="adam", lr=-1.0), "lr"),
        (dict(optimizer="adam", lr=float("nan")), "lr"),
        (dict(optimizer="adam", epochs=0), "epochs"),
        (dict(optimizer="adam", train_subset=70000), "train_subset"),
        (dict(optimizer="adam", schedule="step"), "schedule"),
        (dict(optimizer="sgd", variant="course"), "SGD"),
    ]:
        with pytest.raises(ValueError, match=match):
            RunConfig(**bad)


def test_lr_grid_is_log_spaced_around_the_course_rate():
    grid = ex.lr_grid("adam", 5)
    assert grid == [1e-4, 0.0003162, 0.001, 0.003162, 0.01]


def test_summary_mean_and_std_over_seeds():
    def fake(opt, seed, acc):
        cfg = RunConfig(opt, seed=seed, epochs=2).to_dict()
        h = {k: [0.0, 0.0] for k in ex.HISTORY_KEYS}
        h["val_acc"] = [0.5, acc]
        h["epoch_time"] = [1.0, 3.0]
        return {"config": cfg, "history": h}

    rows = ex.summarize([fake("adam", 0, 0.8), fake("adam", 1, 0.9), fake("sgd", 0, 0.7)])
    assert [r["label"] for r in rows] == ["adam", "sgd"]
    assert rows[0]["val_acc"] == pytest.approx(0.85)
    assert rows[0]["val_acc_std"] == pytest.approx(0.0707107, rel=1e-5)
    assert rows[0]["epoch_time"] == pytest.approx(2.0)
    assert "0.8500 ± 0.0707" in ex.format_table(rows)


def test_cli_help():
    proc = subprocess.run(
        [sys.executable, "-m", "course_utils.nb07_experiment", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    for option in ("--optimizers", "--epochs", "--seeds", "--out", "--lr", "--sweep", "--force"):
        assert option in proc.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--optimizers", "rmsprop"], "invalid choice: 'rmsprop'"),
        (["--epochs", "0"], "expected a positive integer"),
        (["--seeds", "-1"], "seeds are integers >= 0"),
        (["--lr", "adam=-3"], "learning rates must be finite and > 0"),
        (["--lr", "nadam=1e-3"], "unknown optimizer 'nadam'"),
        (["--sweep", "--lr", "1e-3"], "cannot be combined"),
        (["--train-subset", "70000"], "train_subset must be an int in [1, 60000]"),
    ],
)
def test_cli_bad_argument_clear_error_nothing_written(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        ex.main([*argv, "--out", str(out)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage:" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_end_to_end_then_skip(tmp_path, capsys):
    argv = [
        "--optimizers",
        "adagrad",
        "--epochs",
        "1",
        "--seeds",
        "0",
        "1",
        "--train-subset",
        "256",
        "--out",
        str(tmp_path),
        "--no-progress",
    ]
    assert ex.main(argv) == 0
    assert len(list(tmp_path.glob("adagrad_*_seed[01].json"))) == 2
    assert "2 computed, 0 already complete" in capsys.readouterr().out
    assert ex.main(argv) == 0
    assert "0 computed, 2 already complete" in capsys.readouterr().out


def test_from_scratch_matches_torch_on_real_batches(small_data):
    comparison = ex.compare_implementations(
        ("adagrad", "adam"), epochs=1, train_subset=512, data=small_data, progress=False
    )
    gaps = ex.implementation_gaps(comparison)
    assert set(gaps) == {"adagrad", "adam"}
    assert all(g["step_loss"] < 1e-5 for g in gaps.values())
    assert len(comparison["adam"]["torch"]["step_loss"]) == 4
    # the course's sqrt(G + eps) is a different algorithm: it leaves a visible trace
    formula = ex.implementation_gaps(comparison, other="course formula")
    assert set(formula) == {"adagrad"}
    assert formula["adagrad"]["step_loss"] > gaps["adagrad"]["step_loss"]


def test_figures_build(tmp_path, small_data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = [tiny("sgd", seed=s, lr=lr) for s in (0, 1) for lr in (0.01, 0.03)]
    results = run_experiment(configs, tmp_path, data=small_data, progress=False)
    rows = ex.summarize(results)
    assert [r["label"] for r in rows] == ["sgd lr=0.01", "sgd lr=0.03"]
    for make, n_axes in [
        (lambda: ex.plot_comparison(results), 4),
        (lambda: ex.plot_timing(results), 1),
        (lambda: ex.plot_lr_sweep(results), 1),
    ]:
        fig = make()
        assert len(fig.axes) == n_axes
        plt.close(fig)
