"""Notebook 08: reruns that look inside a run: per-image test mistakes, another thread count.

* `test_mistakes`: retrain one run of the shared runner (the same computation, bit for bit, on
  the same CPU, thread count and torch) and record which test images it gets wrong. The runner
  stores only a run's test accuracy and confusion matrix; two models scored on the same test
  images need the images themselves to pair their mistakes (`course_utils.stats.paired_item_se`,
  McNemar). Cached as one JSON per run under ``out_dir/mistakes/``; the retrain is checked
  against the stored run (every epoch's numbers and the test confusion matrix must be equal).
* `with_threads`: the same runs with another torch thread count, for the runner (their file
  names differ by ``_t2``): a rerun in which only the order of the additions inside the matrix
  products changes, to measure how far that alone moves a result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from course_utils.cli import limit_threads
from course_utils.nb08_weight_decay import GridSpec, _config
from course_utils.runs import RunConfig, load_data, train_run, write_result
from course_utils.training import confusion_matrix


def _retrain(cfg: RunConfig, data) -> tuple[dict, dict, np.ndarray]:
    """Train ``cfg`` through `runs.train_run` (as `runs.run_one` does); history, test, mistakes."""
    model, _, history, parts, _ = train_run(cfg, data)
    X_test, y_test = parts["test"]
    with limit_threads(cfg.threads):
        test = confusion_matrix(model, X_test, y_test)
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(xb).argmax(dim=1) for xb in X_test.split(4096)])
    wrong = (predicted != y_test).cpu().numpy()
    return history, test, wrong


def test_mistakes(
    config: RunConfig, stored: dict, out_dir: str | os.PathLike, data=None
) -> np.ndarray:
    """Which test images run ``config`` gets wrong (bool array, one per test image), cached.

    ``stored`` is the runner's result for the same run (`runs.run_experiment`): the retrain must
    reproduce its history and test confusion matrix exactly, or this raises (another CPU, thread
    count or torch would not be the same run). The answer is saved under
    ``out_dir/mistakes/<run name>.json`` and read back on later calls.
    """
    cfg = config.resolved()
    if RunConfig.from_dict(stored["config"]).name != cfg.name:
        raise ValueError(f"stored result is not run {cfg.name}.")
    path = Path(out_dir) / "mistakes" / f"{cfg.name}.json"
    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(saved["wrong"]), dtype=np.uint8))
        return bits[: saved["n"]].astype(bool)
    if data is None:
        data = load_data(cfg.device)
    history, test, wrong = _retrain(cfg, data)
    same = all(history[k] == stored["history"][k] for k in ("train_loss", "val_loss", "val_acc"))
    if not same or test["confusion"] != stored["test"]["confusion"]:
        raise RuntimeError(
            f"retraining {cfg.name} did not reproduce the stored run (another CPU, thread count "
            "or torch?): its per-image mistakes would belong to another run."
        )
    confusion = np.array(test["confusion"])
    if int(wrong.sum()) != int(confusion.sum() - np.trace(confusion)):
        raise RuntimeError(
            f"{cfg.name}: the per-image mistakes disagree with the confusion matrix."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_result(
        path, {"name": cfg.name, "n": len(wrong), "wrong": np.packbits(wrong).tobytes().hex()}
    )
    return wrong


def cell_configs(spec: GridSpec, method: str, i: int, j: int) -> list[RunConfig]:
    """The grid's runs of ``method``'s cell (lr index ``i``, decay index ``j``), one per seed."""
    lam = spec.all_decays(method)[j]
    if not spec.ran(method)[i, j]:
        raise ValueError(f"the grid does not train {method} cell ({i}, {j}).")
    return [_config(spec, method, spec.lrs[i], lam, seed) for seed in spec.seeds]


def final_error(result: dict) -> float:
    """A run's final validation error in % (the grid's measure)."""
    return 100.0 * (1.0 - float(result["history"]["val_acc"][-1]))


def with_threads(configs: Sequence[RunConfig], threads: int) -> list[RunConfig]:
    """The same runs trained with ``threads`` torch threads (each a run of its own name)."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads!r}.")
    return [replace(c, threads=threads) for c in configs]
