"""Notebook 09's study: which trials, at which size, and their results as arrays.

``NOTEBOOK_SPEC`` is the laptop size the notebook runs (a few minutes on two cores);
``FULL_SPEC`` the full-size study, one command away::

    python -m course_utils.nb09_study --size full [--device cuda] [--workers 2]

The design: on each workload, each optimizer gets the same number of quasi-random trials drawn
by the same rules (`course_utils.nb09_trials.search_points`), all with the same seed (paired:
the same initial weights and batch order). On the course MLP each optimizer is also searched
over its learning rate only. The winner of each optimizer's full search on the course MLP is
re-run on fresh seeds, its test accuracy read once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from course_utils.nb09_trials import (
    METHODS,
    RESULTS_DIR,
    WORKLOADS,
    TrialConfig,
    run_trials,
    search_points,
)
from course_utils.runs import DEVICES, default_device

CHANCE = 0.1  # the validation accuracy a diverged trial is given after it diverged


@dataclass(frozen=True)
class StudySpec:
    """The size of the study."""

    n_trials: int = 16
    epochs: int = 4
    train_subset: int = 8_000
    n_val: int = 5_000
    evals_per_epoch: int = 2
    held_out_seeds: tuple[int, ...] = (1, 2, 3, 4)
    lr_space_workload: str = "mlp"
    device: str = "cpu"

    def trial(self, workload: str, method: str, hp: dict, seed: int = 0, test=False):
        return TrialConfig(
            workload,
            method,
            **hp,
            seed=seed,
            epochs=self.epochs,
            train_subset=self.train_subset,
            n_val=self.n_val,
            evals_per_epoch=self.evals_per_epoch,
            test=test,
            device=self.device,
        )


NOTEBOOK_SPEC = StudySpec()
FULL_SPEC = StudySpec(
    n_trials=32, epochs=10, train_subset=50_000, n_val=10_000, held_out_seeds=tuple(range(1, 11))
)


def group_keys(spec: StudySpec) -> list[tuple[str, str, str]]:
    """``(workload, method, space)`` of every search: the full space everywhere, plus the
    learning-rate-only space on ``spec.lr_space_workload``."""
    keys = [(w, m, "full") for w in WORKLOADS for m in METHODS]
    keys += [(spec.lr_space_workload, m, "lr") for m in METHODS]
    return keys


def search_configs(spec: StudySpec) -> dict[tuple[str, str, str], list[TrialConfig]]:
    """The trials of every search, in the quasi-random order (which is also the order of K)."""
    return {
        (w, m, s): [spec.trial(w, m, hp) for hp in search_points(m, s, spec.n_trials)]
        for w, m, s in group_keys(spec)
    }


@dataclass
class Search:
    """One optimizer's search on one workload: ``acc[trial, eval]`` at ``steps[eval]``."""

    workload: str
    method: str
    space: str
    steps: np.ndarray
    acc: np.ndarray
    hps: list[dict]
    diverged: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """Validation accuracy at the end of each trial."""
        return self.acc[:, -1]

    def score(self, upto: int | None = None) -> np.ndarray:
        """Each trial's best validation accuracy over its evaluations ``[0, upto)``."""
        return self.acc[:, :upto].max(axis=1)


def to_search(key: tuple[str, str, str], results: list[dict]) -> Search:
    """Stack a search's results; evaluations after a divergence count as chance."""
    steps = np.asarray(results[0]["history"]["step"]) if results else np.zeros(0)
    n_eval = max(len(r["history"]["step"]) for r in results)
    acc = np.full((len(results), n_eval), CHANCE)
    for i, r in enumerate(results):
        values = np.asarray(r["history"]["val_acc"], dtype=float)
        values = np.where(np.isfinite(values), values, CHANCE)
        acc[i, : len(values)] = values
        if len(r["history"]["step"]) == n_eval:
            steps = np.asarray(r["history"]["step"])
    hps = [
        {k: r["config"][k] for k in ("lr", "momentum", "eps", "weight_decay")} for r in results
    ]
    diverged = np.array([bool(r["history"]["diverged"]) for r in results])
    return Search(*key, steps=steps, acc=acc, hps=hps, diverged=diverged)


def run_searches(spec: StudySpec = NOTEBOOK_SPEC, workers: int = 2, out_dir=RESULTS_DIR):
    """Train (or load) every search; return ``{key: Search}`` and the number trained now."""
    configs = search_configs(spec)
    flat = [c for group in configs.values() for c in group]
    results = run_trials(flat, out_dir, workers=workers)
    trained = sum(not r["loaded"] for r in results)
    out, k = {}, 0
    for key, group in configs.items():
        out[key] = to_search(key, results[k : k + len(group)])
        k += len(group)
    return out, trained


def winners(searches: dict, workload: str = "mlp", space: str = "full") -> dict[str, dict]:
    """Each optimizer's best trial (highest best-so-far validation accuracy) of one search."""
    out = {}
    for m in METHODS:
        s = searches[(workload, m, space)]
        i = int(np.argmax(s.score()))
        out[m] = {"index": i, "hp": s.hps[i], "val": float(s.score()[i])}
    return out


def rerun_winners(spec: StudySpec, searches: dict, workers: int = 2, out_dir=RESULTS_DIR):
    """Each optimizer's winner on the course MLP re-run on ``spec.held_out_seeds``, tested once.

    Returns ``{method: {"val": [...], "test": [...], "curves": [seed, eval]}}`` (best-so-far
    validation accuracy, final test accuracy and the validation curve per fresh seed, the seeds
    in the same order for every method: paired).
    """
    wins = winners(searches, spec.lr_space_workload)
    configs = [
        spec.trial(spec.lr_space_workload, m, wins[m]["hp"], seed=s, test=True)
        for m in METHODS
        for s in spec.held_out_seeds
    ]
    results = run_trials(configs, out_dir, workers=workers)
    out = {}
    n = len(spec.held_out_seeds)
    for j, m in enumerate(METHODS):
        group = results[j * n : (j + 1) * n]
        out[m] = {
            "val": np.array([np.nanmax(r["history"]["val_acc"]) for r in group]),
            "test": np.array([r["test"]["acc"] if r["test"] else CHANCE for r in group]),
            "curves": to_search((spec.lr_space_workload, m, "rerun"), group).acc,
        }
    return out


def horizon_picks(searches: dict, upto: int, workload: str = "mlp", space: str = "full"):
    """The best trial of all optimizers' searches on ``workload`` judged after ``upto``
    evaluations, and judged at the end: two ``(method, hp)`` pairs, each the best for its own
    stopping time."""
    picks = []
    for n_evals in (upto, None):
        best = max(
            ((float(searches[(workload, m, space)].score(n_evals)[i]), m, i)
             for m in METHODS for i in range(len(searches[(workload, m, space)].hps))),
        )
        picks.append((best[1], searches[(workload, best[1], space)].hps[best[2]]))
    return picks[0], picks[1]


def rerun_curves(spec: StudySpec, method: str, hp: dict, workers: int = 2, out_dir=RESULTS_DIR):
    """Validation curves ``[seed, eval]`` of one configuration of the course MLP on the fresh
    seeds (no test evaluation)."""
    configs = [
        spec.trial(spec.lr_space_workload, method, hp, seed=s) for s in spec.held_out_seeds
    ]
    results = run_trials(configs, out_dir, workers=workers)
    return to_search((spec.lr_space_workload, method, "rerun"), results).acc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.nb09_study",
        description="Notebook 09's tuning study through the resumable runner (finished trials "
        "are skipped, so it can be stopped and resumed); prints the ranking per budget.",
    )
    parser.add_argument("--size", choices=("notebook", "full"), default="notebook")
    parser.add_argument("--device", choices=DEVICES, default=default_device())
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS_DIR))
    args = parser.parse_args(argv)
    spec = replace(FULL_SPEC if args.size == "full" else NOTEBOOK_SPEC, device=args.device)
    workers = 1 if args.device == "cuda" else args.workers
    from course_utils.nb09_budget import describe_ranking  # analysis only after training

    searches, trained = run_searches(spec, workers, args.out)
    print(f"{len(searches) * spec.n_trials} trials ({trained} trained now) in {args.out}")
    reruns = rerun_winners(spec, searches, workers, args.out)
    print(describe_ranking(searches, reruns, spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
