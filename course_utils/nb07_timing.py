"""Notebook 07: what the optimizers cost, measured so that a busy moment slows every optimizer alike.

`time_optimizers` trains one model per optimizer in *one* process with a fixed number of
threads, interleaved: repeat 1 runs one epoch of each optimizer, then repeat 2 does the same in a
rotated order, and so on. A busy moment therefore slows the optimizers of one repeat alike,
instead of whichever happened to run while it was busy; other programs only ever *add* time, so
the fastest repeat is the least disturbed one, and `paired_cost` compares the optimizers repeat
by repeat. Each epoch records three times: the whole epoch
(training and validation, as the course times it), the training part, and the time spent inside
``optimizer.step()`` alone. `timed_optimizers` stores the measurement in a JSON file whose name
holds the device, the thread count and the torch version, so measurements made in different
conditions are never mixed.

`autograd_flops` counts the multiply-adds autograd performs for the MLP (the first layer's
*input* gradient is never computed: nothing needs it), and `matmul_bound` times exactly those
matrix shapes, on the device the training runs on, to give the fastest an epoch could possibly be.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from course_utils.cli import limit_threads
from course_utils.models import make_mlp
from course_utils.runs import RunConfig, load_data, run_data, torch_version, write_result
from course_utils.training import OPTIMIZERS, evaluate, make_optimizer, train_epoch

LAYER_WIDTHS = (784, 256, 128, 10)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_optimizers(
    optimizers: Sequence[str] = OPTIMIZERS,
    repeats: int = 8,
    data=None,
    n_val: int = 10_000,
    threads: int = 1,
    device: str = "cpu",
    train_subset: int | None = None,
) -> dict:
    """Interleaved epochs of every optimizer: ``{"key", "epoch", "train", "step", "measured"}``.

    ``epoch[name]`` lists ``repeats`` whole-epoch times (training + validation), ``train[name]``
    the training part, ``step[name]`` the part spent in ``optimizer.step()`` (seconds);
    ``measured`` is the local date and time of the measurement. Every optimizer
    first trains 20 untimed batches (memory allocation, kernel choice).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}.")
    if data is None:
        data = load_data(device)
    cfg = RunConfig("adam", n_val=n_val, train_subset=train_subset, device=device, threads=threads)
    parts = run_data(cfg, data)
    (X, y), (X_val, y_val) = parts["train"], parts["val"]
    dev = X.device
    out = {"epoch": {}, "train": {}, "step": {}}
    with limit_threads(threads):
        runs = {}
        for name in optimizers:
            model = make_mlp(0).to(dev)
            opt = make_optimizer(name, model.parameters())
            gen = torch.Generator().manual_seed(0)
            train_epoch(model, opt, X[: 20 * 128], y[: 20 * 128], 128, gen)
            runs[name] = (model, opt, gen)
            for part in out.values():
                part[name] = []
        for r in range(repeats):
            order = list(optimizers[r % len(optimizers) :]) + list(
                optimizers[: r % len(optimizers)]
            )
            for name in order:
                model, opt, gen = runs[name]
                steps: list[float] = []
                _sync(dev)
                start = time.perf_counter()
                train_epoch(model, opt, X, y, 128, gen, step_seconds=steps)
                _sync(dev)
                trained = time.perf_counter() - start
                evaluate(model, X_val, y_val)
                _sync(dev)
                out["epoch"][name].append(time.perf_counter() - start)
                out["train"][name].append(trained)
                out["step"][name].append(steps[0])
        fused = {name: bool(runs[name][1].defaults.get("fused")) for name in optimizers}
    out["key"] = timing_key(device, threads, repeats, len(X))
    out["fused"] = fused
    out["measured"] = datetime.now().astimezone().isoformat(timespec="minutes")
    return out


def timing_key(device: str, threads: int, repeats: int, n_train: int) -> dict:
    """What a timing depends on: device, threads, torch version, repeats, training images."""
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    return {
        "device": device,
        "device_name": name,
        "threads": threads,
        "torch": torch_version(),
        "repeats": repeats,
        "n_train": n_train,
    }


def timed_optimizers(out_dir: str | Path, **kwargs) -> dict:
    """`time_optimizers`, read back from ``out_dir`` when the same measurement was stored.

    ``loaded`` tells which; ``measured`` is the date of the measurement either way (for a file
    stored without it, the file's modification time).
    """
    device, threads = kwargs.get("device", "cpu"), kwargs.get("threads", 1)
    repeats = kwargs.get("repeats", 8)
    path = Path(out_dir) / (
        f"timing_{device}_t{threads}_torch{torch_version()}_r{repeats}"
        f"_val{kwargs.get('n_val', 10_000)}_n{kwargs.get('train_subset') or 'all'}.json"
    )
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("key", {}).get("threads") == threads:
                stored["loaded"] = True
                if "measured" not in stored:  # stored before the date was recorded
                    mtime = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
                    stored["measured"] = mtime.isoformat(timespec="minutes")
                return stored
        except (OSError, json.JSONDecodeError):
            pass
    result = time_optimizers(**kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_result(path, result)
    result["loaded"] = False
    return result


def timing_summary(timing: dict) -> dict[str, dict[str, float]]:
    """Per optimizer and part (epoch, train, step): minimum, median and maximum over the repeats.

    Keys ``epoch``, ``train``, ``step`` hold the minimum (the least disturbed repeat: other
    programs only add time), ``<part>_median``, ``<part>_min`` and ``<part>_max`` the rest.
    """
    rows = {}
    for name in timing["epoch"]:
        row = {}
        for part in ("epoch", "train", "step"):
            values = timing[part][name]
            row[part] = row[f"{part}_min"] = float(np.min(values))
            row[f"{part}_median"] = float(np.median(values))
            row[f"{part}_max"] = float(np.max(values))
        rows[name] = row
    return rows


def paired_cost(timing: dict, baseline: str = "sgd", part: str = "train") -> dict[str, dict]:
    """Per optimizer: ``part`` seconds minus the baseline's *in the same repeat*.

    Returns ``{name: {"diffs", "median", "min", "max"}}`` (seconds per epoch). Within one repeat
    the optimizers ran back to back, so a busy period that spans a repeat cancels in the
    difference; the spread of ``diffs`` shows how much it does not.
    """
    if baseline not in timing[part]:
        raise ValueError(f"baseline {baseline!r} was not timed; timed: {list(timing[part])}.")
    base = np.asarray(timing[part][baseline])
    out = {}
    for name, values in timing[part].items():
        d = np.asarray(values) - base
        out[name] = {
            "diffs": d.tolist(),
            "median": float(np.median(d)),
            "min": float(d.min()),
            "max": float(d.max()),
        }
    return out


def step_share(timing: dict) -> dict[str, dict]:
    """Per optimizer: ``optimizer.step()``'s share of the training part, repeat by repeat.

    Returns ``{name: {"shares", "median", "min", "max"}}``: each share is one repeat's step time
    over *that same repeat's* training time (minima of the two parts may come from different
    repeats, so their ratio is no repeat's share).
    """
    out = {}
    for name, steps in timing["step"].items():
        shares = np.asarray(steps) / np.asarray(timing["train"][name])
        out[name] = {
            "shares": shares.tolist(),
            "median": float(np.median(shares)),
            "min": float(shares.min()),
            "max": float(shares.max()),
        }
    return out


def autograd_flops(n_images: int, widths: Sequence[int] = LAYER_WIDTHS) -> dict[str, float]:
    """Floating-point operations of one epoch on ``n_images``, as autograd computes them.

    Per layer of shape (in, out) and image: forward 2·in·out, weight gradient 2·in·out, input
    gradient 2·in·out except for the first layer (the images need no gradient). ``six_np`` is
    the common rule of thumb 6·N·P, which counts that skipped product too.
    """
    shapes = list(zip(widths[:-1], widths[1:]))
    forward = sum(2 * a * b for a, b in shapes) * n_images
    weight_grad = forward
    input_grad = sum(2 * a * b for a, b in shapes[1:]) * n_images
    n_params = sum(a * b + b for a, b in shapes)
    return {
        "forward": float(forward),
        "backward": float(weight_grad + input_grad),
        "total": float(forward + weight_grad + input_grad),
        "six_np": 6.0 * n_images * n_params,
    }


def _best_seconds(
    left: torch.Tensor, right: torch.Tensor, calls: int, repeats: int, device: torch.device
) -> float:
    """Fastest time of ``left @ right`` (best of ``repeats`` averages over ``calls``).

    On CUDA the products run asynchronously: the clock is read after `torch.cuda.synchronize`.
    """
    for _ in range(10):
        left @ right
    _sync(device)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            left @ right
        _sync(device)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def matmul_bound(
    n_images: int,
    batch: int = 128,
    widths: Sequence[int] = LAYER_WIDTHS,
    threads: int = 1,
    calls: int = 200,
    repeats: int = 5,
    device: str = "cpu",
) -> dict[str, float]:
    """Seconds per epoch if ``device`` did nothing but the epoch's matrix products, each timed alone.

    Times (best of ``repeats``) every product shape autograd uses, in float32 on ``device`` (the
    device the training runs on: a CPU bound says nothing about GPU epochs): forward
    ``X @ W.T``, weight gradient ``G.T @ X``, input gradient ``G @ W`` (not for the first
    layer). Returns ``seconds`` (per epoch), ``flops`` (`autograd_flops`) and ``rate`` (FLOP/s
    over those shapes).
    """
    dev = torch.device(device)
    gen = torch.Generator().manual_seed(0)
    per_batch = 0.0
    with limit_threads(threads):
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            x, w, g = (
                torch.randn(shape, generator=gen).to(dev)
                for shape in ((batch, a), (b, a), (batch, b))
            )
            per_batch += _best_seconds(x, w.T, calls, repeats, dev)
            per_batch += _best_seconds(g.T, x, calls, repeats, dev)
            if i > 0:
                per_batch += _best_seconds(g, w, calls, repeats, dev)
    seconds = per_batch * n_images / batch
    flops = autograd_flops(n_images, widths)["total"]
    return {"seconds": seconds, "flops": flops, "rate": flops / seconds}
