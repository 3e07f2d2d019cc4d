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
