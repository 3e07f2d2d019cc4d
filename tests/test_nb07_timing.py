"""Notebook 07's cost measurement: interleaved, pinned threads, step timed apart, FLOPs counted."""

import pytest

from course_utils import nb07_timing as tm
from course_utils.runs import load_data, torch_version


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
    rows = tm.timing_summary(first)
    assert rows["sgd"]["epoch_min"] <= rows["sgd"]["epoch"] <= rows["sgd"]["epoch_max"]
    with pytest.raises(ValueError, match="repeats"):
        tm.time_optimizers(repeats=0, data=data)
