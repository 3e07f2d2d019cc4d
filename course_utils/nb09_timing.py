"""Seconds per training step, measured so that the machine's load cannot decide a ranking.

The optimizers take turns (interleaved: one block of steps for each, then again, in a rotating
order), so a burst of load from another program hits all of them alike. Each block is timed in
CPU time of the training thread (``time.thread_time``, torch held to one thread), which does not
count the time the thread waits while other programs run; each optimizer's time is the *minimum*
over the repeats (load only ever adds time), and the spread of the repeats is reported beside it.
`distinguishable` says whether two per-step costs differ by more than that spread. Seconds to a target are then ``steps to target x seconds per step``: the
step count is the measurement that does not depend on the machine.
"""

from __future__ import annotations

import time

import numpy as np
from torch import nn

from course_utils.cli import limit_threads
from course_utils.nb09_trials import (
    DEFAULTS,
    METHODS,
    TrialConfig,
    make_model,
    make_trial_optimizer,
)


def seconds_per_step(
    workload: str,
    data,
    repeats: int = 7,
    steps: int = 40,
    batch_size: int = 128,
    methods=METHODS,
    threads: int = 1,
) -> dict[str, dict]:
    """Per method: ``min`` (seconds per step, minimum over ``repeats`` interleaved blocks of
    ``steps`` steps), ``median`` and ``spread`` (max / min - 1 of the repeats)."""
    X, y = data[0][: steps * batch_size], data[1][: steps * batch_size]
    batches = [(X[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(X), batch_size)]
    runs = {}
    for m in methods:
        cfg = TrialConfig(workload, m, lr=1e-3, **{k: v for k, v in DEFAULTS[m].items()})
        model = make_model(workload, 0)
        runs[m] = (model, make_trial_optimizer(cfg, model.parameters()))
    samples = {m: [] for m in methods}
    loss_fn = nn.CrossEntropyLoss()
    with limit_threads(threads):
        for r in range(repeats + 1):  # the first round warms up and is not kept
            order = list(methods[r % len(methods):]) + list(methods[: r % len(methods)])
            for m in order:
                model, opt = runs[m]
                start = time.thread_time()
                for xb, yb in batches:
                    loss = loss_fn(model(xb), yb)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                elapsed = (time.thread_time() - start) / len(batches)
                if r > 0:
                    samples[m].append(elapsed)
    out = {}
    for m, values in samples.items():
        v = np.array(values)
        out[m] = {"min": float(v.min()), "median": float(np.median(v)),
                  "spread": float(v.max() / v.min() - 1)}
    return out


def all_seconds_per_step(data, workloads, **kw) -> dict[str, dict]:
    """`seconds_per_step` for every workload (``batch_size`` as in the trials)."""
    return {w: seconds_per_step(w, data, **kw) for w in workloads}


def fastest_per_step(table: dict[str, dict]) -> dict[str, float]:
    """``{method: min seconds per step}`` from one workload's `seconds_per_step` table."""
    return {method: row["min"] for method, row in table.items()}


def distinguishable(a: dict, b: dict) -> bool:
    """Whether two `seconds_per_step` rows differ by more than their repeats' spread: the ratio
    of the minima is further from 1 than the larger relative spread."""
    ratio = max(a["min"], b["min"]) / min(a["min"], b["min"])
    return ratio - 1 > max(a["spread"], b["spread"])
