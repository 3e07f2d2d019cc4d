"""Seconds per epoch: the course's DataLoader loop vs our in-memory loop, and the matmul bound.

Run: ``python benchmarks/bench_training.py [--epochs 3] [--threads 1 2]`` (a few minutes idle).

Both loops train the course's MLP with Adam (lr 0.001) and batch size 128 on the full
60,000-image training set, then validate on the 10,000 test images, in the same process and
interleaved epoch by epoch so that a busy machine slows both alike. Reported times are the
fastest epoch of each loop (like ``timeit``: on a shared machine the minimum is the least
disturbed measurement); medians are printed too.

* course-style: torchvision's ``FashionMNIST`` dataset (each ``__getitem__`` builds a PIL image
  and applies ``ToTensor()`` and ``Normalize((0.5,), (0.5,))``), ``DataLoader(batch_size=128,
  shuffle=True)`` with the default ``num_workers=0``, torch.optim's default Adam, and
  ``loss.item()`` / ``.item()`` bookkeeping on every batch, as the course's notebook does;
* ours: ``course_utils.training`` (whole dataset normalised once in memory, batches taken by a
  shuffled index, ``fused=True`` Adam, bookkeeping summed as tensors).

The matrix-multiply bound (``course_utils.nb07_timing.matmul_bound``) is the time of exactly the
products autograd computes in one epoch, each shape timed on its own at the same thread count:
forward ``X @ W.T`` and weight gradient ``G.T @ X`` for every layer, input gradient ``G @ W`` for
every layer but the first (the images need no gradient). That is 60.4 GFLOP per epoch, not the
6 x N x P = 84.7 GFLOP of the rule of thumb. It counts training only, so the fraction uses our
training time (validation excluded). Both loops run with the same thread count; the whole
comparison runs once per thread count given (default 1 and 2), and the last lines print, per
thread count, the speed-up over the course's loop and the fraction of the bound (goal >= 75 %).
Seconds measured on a busy machine are inflated; compare the ratios, measured on an idle one.

Where the epoch goes: as many more epochs of ours as were timed run under ``torch.profiler``, and
the least disturbed one is split into the
matrix products (``aten::mm``/``aten::addmm``: the same products as the bound, but *in context*,
between the other work that evicts their data from the caches), the optimizer step (of which its
fused kernel), the batch gather (``randperm`` and ``index_select``) and the rest (activations,
loss, autograd's bookkeeping, Python, and the profiler's own overhead). From it the benchmark
prints the ceiling of the fraction of the bound on this machine: even with every other part at
zero the epoch cannot be faster than its products in context (``bound / products in context``),
and the optimizer's kernel is work the bound does not count (``bound / (products + kernel)``).
If the goal lies above these ceilings, no change to the loop's overhead can reach it here.

Optional and separate (never the course's loop): if a C++ compiler is found, one extra line
times our loop with ``torch.compile(model)`` (``--no-compile`` skips it).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import FashionMNIST

from course_utils.cli import limit_threads, positive_int
from course_utils.data import load_fashion_mnist
from course_utils.models import make_mlp
from course_utils.nb07_timing import autograd_flops, matmul_bound
from course_utils.training import evaluate, make_optimizer, train_epoch


class CourseFashionMNIST(FashionMNIST):
    """torchvision's FashionMNIST with its own per-sample ``__getitem__`` (PIL + transforms),
    fed the verified uint8 images of ``course_utils.data`` instead of reading files again."""

    def __init__(self, images_uint8: torch.Tensor, labels: torch.Tensor, transform):
        self._arrays = (images_uint8, labels)
        super().__init__(root="unused", train=True, transform=transform)

    def _check_legacy_exist(self) -> bool:
        return False

    def _check_exists(self) -> bool:
        return True

    def _load_data(self):
        return self._arrays


def to_uint8(X: torch.Tensor) -> torch.Tensor:
    """Undo Normalize((0.5,), (0.5,)) and ToTensor: [-1, 1] floats back to the 0..255 bytes."""
    return ((X[:, 0] * 0.5 + 0.5) * 255).round().to(torch.uint8)


def course_epoch(model, optimizer, train_loader, test_loader) -> tuple[float, float]:
    """One epoch written the way the course's notebook writes it; returns (train s, total s)."""
    criterion = nn.CrossEntropyLoss()
    start = time.perf_counter()
    model.train()
    running_loss, correct, total = 0.0, 0, 0
    for images, labels in train_loader:
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * images.size(0)
        _, predicted = outputs.max(1)
        total += labels.size(0)
        correct += predicted.eq(labels).sum().item()
    train_seconds = time.perf_counter() - start
    model.eval()
    val_loss, val_correct = 0.0, 0
    with torch.no_grad():
        for images, labels in test_loader:
            outputs = model(images)
            val_loss += criterion(outputs, labels).item() * images.size(0)
            val_correct += outputs.argmax(1).eq(labels).sum().item()
    return train_seconds, time.perf_counter() - start


def our_epoch(model, optimizer, data, generator) -> tuple[float, float]:
    """One epoch of ``course_utils.training``; returns (train s, total s)."""
    X_train, y_train, X_val, y_val = data
    start = time.perf_counter()
    train_epoch(model, optimizer, X_train, y_train, 128, generator)
    train_seconds = time.perf_counter() - start
    evaluate(model, X_val, y_val)
    return train_seconds, time.perf_counter() - start


GOAL_FRACTION = 0.75  # of the matmul bound's speed, reached by our training pass

PRODUCTS = ("aten::mm", "aten::addmm")
GATHER = ("aten::randperm", "aten::index_select", "aten::index")


def epoch_breakdown(model, optimizer, data, generator, repeats: int = 1) -> dict[str, float]:
    """Epochs of ours under ``torch.profiler``: seconds in each part of the least disturbed one.

    Profiles ``repeats`` epochs one by one and returns the parts of the one with the smallest
    total (other programs only add time). Keys: ``total`` (the profiled epoch, profiler overhead
    included), ``products`` (every ``aten::mm``/``aten::addmm``, forward and backward), ``step``
    (``optimizer.step()`` whole: Python and kernel), ``kernel`` (the optimizer's fused kernel, 0
    if it has none), ``gather`` (batch order and gather) and ``rest`` (``total`` minus products,
    step and gather).
    """
    X_train, y_train = data[:2]
    best: dict[str, float] = {}
    for _ in range(repeats):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            train_epoch(model, optimizer, X_train, y_train, 128, generator)
            total = time.perf_counter() - start
        if best and total >= best["total"]:
            continue
        events = prof.key_averages()

        def seconds(match, events=events) -> float:
            return sum(e.cpu_time_total for e in events if match(e.key)) / 1e6

        best = {
            "total": total,
            "products": seconds(lambda k: k in PRODUCTS),
            "step": seconds(lambda k: k.startswith("Optimizer.step#")),
            "kernel": seconds(lambda k: k.startswith("aten::_fused_")),
            "gather": seconds(lambda k: k in GATHER),
        }
        best["rest"] = total - best["products"] - best["step"] - best["gather"]
    return best


def ceilings(bound_seconds: float, parts: dict[str, float]) -> dict[str, float]:
    """Highest fraction of the bound the epoch could reach with the other parts at zero.

    ``products``: bound / products in context (everything else free); ``with_kernel``: bound /
    (products + the optimizer's kernel), since the kernel's memory traffic is work the bound
    does not count.
    """
    return {
        "products": bound_seconds / parts["products"],
        "with_kernel": bound_seconds / (parts["products"] + parts["kernel"]),
    }


def print_breakdown(parts: dict[str, float], bound_seconds: float, unprofiled: float) -> None:
    """Print where the profiled epoch went and the ceilings it implies."""
    total = parts["total"]
    print(
        f"where an epoch of ours goes (torch.profiler, least disturbed epoch; {total:.3f} s "
        f"profiled vs {unprofiled:.3f} s unprofiled):"
    )
    rows = (
        ("matrix products, in context", parts["products"]),
        ("optimizer.step(), whole", parts["step"]),
        ("  of which its fused kernel", parts["kernel"]),
        ("batch order and gather", parts["gather"]),
        ("the rest (incl. profiler)", parts["rest"]),
    )
    for label, value in rows:
        print(f"  {label:30s} {value:7.3f} s {value / total:6.1%}")
    print(
        f"  the same products timed alone (the bound) {bound_seconds:.3f} s: in context they "
        f"take {parts['products'] / bound_seconds:.2f}x as long"
    )
    top = ceilings(bound_seconds, parts)
    print(
        f"ceiling on this machine: {top['products']:.0%} of the bound with everything but the "
        f"products free; {top['with_kernel']:.0%} keeping the optimizer's kernel"
    )
    if top["products"] < GOAL_FRACTION:
        verdict = "above both ceilings: removing overhead cannot reach it here"
    elif top["with_kernel"] < GOAL_FRACTION:
        verdict = "reachable only if the optimizer's kernel were free too"
    else:
        verdict = "below both ceilings: the overhead between the products decides it"
    print(f"goal {GOAL_FRACTION:.0%}: {verdict}")


def compiled_epoch_seconds(data, epochs: int) -> tuple[float, float]:
    """Optional extra: (compile + first epoch s, fastest of ``epochs`` training epochs s) of
    our loop with ``torch.compile(model)``; not the course's loop."""
    model = make_mlp(0)
    compiled = torch.compile(model)
    optimizer = make_optimizer("adam", model.parameters(), variant="fused")
    generator = torch.Generator().manual_seed(0)
    X_train, y_train = data[:2]
    start = time.perf_counter()
    train_epoch(compiled, optimizer, X_train, y_train, 128, generator)
    first = time.perf_counter() - start
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        train_epoch(compiled, optimizer, X_train, y_train, 128, generator)
        times.append(time.perf_counter() - start)
    return first, min(times)


def cxx_compiler() -> str | None:
    """Path of a C++ compiler for torch.compile's CPU code, or None."""
    for name in ("g++", "c++", "clang++"):
        if path := shutil.which(name):
            return path
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--epochs", type=positive_int, default=3, help="timed epochs per loop (default 3)"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        nargs="+",
        default=[1, 2],
        help="torch thread counts, one full comparison each (default 1 2)",
    )
    parser.add_argument(
        "--images",
        type=positive_int,
        default=None,
        help="train and validate on the first N images of each set (default: all; a smoke test)",
    )
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="skip the optional torch.compile line (run when a C++ compiler is found)",
    )
    args = parser.parse_args(argv)
    X_train, y_train, X_test, y_test = load_fashion_mnist()[:4]
    n = args.images
    data = (X_train[:n], y_train[:n], X_test[:n], y_test[:n])
    rows = {}
    for threads in args.threads:
        with limit_threads(threads):
            rows[threads] = _run(data, args.epochs, threads, compile_=not args.no_compile)
    print()
    print(
        f"{'threads':>7s} {'speed-up vs course loop':>24s} {'fraction of matmul bound':>25s} "
        f"{'ceiling: products only':>23s} {'+ optimizer kernel':>19s}"
    )
    for threads, row in rows.items():
        print(
            f"{threads:7d} {row['ratio']:23.1f}x {row['fraction']:24.0%} "
            f"{row['ceiling']:22.0%} {row['ceiling_kernel']:18.0%}"
        )
    met = all(row["fraction"] >= GOAL_FRACTION for row in rows.values())
    print(
        f"goal >= {GOAL_FRACTION:.0%} of the bound at every thread count: {'met' if met else 'NOT met'}"
    )
    return 0


def _run(data, epochs: int, threads: int, compile_: bool = True) -> dict[str, float]:
    print(
        f"\n== torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU, {len(data[0]):,} images"
    )
    X_train, y_train, X_test, y_test = data
    normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    train_set = CourseFashionMNIST(to_uint8(X_train), y_train, normalize)
    test_set = CourseFashionMNIST(to_uint8(X_test), y_test, normalize)
    first_image, _ = train_set[0]
    assert torch.allclose(first_image, X_train[0], atol=1e-6), "course-style data differ from ours"
    torch.manual_seed(0)  # the DataLoader's shuffling uses the global generator
    train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=128, shuffle=False)

    course_model = make_mlp(0)
    course_opt = torch.optim.Adam(course_model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-8)
    our_model = make_mlp(0)
    our_opt = make_optimizer("adam", our_model.parameters(), variant="fused")
    generator = torch.Generator().manual_seed(0)

    # One untimed warm-up epoch of ours (allocator, kernel selection); the course loop is far
    # slower per batch, so its warm-up is negligible.
    our_epoch(our_model, our_opt, data, generator)
    course_times, our_times = [], []
    for epoch in range(epochs):
        course_times.append(course_epoch(course_model, course_opt, train_loader, test_loader))
        our_times.append(our_epoch(our_model, our_opt, data, generator))
        print(
            f"epoch {epoch + 1}: course-style {course_times[-1][1]:.2f} s, "
            f"ours {our_times[-1][1]:.2f} s (train + validation)"
        )

    course_train, course_total = (min(t[i] for t in course_times) for i in (0, 1))
    our_train, our_total = (min(t[i] for t in our_times) for i in (0, 1))
    course_median = statistics.median(t[1] for t in course_times)
    our_median = statistics.median(t[1] for t in our_times)
    bound = matmul_bound(len(X_train), threads=threads)
    flops = autograd_flops(len(X_train))
    ratio = course_total / our_total

    print()
    print(f"{'seconds per epoch (fastest)':32s} {'train':>8s} {'train+val':>10s}")
    print(f"{'course-style DataLoader loop':32s} {course_train:8.3f} {course_total:10.3f}")
    print(f"{'ours (in-memory, fused Adam)':32s} {our_train:8.3f} {our_total:10.3f}")
    print(
        f"speed-up: {ratio:.1f}x per epoch (train+val), {course_train / our_train:.1f}x "
        f"training only; goal >= 5x: {'met' if ratio >= 5 else 'NOT met'}"
    )
    print(
        f"(medians: course-style {course_median:.3f} s, ours {our_median:.3f} s, "
        f"ratio {course_median / our_median:.1f}x)"
    )
    print(
        f"matmul bound: {flops['total'] / 1e9:.1f} GFLOP per epoch as autograd computes it "
        f"(6NP would say {flops['six_np'] / 1e9:.1f}), at {bound['rate'] / 1e9:.1f} GFLOP/s "
        f"measured on exactly those shapes = {bound['seconds']:.3f} s"
    )
    print(
        f"ours reaches {bound['seconds'] / our_train:.0%} of the matmul bound's speed "
        f"(training time; {bound['seconds'] / our_total:.0%} counting validation)"
    )
    parts = epoch_breakdown(our_model, our_opt, data, generator, repeats=epochs)
    print_breakdown(parts, bound["seconds"], our_train)
    top = ceilings(bound["seconds"], parts)
    if compile_:
        compiler = cxx_compiler()
        if compiler is None:
            print("optional torch.compile line skipped: no C++ compiler found")
        else:
            try:
                first, fastest = compiled_epoch_seconds(data, epochs)
            except Exception as exc:  # an optional extra must not stop the benchmark
                print(f"optional torch.compile line failed: {type(exc).__name__}: {exc}")
            else:
                print(
                    f"optional extra, not the course's loop: torch.compile(model) ({compiler}): "
                    f"training {fastest:.3f} s per epoch = {bound['seconds'] / fastest:.0%} of "
                    f"the bound (compile + first epoch {first:.1f} s)"
                )
    return {
        "ratio": ratio,
        "fraction": bound["seconds"] / our_train,
        "ceiling": top["products"],
        "ceiling_kernel": top["with_kernel"],
    }


if __name__ == "__main__":
    raise SystemExit(main())
