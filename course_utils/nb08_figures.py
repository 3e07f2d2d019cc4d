"""Notebook 08's figures: heatmaps, the sheared torch grid, best decay per rate, cell comparisons.

Each function takes `Grid` objects (or per-seed errors) and an optional ``fig`` and returns the
matplotlib figure; the notebook shows it and saves it with ``plotting.save_figure``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from course_utils.nb08_weight_decay import (
    METHOD_LABELS,
    METHODS,
    Grid,
    best_cell,
    fmt_value,
    row_best,
    signed,
)
from course_utils.plotting import OPTIMIZER_COLORS


def _color_limits(grids: Sequence[Grid], span: float) -> tuple[float, float]:
    low = min(np.nanmin(g.mean) for g in grids)
    return low, low + span


def _text_color(cmap, norm, value: float) -> str:
    r, g, b, _ = cmap(norm(value))
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _heatmap(ax, grid: Grid, norm, cmap, annotate: bool = True, slide8: bool = False):
    from matplotlib.patches import Rectangle

    mean, std = grid.mean, grid.std
    image = ax.imshow(
        np.where(np.isnan(mean), norm.vmax, mean),
        origin="lower",
        cmap=cmap,
        norm=norm,
        aspect="auto",
    )
    best_rows = row_best(mean)
    bi, bj = best_cell(grid)
    for i in range(mean.shape[0]):
        for j in range(mean.shape[1]):
            if not grid.ran[i, j]:  # outside the trained cells: drawn blank, never a result
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fc="0.93", ec="none"))
                if annotate:
                    ax.text(j, i, "not run", ha="center", va="center", fontsize=8, color="0.45")
                continue
            if not annotate:
                continue
            if np.isnan(mean[i, j]):
                text, color = "diverged", "white"
            else:
                text = f"{mean[i, j]:.2f}\n±{std[i, j]:.2f}"
                color = _text_color(cmap, norm, min(mean[i, j], norm.vmax))
            if slide8:  # slide 8's lambda of the cell: torch's weight_decay = lam / alpha
                ax.text(j, i + 0.1, text, ha="center", va="center", fontsize=9, color=color)
                ax.text(
                    j,
                    i - 0.3,
                    f"λ/α={fmt_value(grid.torch_decays[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=color,
                )
            else:
                ax.text(j, i, text, ha="center", va="center", fontsize=9, color=color)
        j = best_rows[i]
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="white", lw=1.5, ls="--"))
    ax.add_patch(Rectangle((bj - 0.5, bi - 0.5), 1, 1, fill=False, ec="red", lw=3.5))
    ax.set_xticks(range(len(grid.decays)), [fmt_value(v) for v in grid.decays])
    ax.set_yticks(range(len(grid.lrs)), [fmt_value(v) for v in grid.lrs])
    ax.grid(False)
    return image


def plot_heatmaps(grids: dict[str, Grid], span: float = 2.0, fig=None):
    """Side-by-side heatmaps (paper parameterisation): mean ± seed std of the validation error.

    One shared color scale from the best cell to ``span`` points above it (worse cells saturate).
    Red box: the method's best cell; dashed white boxes: the best decay at each learning rate.
    Cells a grid did not train (`Grid.ran`) are drawn light grey, marked "not run". Each AdamW
    cell also shows slide 8's lambda, torch's ``weight_decay = λ/α`` (small print).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    if fig is None:
        fig = plt.figure(figsize=(13, 6.2))
    axes = fig.subplots(1, 2)
    fig.subplots_adjust(top=0.84)
    cmap = plt.get_cmap("viridis_r")
    norm = Normalize(*_color_limits(list(grids.values()), span))
    titles = {
        "adam": r"Adam + L2: gradient $+\,\lambda w$",
        "adamw": r"AdamW: $w \leftarrow w - \eta_t \lambda w$  ($\lambda$ not $\times\,\alpha$)",
    }
    image = None
    for ax, (method, grid) in zip(axes, grids.items()):
        image = _heatmap(ax, grid, norm, cmap, slide8=method == "adamw")
        ax.set_title(titles[method])
        ax.set_xlabel("weight decay λ (paper's parameterisation)")
        ax.set_ylabel("initial learning rate α")
    n = grids[METHODS[0]].errors.shape[2]
    colorbar = fig.colorbar(image, ax=list(axes), extend="max", fraction=0.04, pad=0.02)
    colorbar.set_label(f"validation error (%), mean of {n} seeds")
    fig.suptitle(
        "Validation error per cell: mean ± seed std  (red: best cell, dashed: best λ per α;\n"
        "AdamW's small print: slide 8's λ in $(1-\\alpha\\lambda)w$, torch's weight_decay = λ/α)",
        fontsize=13,
    )
    return fig


def plot_torch_coordinates(grid: Grid, span: float = 2.0, fig=None):
    """One method's cells in the paper's (λ, α) grid and at torch's (weight_decay, α) positions.

    For AdamW every column of the paper grid (fixed λ) becomes a diagonal in torch's
    coordinates, where ``weight_decay = λ / α``: the grid is sheared. Dashed lines: fixed λ.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    from matplotlib.ticker import NullLocator

    if fig is None:
        fig = plt.figure(figsize=(13, 5.4))
    left, right = fig.subplots(1, 2)
    cmap = plt.get_cmap("viridis_r")
    norm = Normalize(*_color_limits([grid], span))
    _heatmap(left, grid, norm, cmap, annotate=True)
    left.set_title(f"{METHOD_LABELS[grid.method]}: paper's grid (λ, α)")
    left.set_xlabel("weight decay λ")
    left.set_ylabel("initial learning rate α")

    wd = grid.torch_decays
    positive = wd[:, 1:]
    zero_x = positive.min() / 10**1.0  # where the wd = 0 column is drawn
    mean = grid.mean
    bi, bj = best_cell(grid)
    for i, lr in enumerate(grid.lrs):
        xs = np.concatenate([[zero_x], positive[i]])
        colors = cmap(norm(np.where(np.isnan(mean[i]), norm.vmax, mean[i])))
        ran = grid.ran[i]
        right.scatter(xs[ran], np.full(ran.sum(), lr), s=420, marker="s", c=colors[ran], ec="none")
        best_j = row_best(mean)[i]
        right.scatter([xs[best_j]], [lr], s=420, marker="s", fc="none", ec="white", lw=1.5, ls="--")
        if i == bi:
            right.scatter([xs[bj]], [lr], s=520, marker="s", fc="none", ec="red", lw=3)
    for j, lam in enumerate(grid.decays[1:], start=1):
        rows = grid.ran[:, j]
        right.plot(wd[rows, j], grid.lrs[rows], "--", color="0.5", lw=1, zorder=0)
        right.annotate(
            f"λ={fmt_value(lam)}",
            (wd[-1, j], grid.lrs[-1]),
            xytext=(-4, 14),
            textcoords="offset points",
            ha="left",
            rotation=35,
            fontsize=9,
            color="0.3",
        )
    right.set_xscale("log")
    right.set_yscale("log")
    for axis in (right.xaxis, right.yaxis):
        axis.set_minor_locator(NullLocator())
    right.set_yticks(grid.lrs, [fmt_value(v) for v in grid.lrs])
    top = positive[grid.ran[:, 1:]].max()
    ticks = [zero_x] + [
        10.0**k
        for k in range(math.ceil(math.log10(positive.min())), math.floor(math.log10(top)) + 1)
    ]
    right.set_xticks(ticks, ["0"] + [fmt_value(t) for t in ticks[1:]])
    right.set_ylim(grid.lrs[0] / 1.5, grid.lrs[-1] * 2.2)
    right.set_xlim(zero_x / 2, top * 2)
    right.set_xlabel("torch's weight_decay (AdamW: λ / α), log scale")
    right.set_ylabel("learning rate α (lr)")
    right.set_title("the same runs at torch's (weight_decay, lr)")
    right.grid(False)
    fig.suptitle("One grid, two parameterisations: constant λ (dashed) is a diagonal in torch's")
    return fig


def plot_best_decay(grids: dict[str, Grid], stats: dict[str, dict], fig=None):
    """Per learning rate, the decay each statistic of `nb08_stats.decoupling_statistics` picks.

    One panel per method in the paper's lam (grid columns), and a third panel with AdamW's picks
    in slide 8's parameterisation, torch's ``weight_decay = lam / alpha`` on a log axis, with each
    row's trained range drawn as a grey bar (so a pick at a bar's end is a pick at the grid's
    edge). A triangle marks a pick on an edge: pointing down at lam = 0 or at a best decay that is the row's
    smallest positive decay (the true best could be smaller), up at the row's largest decay.
    """
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(15, 5.8))
    axes = fig.subplots(1, 3)
    shown = {
        "best λ (λ=0 one step below)": ("o", 0.0, 0.95),
        "best positive λ": ("s", -0.16, 0.6),
        "largest λ within 0.25 pt of best": ("^", 0.08, 0.6),
        "largest λ within 0.5 pt of best": ("D", 0.16, 0.6),
    }

    def edges(ax, xs, ys, censored, up, down):
        for xi, yi, edge in zip(xs, ys, censored):
            if edge:
                y_mark = up(yi) if edge == "high" else down(yi)
                ax.plot(xi, y_mark, "^" if edge == "high" else "v", color="black", ms=7)

    for ax, (method, grid) in zip(axes[:2], grids.items()):
        color = _method_color(method)
        x = np.arange(len(grid.lrs))
        for name, (marker, dx, alpha) in shown.items():
            st = stats[method][name]
            slide8 = f" (slide 8: {signed(st['slope_torch'])})" if method == "adamw" else ""
            ax.plot(
                x + dx,
                st["picks"],
                marker + "-",
                color=color,
                alpha=alpha,
                ms=8,
                label=f"{name}: slope {signed(st['slope'])}{slide8} ± {st['boot_sd']:.2f}",
            )
            edges(ax, x + dx, st["picks"], st["censored"], lambda y: y + 0.3, lambda y: y - 0.3)
        for i, j in zip(*np.nonzero(grid.ran)):  # the columns each row trained
            ax.plot(
                [i, i], [j - 0.5, j + 0.5], color="0.85", lw=10, zorder=0, solid_capstyle="butt"
            )
        ax.set_xticks(x, [fmt_value(v) for v in grid.lrs])
        ax.set_yticks(range(len(grid.decays)), [fmt_value(v) for v in grid.decays])
        ax.set_ylim(-0.7, len(grid.decays) - 0.3)
        ax.set_xlim(-0.5, len(grid.lrs) - 0.5)
        ax.set_xlabel("initial learning rate α")
        ax.set_ylabel("picked weight decay λ (the paper's)")
        ax.set_title(f"{METHOD_LABELS[method]}: the paper's λ", fontsize=12)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, frameon=False)

    ax = axes[2]
    grid = grids["adamw"]
    color = _method_color("adamw")
    torch_wd = grid.torch_decays
    for i, lr in enumerate(grid.lrs):  # the positive decays this row trained, in torch's units
        trained = torch_wd[i, 1:][grid.ran[i, 1:]]
        ax.plot(
            [lr, lr],
            [trained.min(), trained.max()],
            color="0.85",
            lw=10,
            zorder=0,
            solid_capstyle="butt",
        )
    for name, (marker, dx, alpha) in list(shown.items())[1:]:
        st = stats["adamw"][name]
        xs = grid.lrs * 10 ** (dx / 4)
        ys = st["decays"] / grid.lrs
        ax.plot(
            xs,
            ys,
            marker + "-",
            color=color,
            alpha=alpha,
            ms=8,
            label=f"{name}: slope {signed(st['slope_torch'])} ± {st['boot_sd']:.2f}",
        )
        edges(ax, xs, ys, st["censored"], lambda y: y * 1.6, lambda y: y / 1.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(grid.lrs, [fmt_value(v) for v in grid.lrs])
    ax.minorticks_off()
    ax.set_xlabel("initial learning rate α")
    ax.set_ylabel(r"picked weight_decay $= \lambda/\alpha$ (slide 8's $\lambda$)")
    ax.set_title(r"AdamW in slide 8's $(1-\alpha\lambda)w$: flat = decoupled", fontsize=12)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, frameon=False)
    fig.suptitle(
        "How the picked decay moves with the learning rate (slope in decades per decade, "
        "± seed bootstrap std; grey bars: decays trained; ▼▲ = pick on the grid's edge)",
        fontsize=12,
    )
    fig.tight_layout()
    return fig


def plot_cell_comparison(groups: dict[str, dict[str, np.ndarray]], fig=None):
    """Per-seed errors of chosen cells: ``{panel title: {cell label: errors}}``, mean ± std bars.

    Where every cell of a panel ran the same seeds, a second row shows the paired per-seed
    differences of each pair of cells (later minus earlier) with their mean ± paired standard
    error and a zero line: what the paired tests judge.
    """
    import matplotlib.pyplot as plt

    paired = [len({len(np.asarray(e)) for e in cells.values()}) == 1 for cells in groups.values()]
    rows = 2 if any(paired) else 1
    if fig is None:
        fig = plt.figure(figsize=(13, 4.2 * rows))
    axes = np.array(fig.subplots(rows, len(groups), squeeze=False))
    for k, (title, cells) in enumerate(groups.items()):
        ax = axes[0, k]
        columns = [np.asarray(e, dtype=float) for e in cells.values()]
        if paired[k]:  # the same seeds in every cell: connect them
            for seed_errors in np.array(columns).T:
                ax.plot(seed_errors, range(len(columns)), "-", color="0.8", lw=1, zorder=0)
        for y, (label, errors) in enumerate(cells.items()):
            errors = np.asarray(errors, dtype=float)
            color = _method_color("adamw" if "AdamW" in label else "adam")
            if "no decay" in label:
                color = "0.35"
            ax.scatter(errors, np.full(len(errors), y), color=color, alpha=0.8, s=50, zorder=3)
            m, s = errors.mean(), errors.std(ddof=1)
            ax.errorbar(
                [m], [y + 0.25], xerr=[s], fmt="|", color="black", ms=14, capsize=5, lw=2, zorder=2
            )
        ax.set_yticks(range(len(cells)), list(cells))
        ax.set_ylim(-0.6, len(cells) - 0.2)
        ax.margins(x=0.15)
        ax.invert_yaxis()
        ax.set_xlabel("error (%)  (dots: seeds, grey lines join one seed; bar below: mean ± std)")
        ax.set_title(title, fontsize=12)
        if rows == 1:
            continue
        ax = axes[1, k]
        if not paired[k]:
            ax.set_axis_off()
            continue
        labels = list(cells)
        pairs = [(i, j) for i in range(len(labels)) for j in range(i + 1, len(labels))]
        for y, (i, j) in enumerate(pairs):
            d = columns[j] - columns[i]
            ax.scatter(d, np.full(len(d), y), color="0.4", alpha=0.8, s=50, zorder=3)
            se = d.std(ddof=1) / np.sqrt(len(d))
            ax.errorbar(
                [d.mean()],
                [y + 0.25],
                xerr=[se],
                fmt="|",
                color="black",
                ms=14,
                capsize=5,
                lw=2,
                zorder=2,
            )
        ax.axvline(0, color="red", lw=1, ls="--", zorder=1)
        ax.set_yticks(range(len(pairs)), [f"{labels[j]} − {labels[i]}" for i, j in pairs])
        ax.set_ylim(-0.6, len(pairs) - 0.2)
        ax.margins(x=0.15)
        ax.invert_yaxis()
        ax.set_xlabel("paired difference (points)  (dots: seeds; bar below: mean ± paired SE)")
    fig.tight_layout()
    return fig


def _method_color(method: str):
    return OPTIMIZER_COLORS[method]
