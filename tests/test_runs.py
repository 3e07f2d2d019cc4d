"""The shared runner: one JSON per run, resumable, corrupt files recomputed, keys that never mix."""

import json
import os

import pytest
import torch

from course_utils import runs
from course_utils.runs import RunConfig, run_experiment


@pytest.fixture(scope="module")
def small_data():
    """Real Fashion-MNIST, with the test set cut to 1,000 images to keep tests fast."""
    X_train, y_train, X_test, y_test = runs.load_data("cpu")
    return X_train, y_train, X_test[:1000], y_test[:1000]


def tiny(optimizer="adam", seed=0, **kw):
    return RunConfig(
        optimizer=optimizer, seed=seed, epochs=kw.pop("epochs", 1), train_subset=512, **kw
    )


def test_one_json_per_run_with_config_history_and_test(tmp_path, small_data):
    configs = [tiny("sgd"), tiny("adam", seed=1, n_val=2000)]
    results = run_experiment(configs, tmp_path, data=small_data, progress=False)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{c.name}.json" for c in configs)
    stored = json.loads((tmp_path / f"{configs[1].name}.json").read_text())
    assert stored["config"] == configs[1].to_dict()
    assert stored["config"]["lr"] == 0.001 and stored["config"]["seed"] == 1
    assert set(runs.HISTORY_KEYS) <= set(stored["history"])
    assert all(len(stored["history"][k]) == 1 for k in runs.HISTORY_KEYS)
    assert stored["meta"]["n_train"] == 512 and stored["meta"]["n_val"] == 2000
    confusion = torch.tensor(stored["test"]["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 1000
    assert stored["test"]["acc"] == pytest.approx(confusion.diagonal().sum().item() / 1000)
    assert [r["loaded"] for r in results] == [False, False]


def test_validation_images_are_held_out_of_training(small_data):
    cfg = RunConfig("adam", n_val=1000, train_subset=2000)
    parts = runs.run_data(cfg, small_data)
    assert len(parts["val"][0]) == 1000 and len(parts["train"][0]) == 2000
    val_keys = {hash(row.numpy().tobytes()) for row in parts["val"][0].flatten(1)}
    assert not any(hash(row.numpy().tobytes()) in val_keys for row in parts["train"][0].flatten(1))
    assert torch.equal(parts["test"][0], small_data[2])
    course = runs.run_data(RunConfig("adam"), small_data)  # n_val = 0: validate on the test set
    assert torch.equal(course["val"][0], small_data[2]) and len(course["train"][0]) == 60_000


def test_same_seed_same_history_different_seed_differs(small_data):
    a = runs.run_one(tiny(seed=0), small_data, progress=False)["history"]
    b = runs.run_one(tiny(seed=0), small_data, progress=False)["history"]
    c = runs.run_one(tiny(seed=1), small_data, progress=False)["history"]
    assert a["train_loss"] == b["train_loss"] and a["val_acc"] == b["val_acc"]
    assert a["train_loss"] != c["train_loss"]


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "adam"])
def test_first_epochs_of_a_longer_run_are_the_shorter_run(small_data, optimizer):
    # Notebook 07 reads the sweep's course-rate point from the main runs: that must be the same run.
    short = runs.run_one(tiny(optimizer, epochs=1), small_data, progress=False)["history"]
    long = runs.run_one(tiny(optimizer, epochs=2), small_data, progress=False)["history"]
    assert long["val_acc"][:1] == short["val_acc"] and long["train_loss"][:1] == short["train_loss"]


def test_interrupted_sweep_resumes_without_recomputing(tmp_path, small_data, monkeypatch):
    configs = [tiny("adam"), tiny("adagrad"), tiny("adamw")]
    real_run_one = runs.run_one
    calls = []

    def crash_after_first(cfg, *args, **kwargs):
        if calls:
            raise KeyboardInterrupt("simulated interruption")
        calls.append(cfg.name)
        return real_run_one(cfg, *args, **kwargs)

    monkeypatch.setattr(runs, "run_one", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(configs, tmp_path, data=small_data, progress=False)
    first = tmp_path / f"{configs[0].name}.json"
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no partial or temporary file
    stamp, content = first.stat().st_mtime_ns, first.read_text()

    recomputed = []

    def counting(cfg, *args, **kwargs):
        recomputed.append(cfg.name)
        return real_run_one(cfg, *args, **kwargs)

    monkeypatch.setattr(runs, "run_one", counting)
    results = run_experiment(configs, tmp_path, data=small_data, progress=False)
    assert recomputed == [configs[1].name, configs[2].name]
    assert first.stat().st_mtime_ns == stamp and first.read_text() == content
    assert [r["loaded"] for r in results] == [True, False, False]


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated mid-write
        lambda text: "",
        lambda text: text.replace('"val_acc"', '"val_accuracy"'),
        lambda text: text.replace('"seed": 0', '"seed": 7'),
        lambda text: text.replace('"schema": 2', '"schema": 1'),
    ],
    ids=["truncated", "empty", "missing-metric", "wrong-config", "old-schema"],
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


def test_two_processes_give_the_same_runs_as_one(tmp_path, small_data):
    configs = [tiny("adam", seed=s) for s in (0, 1)]
    pooled = run_experiment(configs, tmp_path / "pool", progress=False, workers=2)
    alone = run_experiment(configs, tmp_path / "one", data=None, progress=False, workers=1)
    assert [r["loaded"] for r in pooled] == [False, False]
    for a, b in zip(pooled, alone):
        assert a["history"]["train_loss"] == b["history"]["train_loss"]
    again = run_experiment(configs, tmp_path / "pool", progress=False, workers=2)
    assert [r["loaded"] for r in again] == [True, True]


def _probe(config, data):
    """Stands in for a training function in the pool: reports what the worker was given."""
    if config.seed == 99:
        raise RuntimeError("probe failure")
    X_train, y_train, X_test, y_test = data
    return {
        "seed": config.seed,
        "pid": os.getpid(),
        "threads": torch.get_num_threads(),
        "data_id": id(data),
        "sizes": [len(X_train), len(y_train), len(X_test), len(y_test)],
        "devices": sorted({t.device.type for t in data}),
        "checksum": float(X_train[:100].double().sum()),
    }


def test_the_shared_pool_gives_each_worker_one_thread_and_the_data_loaded_once(tmp_path):
    # train_in_pool serves run_experiment and nb09_trials.run_trials; its initialiser sets one
    # torch thread (the default is one per core) and loads the CPU data once per process.
    configs = [tiny("adam", seed=s) for s in range(4)]
    done = []
    runs.train_in_pool(_probe, configs, tmp_path, workers=2, on_done=lambda: done.append(1))
    got = [json.loads((tmp_path / f"{c.name}.json").read_text()) for c in configs]
    assert len(done) == 4 and [g["seed"] for g in got] == [0, 1, 2, 3]
    assert all(g["pid"] != os.getpid() for g in got)
    assert all(g["threads"] == 1 for g in got)
    assert all(g["sizes"] == [60_000, 60_000, 10_000, 10_000] for g in got)
    assert all(g["devices"] == ["cpu"] for g in got)
    X_train = runs.load_data("cpu")[0]
    assert all(g["checksum"] == float(X_train[:100].double().sum()) for g in got)
    data_ids = {}
    for g in got:
        data_ids.setdefault(g["pid"], set()).add(g["data_id"])
    assert all(len(ids) == 1 for ids in data_ids.values())  # one data load per process


def test_the_shared_pool_raises_a_workers_error(tmp_path):
    configs = [tiny("adam", seed=s) for s in (0, 99, 1)]
    with pytest.raises(RuntimeError, match="probe failure"):
        runs.train_in_pool(_probe, configs, tmp_path, workers=2)
    assert not (tmp_path / f"{configs[1].name}.json").exists()


def test_device_threads_and_torch_version_are_in_the_key():
    base = RunConfig("adam")
    assert base.name.endswith(f"_cpu_t1_torch{runs.torch_version()}_seed0")
    assert RunConfig("adam", threads=2).name != base.name
    assert RunConfig("adam", device="cuda").name != base.name
    assert RunConfig("adam", n_val=5000).name != base.name
    assert "+" not in runs.torch_version()


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
        (dict(optimizer="adam", n_val=10_000, train_subset=55_000), r"\[1, 50000\]"),
        (dict(optimizer="adam", n_val=-1), "n_val"),
        (dict(optimizer="adam", threads=0), "threads"),
        (dict(optimizer="adam", device="tpu"), "Unknown device"),
        (dict(optimizer="adam", schedule="step"), "schedule"),
        (dict(optimizer="sgd", variant="course"), "SGD"),
    ]:
        with pytest.raises(ValueError, match=match):
            RunConfig(**bad)
    with pytest.raises(RuntimeError if not torch.cuda.is_available() else ValueError):
        if torch.cuda.is_available():
            raise ValueError("a GPU is present: nothing to refuse")
        runs.run_one(RunConfig("adam", device="cuda", epochs=1, train_subset=8))
