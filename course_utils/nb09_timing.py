"""Seconds per training step, measured so that they are robust to the machine's load.

The optimizers take turns (interleaved: one block of steps for each, then again, in a rotating
order), so a burst of load from another program hits all of them alike. Each block is timed in
CPU time of the training thread (``time.thread_time``, torch held to one thread), which does not
count the time the thread waits while other programs run; each optimizer's time is the *minimum*
over the repeats (load only ever adds time), and the spread of the repeats is reported beside it.
CPU time removes the time spent descheduled, not the slowdown of the thread's own work by other
programs (shared caches and memory bandwidth, clock changes), so the repeats still spread.
`paired_ratio` compares two optimizers round by round (the two blocks of one rotation saw the same
load) and calls the costs different only when every round's ratio falls on the same side of 1 (a
sign test: with 7 rounds, p = 2 / 2**7 = 0.016). Seconds to a target are then
``steps to target x seconds per step``: the step count is the measurement that does not depend on
the machine.
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
    ``steps`` steps), ``median``, ``spread`` (max / min - 1 of the repeats) and ``rounds`` (the
    per-step time of each round, in round order, for `paired_ratio`)."""
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
                  "spread": float(v.max() / v.min() - 1), "rounds": v.tolist()}
    return out


def all_seconds_per_step(data, workloads, **kw) -> dict[str, dict]:
    """`seconds_per_step` for every workload (``batch_size`` as in the trials)."""
    return {w: seconds_per_step(w, data, **kw) for w in workloads}


def fastest_per_step(table: dict[str, dict]) -> dict[str, float]:
    """``{method: min seconds per step}`` from one workload's `seconds_per_step` table."""
    return {method: row["min"] for method, row in table.items()}


def paired_ratio(a: dict, b: dict) -> dict:
    """Round-by-round ratio of two `seconds_per_step` rows (``a / b``): ``median``, ``low`` and
    ``high`` of the per-round ratios, ``n``, ``above`` (rounds with ratio > 1), ``p_sign`` (the
    two-sided sign-test p-value) and ``different`` (every round on the same side of 1)."""
    ra, rb = np.asarray(a["rounds"], dtype=float), np.asarray(b["rounds"], dtype=float)
    if ra.shape != rb.shape or ra.size == 0:
        raise ValueError("paired_ratio needs two rows with the same number of rounds")
    r = ra / rb
    n = int(r.size)
    above = int(np.sum(r > 1))
    below = int(np.sum(r < 1))
    extreme = min(above, below)
    from math import comb

    p = min(1.0, 2 * sum(comb(n, j) for j in range(extreme + 1)) / 2**n)
    return {"median": float(np.median(r)), "low": float(r.min()), "high": float(r.max()),
            "n": n, "above": above, "p_sign": float(p), "different": above == n or below == n}
