"""Notebook 07's cost measurement: interleaved, pinned threads, step timed apart, FLOPs counted."""

import importlib.util
import json
import os
from datetime import datetime

import pytest
import torch

from course_utils import nb07_timing as tm
from course_utils.models import make_mlp
from course_utils.paths import REPO_ROOT
from course_utils.runs import load_data, torch_version
from course_utils.training import make_optimizer


def test_autograd_flops_skip_the_first_layers_input_gradient():
    flops = tm.autograd_flops(60_000)
    assert flops["total"] / 1e9 == pytest.approx(60.43, abs=0.01)
    assert flops["six_np"] / 1e9 == pytest.approx(84.65, abs=0.01)
    # what 6NP counts too much: the first layer's input gradient (plus the bias terms)
    skipped = 2 * 60_000 * 784 * 256
    assert flops["six_np"] - flops["total"] == pytest.approx(skipped, rel=0.01)


def test_matmul_bound_is_positive_and_scales_with_images():
    small = tm.matmul_bound(1280, calls=5, repeats=1)
    assert small["seconds"] > 0 and small["rate"] > 1e8
    assert small["flops"] == tm.autograd_flops(1280)["total"]


def test_interleaved_timing_and_its_key(tmp_path):
    X, y, X_test, y_test = load_data("cpu")
    data = (X[:3000], y[:3000], X_test[:500], y_test[:500])
    kwargs = dict(optimizers=("sgd", "adam"), repeats=2, data=data, n_val=1000, threads=1)
    first = tm.timed_optimizers(tmp_path, **kwargs)
    assert first["loaded"] is False
    assert first["key"]["threads"] == 1 and first["key"]["torch"] == torch_version()
    assert first["key"]["n_train"] == 2000
    for name in ("sgd", "adam"):
        assert len(first["epoch"][name]) == 2
        for e, t, s in zip(first["epoch"][name], first["train"][name], first["step"][name]):
            assert 0 < s < t <= e
    again = tm.timed_optimizers(tmp_path, **kwargs)
    assert again["loaded"] is True and again["epoch"] == first["epoch"]
    assert again["measured"] == first["measured"]
    assert datetime.fromisoformat(first["measured"]).date() == datetime.now().date()
    # a file stored before the date was recorded: the file's modification time stands in
    (path,) = tmp_path.glob("timing_*.json")
    stored = json.loads(path.read_text())
    del stored["measured"]
    path.write_text(json.dumps(stored))
    os.utime(path, (0, 86_400 * 545))  # mid-1971
    assert tm.timed_optimizers(tmp_path, **kwargs)["measured"].startswith("1971-")
    rows = tm.timing_summary(first)
    for part in ("epoch", "train", "step"):
        row = rows["sgd"]
        assert row[part] == row[f"{part}_min"] == min(first[part]["sgd"])
        assert row[f"{part}_min"] <= row[f"{part}_median"] <= row[f"{part}_max"]
    paired = tm.paired_cost(first, baseline="sgd")
    assert paired["sgd"]["diffs"] == [0.0, 0.0]
    assert paired["adam"]["diffs"] == pytest.approx(
        [a - b for a, b in zip(first["train"]["adam"], first["train"]["sgd"])]
    )
    with pytest.raises(ValueError, match="baseline"):
        tm.paired_cost(first, baseline="adagrad")
    with pytest.raises(ValueError, match="repeats"):
        tm.time_optimizers(repeats=0, data=data)


def test_paired_cost_cancels_a_load_shared_by_one_repeat():
    load = [0.0, 5.0, 0.0, 9.0]  # busy repeats slow both optimizers of that repeat
    timing = {
        "train": {"sgd": [1.0 + x for x in load], "adam": [1.2 + x for x in load]},
        "epoch": {"sgd": [1.0] * 4, "adam": [1.0] * 4},
        "step": {"sgd": [0.1] * 4, "adam": [0.2] * 4},
    }
    d = tm.paired_cost(timing)["adam"]
    assert d["median"] == pytest.approx(0.2) and d["max"] - d["min"] < 1e-12


def test_matmul_bound_times_products_on_the_device_it_is_given(monkeypatch):
    seen = []

    def fake_best(left, right, calls, repeats, device):
        seen.append((left.device.type, right.device.type, device.type))
        return 1e-3

    monkeypatch.setattr(tm, "_best_seconds", fake_best)
    out = tm.matmul_bound(1280, device="meta")  # shapes only, no arithmetic: any device works
    assert len(seen) == 8 and set(seen) == {("meta", "meta", "meta")}
    assert out["seconds"] == pytest.approx(8e-3 * 1280 / 128)


def _bench():
    path = REPO_ROOT / "benchmarks" / "bench_training.py"
    spec = importlib.util.spec_from_file_location("bench_training", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_training_benchmark_prints_ratio_bound_fraction_and_ceilings(capsys):
    bench = _bench()
    argv = ["--epochs", "1", "--threads", "1", "2", "--images", "640", "--no-compile"]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    table = out[out.index("speed-up vs course loop") :].splitlines()[1:3]
    assert [line.split()[0] for line in table] == ["1", "2"]
    for line in table:
        ratio, fraction, ceiling, ceiling_kernel = line.split()[1:5]
        assert float(ratio.rstrip("x")) > 0 and 0 < float(fraction.rstrip("%")) < 1000
        assert 0 < float(ceiling_kernel.rstrip("%")) <= float(ceiling.rstrip("%"))
    assert "goal >= 75% of the bound" in out
    assert out.count("where an epoch of ours goes") == 2 and out.count("goal 75%: ") == 2
    assert "torch.compile" not in out


def test_epoch_breakdown_splits_a_profiled_epoch():
    bench = _bench()
    X, y, _, _ = load_data("cpu")
    model = make_mlp(0)
    opt = make_optimizer("adam", model.parameters())
    parts = bench.epoch_breakdown(model, opt, (X[:1280], y[:1280]), torch.Generator(), repeats=2)
    assert set(parts) == {"total", "products", "step", "kernel", "gather", "rest"}
    for key in ("products", "step", "kernel", "gather", "rest"):
        assert 0 < parts[key] < parts["total"], key
    assert parts["kernel"] < parts["step"]  # the fused kernel runs inside step()
    assert parts["products"] + parts["step"] + parts["gather"] + parts["rest"] == pytest.approx(
        parts["total"]
    )
    # SGD without fused=True has no fused kernel: that part is 0, not an error
    plain = make_optimizer("sgd", model.parameters(), variant="torch")
    assert bench.epoch_breakdown(model, plain, (X[:640], y[:640]), torch.Generator())["kernel"] == 0


def test_ceilings_and_their_verdict(capsys):
    bench = _bench()
    parts = {"total": 1.0, "products": 0.5, "step": 0.3, "kernel": 0.125, "gather": 0.05}
    parts["rest"] = 0.15
    top = bench.ceilings(0.4, parts)
    assert top == {"products": pytest.approx(0.8), "with_kernel": pytest.approx(0.64)}
    bench.print_breakdown(parts, 0.4, 0.9)
    assert "reachable only if the optimizer's kernel were free too" in capsys.readouterr().out
    bench.print_breakdown(parts, 0.3, 0.9)  # ceilings 60 % and 48 %
    assert "removing overhead cannot reach it here" in capsys.readouterr().out
    bench.print_breakdown(parts, 0.6, 0.9)  # ceilings 120 % and 96 %
    assert "the overhead between the products decides it" in capsys.readouterr().out


def test_training_benchmark_optional_compiled_line(capsys):
    bench = _bench()
    if bench.cxx_compiler() is None:
        pytest.skip("no C++ compiler: the benchmark skips its torch.compile line")
    assert bench.main(["--epochs", "1", "--threads", "1", "--images", "256"]) == 0
    line = next(s for s in capsys.readouterr().out.splitlines() if "torch.compile" in s)
    assert line.startswith("optional extra, not the course's loop"), line


def test_step_share_is_taken_within_each_repeat():
    timing = {
        "train": {"adam": [1.0, 2.0, 4.0]},
        "step": {"adam": [0.4, 0.2, 0.4]},  # fastest step / fastest train would say 20 %
    }
    share = tm.step_share(timing)["adam"]
    assert share["shares"] == pytest.approx([0.4, 0.1, 0.1])
    assert (share["median"], share["min"], share["max"]) == pytest.approx((0.1, 0.1, 0.4))
