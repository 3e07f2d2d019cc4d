"""The resumable runner: one training run per `RunConfig`, one JSON file per finished run.

Each run is described by a `RunConfig`: optimizer, learning rate, seed, epochs, weight decay,
training-subset size, learning-rate schedule, implementation variant, batch size, the size of
the validation split held out of the training images, the device and the number of threads.
The run's file name (``RunConfig.name``) names every one of these settings *and* the torch
version, so runs made with another thread count, on another device or with another torch are
never mixed: they are different files.

When a run completes, its configuration, per-epoch ``history`` and final ``test`` evaluation are
written to ``OUT/<run name>.json`` atomically (a temporary file, then ``os.replace``), so an
interrupted sweep keeps every finished run and a rerun skips them. A results file that cannot be
read, or whose content does not match its configuration, is reported by name on stderr and
recomputed, never silently used. ``force=True`` recomputes everything. ``workers=2`` trains the
missing runs in two processes (one torch thread each by default), which is how notebooks 07 and
08 use both cores of a laptop.

Data. ``n_val = 0`` validates on the 10,000 test images after every epoch, as the course's
notebook does. ``n_val > 0`` holds ``n_val`` training images out (`course_utils.data.holdout_split`),
validates on them after every epoch, trains on (a fixed subset of) the rest, and evaluates the
test set once, after the last epoch, into ``result["test"]`` (loss, accuracy and the confusion
matrix). Choices (learning rates, decays) are made on validation numbers; the test numbers are
for the final report only.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, fields, replace
from functools import partial
from pathlib import Path

import torch
from tqdm.std import tqdm

from course_utils.cli import limit_threads
from course_utils.data import holdout_split, load_fashion_mnist
from course_utils.models import count_parameters, make_mlp
from course_utils.training import (
    COURSE_HYPERPARAMETERS,
    OPTIMIZERS,
    VARIANTS,
    confusion_matrix,
    fit,
    make_optimizer,
)

SCHEDULES = ("constant", "cosine")
DEVICES = ("cpu", "cuda")
N_TRAIN = 60_000
SUBSET_SEED = 1234  # the same training subset for every run, whatever the run's seed
SCHEMA_VERSION = 2
HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "epoch_time")


def default_device() -> str:
    """``"cuda"`` when a GPU is available, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_version() -> str:
    """torch's version without the build tag (``2.4.1``), as it appears in run names."""
    return torch.__version__.split("+")[0]


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not math.isnan(x)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True)
class RunConfig:
    """One training run. ``lr``/``weight_decay`` of None mean the course's value for the optimizer.

    * ``optimizer``: sgd, adagrad, adam (weight_decay > 0 is Adam+L2) or adamw (decoupled decay).
    * ``train_subset``: train on this many images (a fixed random subset of the training images
      not held out, the same for every run; None = all of them).
    * ``schedule``: "constant", or "cosine" (lr decays to 0 along a half cosine, every batch).
    * ``variant``: "fused" (torch.optim, fused kernels where this torch and device have them),
      "torch" (torch.optim default loop) or "course" (``course_utils.optimizers`` from scratch).
    * ``n_val``: training images held out for validation (0: validate on the test set).
    * ``device``: "cpu" or "cuda"; ``threads``: torch threads while the run trains.
    """

    optimizer: str
    lr: float | None = None
    seed: int = 0
    epochs: int = 20
    weight_decay: float | None = None
    train_subset: int | None = None
    schedule: str = "constant"
    variant: str = "fused"
    batch_size: int = 128
    n_val: int = 0
    device: str = "cpu"
    threads: int = 1

    def __post_init__(self) -> None:
        def fail(text: str) -> None:
            raise ValueError(text)

        if self.optimizer not in OPTIMIZERS:
            fail(f"Unknown optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}.")
        if self.lr is not None and not (_is_number(self.lr) and 0 < self.lr < math.inf):
            fail(f"lr must be a finite number > 0, got {self.lr!r}.")
        wd = self.weight_decay
        if wd is not None and not (_is_number(wd) and 0 <= wd < math.inf):
            fail(f"weight_decay must be a finite number >= 0, got {wd!r}.")
        for name, low in (("seed", 0), ("epochs", 1), ("batch_size", 1), ("threads", 1)):
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                fail(f"{name} must be an int >= {low}, got {value!r}.")
        if not _is_int(self.n_val) or not 0 <= self.n_val <= N_TRAIN // 2:
            fail(f"n_val must be an int in [0, {N_TRAIN // 2}], got {self.n_val!r}.")
        n_pool = N_TRAIN - self.n_val
        subset = self.train_subset
        if subset is not None and not (_is_int(subset) and 1 <= subset <= n_pool):
            fail(
                f"train_subset must be an int in [1, {n_pool}] (the training images not held "
                f"out) or None (all of them), got {subset!r}."
            )
        for name, allowed in (("schedule", SCHEDULES), ("variant", VARIANTS), ("device", DEVICES)):
            if getattr(self, name) not in allowed:
                fail(f"Unknown {name} {getattr(self, name)!r}: choose one of {', '.join(allowed)}.")
        if self.variant == "course" and self.optimizer == "sgd":
            fail("variant='course' has no SGD (no from-scratch SGD): use 'fused'.")

    def resolved(self) -> RunConfig:
        """The same run with the course's lr and weight_decay filled in where None."""
        course = COURSE_HYPERPARAMETERS[self.optimizer]
        return replace(
            self,
            lr=float(course["lr"] if self.lr is None else self.lr),
            weight_decay=float(
                course["weight_decay"] if self.weight_decay is None else self.weight_decay
            ),
        )

    @property
    def name(self) -> str:
        """File stem naming every setting and the torch version, e.g.
        ``adam_lr0.001_wd0_constant_n50000_e20_b128_fused_val10000_cpu_t1_torch2.4.1_seed0``."""
        c = self.resolved()
        return (
            f"{c.optimizer}_lr{c.lr:.6g}_wd{c.weight_decay:.6g}_{c.schedule}"
            f"_n{c.train_subset or N_TRAIN - c.n_val}_e{c.epochs}_b{c.batch_size}_{c.variant}"
            f"_val{c.n_val}_{c.device}_t{c.threads}_torch{torch_version()}_seed{c.seed}"
        )

    def to_dict(self) -> dict:
        """The resolved configuration as a plain dict (what the JSON file stores)."""
        return asdict(self.resolved())

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Rebuild a config from ``to_dict()`` output (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown RunConfig fields {sorted(unknown)}.")
        return cls(**data)


# ---------------------------------------------------------------------------------------------
# Data


def load_data(device: str | torch.device | None = None):
    """Fashion-MNIST as ``(X_train, y_train, X_test, y_test)`` on ``device`` (default: the CPU)."""
    device = torch.device(device or "cpu")
    X_train, y_train, X_test, y_test, _ = load_fashion_mnist()
    return tuple(t.to(device) for t in (X_train, y_train, X_test, y_test))


def run_data(cfg: RunConfig, data) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The ``train``, ``val`` and ``test`` tensors of one run, cut from ``load_data()`` output."""
    X, y, X_test, y_test = data
    if cfg.n_val == 0:
        pool, val = (X, y), (X_test, y_test)
    else:
        pool_idx, val_idx = holdout_split(len(X), cfg.n_val)
        pool_idx, val_idx = pool_idx.to(X.device), val_idx.to(X.device)
        pool, val = (X[pool_idx], y[pool_idx]), (X[val_idx], y[val_idx])
    if cfg.train_subset is not None and cfg.train_subset < len(pool[0]):
        order = torch.randperm(len(pool[0]), generator=torch.Generator().manual_seed(SUBSET_SEED))
        idx = order[: cfg.train_subset].sort().values.to(X.device)
        pool = (pool[0][idx], pool[1][idx])
    return {"train": pool, "val": val, "test": (X_test, y_test)}


# ---------------------------------------------------------------------------------------------
# One run


def train_run(cfg: RunConfig, data, progress: bool = False, desc: str | None = None):
    """Train the resolved run ``cfg`` on ``data`` (`load_data` output) as `run_one` does.

    Returns ``(model, optimizer, history, parts, seconds)``: the trained model and its optimizer,
    `fit`'s history, `run_data`'s train/val/test parts and the training time. `run_one` and
    notebook 08's reruns (`nb08_rerun`) both train through this, so a rerun is the same run.
    """
    parts = run_data(cfg, data)
    (X_train, y_train), (X_val, y_val) = parts["train"], parts["val"]
    with limit_threads(cfg.threads):
        model = make_mlp(cfg.seed).to(cfg.device)
        optimizer = make_optimizer(
            cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay, cfg.variant
        )
        scheduler = None
        if cfg.schedule == "cosine":
            steps = cfg.epochs * math.ceil(len(X_train) / cfg.batch_size)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        start = time.perf_counter()
        history = fit(
            model,
            optimizer,
            X_train,
            y_train,
            X_val,
            y_val,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            seed=cfg.seed,
            scheduler=scheduler,
            progress=progress,
            desc=desc or f"{cfg.optimizer} lr={cfg.lr:g} seed={cfg.seed}",
        )
        seconds = time.perf_counter() - start
    return model, optimizer, history, parts, seconds


def run_one(config: RunConfig, data=None, progress: bool = True, desc: str | None = None) -> dict:
    """Train one run and return ``{"config", "history", "test", "meta"}`` (nothing is written).

    ``data`` is ``load_data()`` output on the run's device (loaded when None).
    """
    cfg = config.resolved()
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"run {cfg.name} asks for CUDA, but torch sees no GPU here.")
    if data is None:
        data = load_data(cfg.device)
    model, optimizer, history, parts, total = train_run(cfg, data, progress, desc)
    (X_train, _), (X_val, _) = parts["train"], parts["val"]
    with limit_threads(cfg.threads):
        test = confusion_matrix(model, *parts["test"])
    meta = {
        "schema": SCHEMA_VERSION,
        "torch": torch.__version__,
        "threads": cfg.threads,
        "device": cfg.device,
        "fused": bool(optimizer.defaults.get("fused")),
        "n_params": count_parameters(model),
        "n_train": len(X_train),
        "n_val": len(X_val),
        "total_time": total,
    }
    return {"config": cfg.to_dict(), "history": history, "test": test, "meta": meta}


def _json_safe(value):
    """NaN/inf (a diverged run) become null: strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_result(path: Path, result: dict) -> None:
    """Write ``result`` to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_json_safe(result), f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _check_result(result, cfg: RunConfig) -> str | None:
    """Why a loaded result cannot be used for ``cfg`` (None when it is fine)."""
    if not isinstance(result, dict):
        return "not a JSON object"
    for key in ("config", "history", "test", "meta"):
        if key not in result:
            return f"missing key {key!r}"
    if result["config"] != cfg.to_dict():
        return "its stored configuration does not match this run"
    if not isinstance(result["meta"], dict) or result["meta"].get("schema") != SCHEMA_VERSION:
        return f"it was written by another version of the runner (schema != {SCHEMA_VERSION})"
    history = result["history"]
    if not isinstance(history, dict):
        return "history is not a JSON object"
    lengths = set()
    for key in HISTORY_KEYS:
        values = history.get(key)
        if not isinstance(values, list) or not all(v is None or _is_number(v) for v in values):
            return f"history[{key!r}] is missing or not a list of numbers"
        lengths.add(len(values))
    if len(lengths) != 1:
        return "history lists have different lengths"
    (n,) = lengths
    if n < 1 or n > cfg.epochs or (n < cfg.epochs and not history.get("diverged")):
        return f"history holds {n} epochs, expected {cfg.epochs}"
    return None


def read_result(path: Path, cfg: RunConfig) -> dict | None:
    """The stored result for ``cfg``, or None (after a note on stderr) if it is unusable."""
    try:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        problem = _check_result(result, cfg)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = f"unreadable JSON: {exc}"
    if problem is not None:
        print(f"Corrupt results file {path}: {problem}. Recomputing this run.", file=sys.stderr)
        return None
    history = result["history"]
    for key in HISTORY_KEYS:
        history[key] = [math.nan if v is None else float(v) for v in history[key]]
    test = result["test"]
    for key in ("loss", "acc"):
        test[key] = math.nan if test.get(key) is None else float(test[key])
    return result


# ---------------------------------------------------------------------------------------------
# Many runs: resumable, optionally in a process pool

_WORKER_DATA = None


def _init_worker() -> None:
    global _WORKER_DATA
    torch.set_num_threads(1)
    _WORKER_DATA = load_data("cpu")


def _train_in_worker(train: Callable, config, path: str) -> None:
    write_result(Path(path), train(config, _WORKER_DATA))


def train_in_pool(
    train: Callable,
    configs: Sequence,
    out: Path,
    workers: int,
    on_done: Callable[[], object] | None = None,
) -> None:
    """Train ``configs`` in ``workers`` new processes; write each result to ``out/<name>.json``.

    The worker pool of `run_experiment` and `course_utils.nb09_trials.run_trials`. Each process
    is started fresh ("spawn"), sets torch to one thread and loads the CPU data (`load_data`)
    once; it then calls ``train(config, data)`` for the configs it is given and writes the
    returned dict with `write_result` under the config's ``name``. ``train`` must be picklable:
    a module-level function (or a ``functools.partial`` of one) taking ``(config, data)``.
    ``on_done()`` is called in this process after each finished config (a progress bar's
    update). The first error raised by a config cancels the configs not yet started and is
    raised here.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        futures = [
            pool.submit(_train_in_worker, train, c, str(out / f"{c.name}.json")) for c in configs
        ]
        try:
            for future in as_completed(futures):
                future.result()
                if on_done is not None:
                    on_done()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _check_configs(configs: Sequence[RunConfig]) -> None:
    for cfg in configs:
        if not isinstance(cfg, RunConfig):
            raise TypeError(f"configs must be RunConfig objects, got {type(cfg).__name__}.")
    names = [cfg.name for cfg in configs]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"Duplicate runs in configs: {', '.join(duplicates)}.")


def run_experiment(
    configs: Sequence[RunConfig],
    out_dir: str | os.PathLike,
    data=None,
    force: bool = False,
    progress: bool = True,
    workers: int = 1,
) -> list[dict]:
    """Run every config not already completed in ``out_dir``; return all results in order.

    Each result is ``{"config", "history", "test", "meta"}`` plus ``"path"`` (its JSON file) and
    ``"loaded"`` (True when read back instead of computed). Completed runs are skipped unless
    ``force``; a corrupt file is named on stderr and recomputed. ``data`` is `load_data` output
    (loaded once, when needed, by default). ``workers > 1`` trains the missing CPU runs in that
    many processes (each loads the data once); CUDA runs always train in this process.
    """
    configs = list(configs)
    _check_configs(configs)
    if not _is_int(workers) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{cfg.name}.json" for cfg in configs]
    bar = tqdm(total=len(configs), desc="runs", unit="run", disable=not progress)
    try:
        pooled = [
            c for c, p in zip(configs, paths) if c.device == "cpu" and (force or not p.exists())
        ]
        if workers > 1 and len(pooled) > 1:
            train_in_pool(partial(run_one, progress=False), pooled, out, workers, bar.update)
            bar.reset()
            force = False
        results = []
        for cfg, path in zip(configs, paths):
            result = None if force or not path.exists() else read_result(path, cfg)
            loaded = result is not None
            if result is None:
                if data is None or data[0].device.type != cfg.device:
                    data = load_data(cfg.device)
                result = run_one(cfg, data, progress=False)
                write_result(path, result)
            result["path"] = str(path)
            result["loaded"] = loaded
            results.append(result)
            bar.set_postfix_str(f"{cfg.optimizer} lr={cfg.resolved().lr:g} seed={cfg.seed}")
            bar.update()
    finally:
        bar.close()
    if workers > 1:
        for r, cfg in zip(results, configs):
            r["loaded"] = r["loaded"] and cfg not in pooled
    return results
