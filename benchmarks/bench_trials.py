"""Trials per minute of notebook 09's runner: one process against the two-worker pool.

Run: ``python benchmarks/bench_trials.py [--trials 8] [--workload mlp] [--repeats 2]`` (about a
minute on two idle cores).

Each round trains the same ``--trials`` quasi-random Adam trials of the notebook's size
(`course_utils.nb09_study.NOTEBOOK_SPEC`) into a fresh temporary folder, once with
``workers=1`` (in this process, one thread) and once with ``workers=2`` (two processes of one
thread each, the way the notebook trains), the two taking turns round by round so that a busy
machine slows both alike. Reported: the fastest round of each (trials per minute) and their ratio.
A ratio near 2 means the pool keeps both cores busy; the notebook's study (about 200 trials) then
takes its number of trials divided by the pool's rate.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from course_utils.cli import positive_int
from course_utils.nb09_study import NOTEBOOK_SPEC
from course_utils.nb09_trials import WORKLOADS, load_data, run_trials, search_points


def one_round(configs, workers: int, data) -> float:
    """Seconds to train ``configs`` from nothing with ``workers`` processes."""
    with tempfile.TemporaryDirectory(prefix="bench-trials-") as out:
        start = time.perf_counter()
        run_trials(configs, out, workers=workers, data=data)
        return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=positive_int, default=8)
    parser.add_argument("--workload", choices=WORKLOADS, default="mlp")
    parser.add_argument("--repeats", type=positive_int, default=2)
    args = parser.parse_args(argv)
    configs = [
        NOTEBOOK_SPEC.trial(args.workload, "adam", hp)
        for hp in search_points("adam", "full", args.trials)
    ]
    data = load_data()
    seconds = {1: [], 2: []}
    for r in range(args.repeats):
        for workers in (1, 2) if r % 2 == 0 else (2, 1):
            seconds[workers].append(one_round(configs, workers, data))
    rate = {w: 60 * args.trials / min(s) for w, s in seconds.items()}
    for w in (1, 2):
        print(f"workers={w}: {rate[w]:6.1f} trials/min (fastest of {args.repeats} rounds; "
              f"rounds {', '.join(f'{s:.1f}' for s in seconds[w])} s)")
    print(f"pool / sequential: {rate[2] / rate[1]:.2f}x; the notebook's "
          f"{12 * NOTEBOOK_SPEC.n_trials} search trials at the pool's rate: "
          f"{12 * NOTEBOOK_SPEC.n_trials / rate[2]:.1f} min (all workloads as {args.workload})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
