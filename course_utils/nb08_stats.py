"""Notebook 08: how sure are the grid's answers? Decoupling statistics and cell comparisons.

The least-squares slope of the row winners (`nb08_weight_decay.best_decay_trend`) depends on
where the ``lam = 0`` column is drawn on a log axis, which is a choice, not a measurement. So
`decoupling_statistics` reports the slope of several row statistics side by side:

* the row's best decay with ``lam = 0`` one grid step below the smallest decay, and far below;
* the row's best *positive* decay (no placement needed);
* the **largest decay within 0.25 (or 0.5) points of the row's best**: where the row's error
  starts to rise, a sturdier edge than the noisy minimum.

Each comes with a seed-bootstrap standard deviation and the rows whose pick sits on an edge of
the grid (``lam = 0``, or for a row's best decay the smallest positive decay trained in that row,
whether or not ``lam = 0`` is better: the true best could be any smaller decay; the row's largest
decay: it could be larger), in both parameterisations: the paper's ``lam`` (decay per step ``eta_t * lam``) and
torch's ``weight_decay = lam / lr`` (slide 8's ``(1 - alpha * lambda) w``), where every AdamW slope
is the paper's minus one. `compare_cells` compares two cells over their seeds, paired when they
share seeds; `best_cell_frequency` says how often each cell wins when the seeds are resampled.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.nb08_weight_decay import METHOD_LABELS, Grid, decay_positions, row_best, signed
from course_utils.stats import detectable_difference, t_two_sided_p

PLACEMENT_FREE = (
    "best positive λ",
    "largest λ within 0.25 pt of best",
    "largest λ within 0.5 pt of best",
)
STATISTICS = {
    "best λ (λ=0 one step below)": ("argmin", None),
    "best λ (λ=0 at 1e-5)": ("argmin", -5.0),
    "best positive λ": ("positive", None),
    "largest λ within 0.25 pt of best": ("band", 0.25),
    "largest λ within 0.5 pt of best": ("band", 0.5),
}


def row_picks(mean: np.ndarray, kind: str, value: float | None) -> np.ndarray:
    """Per row, the column each statistic of `STATISTICS` picks from a mean grid."""
    filled = np.where(np.isnan(mean), np.inf, mean)
    if kind == "argmin":
        return filled.argmin(axis=1)
    if kind == "positive":
        return filled[:, 1:].argmin(axis=1) + 1
    within = filled <= filled.min(axis=1, keepdims=True) + value
    return np.array([np.nonzero(row)[0].max() for row in within])


def _slope(lrs: np.ndarray, positions: np.ndarray) -> float:
    return float(np.polyfit(np.log10(lrs), positions, 1)[0])


def decoupling_statistics(grid: Grid, n_boot: int = 1000, rng_seed: int = 0) -> dict[str, dict]:
    """Slope (decades of lam per decade of lr) of each statistic, with its seed bootstrap.

    Returns ``{name: {"picks", "decays", "slope", "slope_torch", "boot_sd", "censored"}}``;
    ``slope_torch`` is the slope of torch's ``weight_decay`` (lam / lr for AdamW, lam for Adam+L2)
    against lr, the same fit in slide 8's parameterisation; ``censored`` holds the rows' edge
    marks (`edge_marks`).
    """
    rng = np.random.default_rng(rng_seed)
    n_seeds = grid.errors.shape[2]
    resamples = [rng.integers(0, n_seeds, n_seeds) for _ in range(n_boot)]
    boot_means = [grid.errors[:, :, pick].mean(axis=2) for pick in resamples]
    out = {}
    shift = 1.0 if grid.method == "adamw" else 0.0  # log(lam / lr) = log(lam) - log(lr)
    for name, (kind, value) in STATISTICS.items():
        positions = decay_positions(grid.decays, value if kind == "argmin" else None)
        picks = row_picks(grid.mean, kind, value)
        boot = [_slope(grid.lrs, positions[row_picks(m, kind, value)]) for m in boot_means]
        out[name] = {
            "picks": picks,
            "decays": grid.decays[picks],
            "slope": _slope(grid.lrs, positions[picks]),
            "slope_torch": _slope(grid.lrs, positions[picks]) - shift,
            "boot_sd": float(np.std(boot, ddof=1)),
            "censored": edge_marks(grid, kind, picks),
        }
    return out


def edge_marks(grid: Grid, kind: str, picks: np.ndarray) -> list[str]:
    """Per row, whether a pick is censored: "low", "high" or "".

    "high": the pick is the largest decay trained in that row (`Grid.last_ran`), so the row's
    true answer could be larger. "low": the pick is lam = 0, or, for a statistic that picks a
    row's best decay (``kind`` "argmin" or "positive"), the smallest positive decay trained in that
    row (`Grid.first_ran`), *whether or not lam = 0 is better*: the true best (positive) decay
    then lies somewhere between 0 and the next decay, unbounded below on a log axis. The band
    statistics are bracketed there by the next column, so only their lam = 0 picks are low.
    """
    last, first = grid.last_ran, grid.first_ran
    marks = []
    for i, j in enumerate(picks):
        if j == 0 or (kind in ("argmin", "positive") and j == first[i]):
            marks.append("low")
        elif j == last[i]:
            marks.append("high")
        else:
            marks.append("")
    return marks


def compare_cells(errors_a, errors_b, paired: bool = False) -> dict:
    """``a - b`` in mean error with its seed noise: standard error, t, degrees of freedom, p.

    ``paired=True`` (the two cells ran the same seeds, so the same initialisations and batch
    orders): ``se`` is the std of the per-seed differences over sqrt(n), ``df = n - 1``.
    Otherwise the unpaired sqrt(s_a^2/n_a + s_b^2/n_b) with Welch's degrees of freedom.
    ``noise`` is the pooled seed std of a single run; ``p`` is two-sided (Student's t).
    ``detectable`` (paired only, else None; None too when every per-seed difference is the same,
    e.g. a cell compared with itself): the smallest true difference these seeds detect with
    80 % power at a two-sided 5 % level (`stats.detectable_difference`).
    """
    a = np.asarray(errors_a, dtype=float)
    b = np.asarray(errors_b, dtype=float)
    if a.ndim != 1 or b.ndim != 1 or len(a) < 2 or len(b) < 2:
        raise ValueError("compare_cells needs two 1-D arrays of at least two seeds each.")
    if paired and len(a) != len(b):
        raise ValueError("paired=True needs the same seeds, so the same number, in both cells.")
    sa, sb = a.std(ddof=1), b.std(ddof=1)
    va, vb = sa**2 / len(a), sb**2 / len(b)
    if paired:
        se = float((a - b).std(ddof=1) / math.sqrt(len(a)))
        df = len(a) - 1
    else:
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else 1
    diff = float(a.mean() - b.mean())
    z = diff / se if se > 0 else (math.copysign(math.inf, diff) if diff else 0.0)
    noise = math.sqrt((sa**2 + sb**2) / 2)
    return {
        "mean_a": float(a.mean()),
        "std_a": float(sa),
        "mean_b": float(b.mean()),
        "std_b": float(sb),
        "diff": diff,
        "se": se,
        "z": z,
        "df": float(df),
        "p": t_two_sided_p(z, max(1, int(round(df)))),
        "paired": paired,
        "noise": noise,
        "diff_over_noise": diff / noise if noise > 0 else 0.0,
        "detectable": (
            detectable_difference(se * math.sqrt(len(a)), len(a)) if paired and se > 0 else None
        ),
    }


def decay_gain_by_row(grid: Grid) -> list[dict]:
    """Per learning rate: the best decay, its gain over no decay (points), the paired SE and p.

    Where the best cell *is* the lam = 0 cell the gain and its SE are 0. Each gain is the largest
    of several noisy differences, so it is biased upwards: a gain of two SE is weaker evidence
    than two SE of a difference chosen in advance.
    """
    rows = []
    for i, j in enumerate(row_best(grid.mean)):
        if j == 0:
            gain, se, p = 0.0, 0.0, 1.0
        else:
            c = compare_cells(grid.cell(i, 0), grid.cell(i, j), paired=True)
            gain, se, p = c["diff"], c["se"], c["p"]
        rows.append(
            {
                "lr": float(grid.lrs[i]),
                "best_decay": float(grid.decays[j]),
                "gain": gain,
                "se": se,
                "p": p,
            }
        )
    return rows


def best_cell_frequency(grid: Grid, n_boot: int = 2000, rng_seed: int = 0) -> dict:
    """How often each cell is the grid's best when the seeds are resampled (bootstrap).

    Returns ``{(lr index, decay index): fraction}``, most frequent first. A best cell that wins
    only a fraction of the resamples is a pick among near-equals: rerunning with other seeds,
    or with the same seeds on another CPU or thread count (whose last digits differ and are
    amplified by training), can move it.
    """
    rng = np.random.default_rng(rng_seed)
    n_seeds = grid.errors.shape[2]
    counts: dict[tuple[int, int], int] = {}
    for _ in range(n_boot):
        mean = grid.errors[:, :, rng.integers(0, n_seeds, n_seeds)].mean(axis=2)
        cell = np.unravel_index(np.nanargmin(mean), mean.shape)
        key = (int(cell[0]), int(cell[1]))
        counts[key] = counts.get(key, 0) + 1
    return {k: v / n_boot for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


def decoupling_table(stats: dict[str, dict]) -> str:
    """The slopes of `decoupling_statistics` for both methods as a text table with edge marks.

    ``stats``: ``{"adam": ..., "adamw": ...}``. One line per statistic (``*`` = placement-free),
    Adam+L2's slope (the same in both parameterisations), AdamW's in the paper's and in slide 8's
    lambda, each with its seed-bootstrap std and one mark per row from the smallest rate:
    ``v`` censored low, ``^`` censored high (`edge_marks`), ``.`` inside the grid.
    """

    def marks(s: dict) -> str:
        return "".join({"low": "v", "high": "^", "": "."}[e] for e in s["censored"])

    lines = [
        "slope of the picked decay against α, decades per decade; ± seed bootstrap std (the same in",
        "both parameterisations); * = needs no placement of λ = 0; per row from the smallest α:",
        "v = censored low (λ = 0, or a best λ at the row's smallest positive λ), ^ = the row's largest λ,",
        ". = inside the grid",
        f"{'':36s}{METHOD_LABELS['adam'] + ' (both)':>24s}   "
        f"{METHOD_LABELS['adamw'] + ': paper λ':>14s} {'slide 8 λ':>10s}",
    ]
    for name in STATISTICS:
        a, w = stats["adam"][name], stats["adamw"][name]
        lines.append(
            f"{('* ' if name in PLACEMENT_FREE else '  ') + name:36s}"
            f"{signed(a['slope']):>8s} ± {a['boot_sd']:.2f} [{marks(a)}]   "
            f"{signed(w['slope']):>8s} {signed(w['slope_torch']):>10s} ± {w['boot_sd']:.2f} "
            f"[{marks(w)}]"
        )
    return "\n".join(lines)
