"""One short training on CUDA through the notebooks' path (runner, fused fallback, test scoring).

Skipped, saying why, on a machine where torch sees no GPU.
"""

import pytest
import torch

from course_utils import runs
from course_utils.training import fused_available, make_optimizer

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA GPU visible to torch on this machine"
)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "adam", "adamw"])
def test_short_cuda_run_matches_the_cpu_run(tmp_path, optimizer):
    cfg = runs.RunConfig(optimizer, epochs=2, train_subset=2048, n_val=1000, device="cuda")
    (gpu,) = runs.run_experiment([cfg], tmp_path, progress=False)
    assert gpu["meta"]["device"] == "cuda" and "_cuda_" in cfg.name
    assert gpu["history"]["train_loss"][-1] < gpu["history"]["train_loss"][0]
    assert sum(map(sum, gpu["test"]["confusion"])) == 10_000
    cpu = runs.run_one(runs.RunConfig(optimizer, epochs=2, train_subset=2048, n_val=1000))
    # the same run on two devices: the same data and batches, rounding differences only
    assert abs(gpu["history"]["val_acc"][-1] - cpu["history"]["val_acc"][-1]) < 0.03


def test_fused_falls_back_where_cuda_has_no_kernel():
    p = [torch.nn.Parameter(torch.zeros(3, device="cuda"))]
    for name in ("sgd", "adagrad", "adam", "adamw"):
        opt = make_optimizer(name, p)
        assert bool(opt.defaults.get("fused")) == fused_available(name, p)
    assert fused_available("adam", p)  # fused Adam on CUDA exists in every supported torch


def test_matmul_bound_on_cuda_times_gpu_products():
    from course_utils import nb07_timing as tm

    gpu = tm.matmul_bound(60_000, device="cuda", calls=20, repeats=2)
    cpu = tm.matmul_bound(60_000, device="cpu", calls=20, repeats=2)
    # synchronized GPU products of these shapes: a positive, finite time per epoch, and the
    # GPU bound is not the CPU's (the two devices were timed, not one twice)
    assert 0 < gpu["seconds"] < float("inf") and gpu["seconds"] != cpu["seconds"]
    assert gpu["flops"] == cpu["flops"]


def test_interleaved_timing_on_cuda():
    from course_utils import nb07_timing as tm

    X, y, X_test, y_test = runs.load_data("cuda")
    data = (X[:3000], y[:3000], X_test[:500], y_test[:500])
    t = tm.time_optimizers(("sgd", "adam"), repeats=2, data=data, n_val=1000, device="cuda")
    assert t["key"]["device"] == "cuda"
    for name in ("sgd", "adam"):
        assert all(
            0 < s < tr <= e for s, tr, e in zip(t["step"][name], t["train"][name], t["epoch"][name])
        )
