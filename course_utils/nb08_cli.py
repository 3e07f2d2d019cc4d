"""Notebook 08's command line: the learning rate x weight decay grid, resumable, and its answers.

``python -m course_utils.nb08_cli --size full --workers 2`` (notebook 08's one command-line entry)
trains the grid through the shared runner (one JSON per run, finished runs skipped, so it can be
stopped with Ctrl-C and resumed) and prints the best cells, how the best decay moves with the
learning rate (the placement-free table of notebook 08's section 5, in both parameterisations, and
the row winners), the gain from decay per row, how often the best cell wins over seed resamples
and the best AdamW vs best Adam+L2 cell.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from course_utils.nb08_stats import (
    best_cell_frequency,
    compare_cells,
    decay_gain_by_row,
    decoupling_statistics,
    decoupling_table,
)
from course_utils.nb08_weight_decay import (
    FULL_SPEC,
    METHOD_LABELS,
    NOTEBOOK_SPEC,
    RESULTS_DIR,
    best_cell,
    best_decay_trend,
    describe_comparison,
    describe_trend,
    fmt_value,
    grid_cell_label,
    grid_configs,
    grid_errors,
    run_grid,
)
from course_utils.runs import DEVICES, default_device


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.nb08_cli",
        description=(
            "Learning rate x weight decay grid, Adam+L2 vs AdamW (paper's parameterisation), "
            "through the resumable runner: one JSON per run, finished runs are skipped, so the "
            "sweep can be stopped (Ctrl-C) and resumed. Prints the best cells, the placement-free "
            "table of how the best decay moves with the learning rate (both parameterisations), "
            "the gain from decay per row, the best cell's share of seed resamples, and the best "
            "AdamW vs best Adam+L2 cell."
        ),
        epilog="example: python -m course_utils.nb08_cli --size full --workers 2",
    )
    parser.add_argument(
        "--size",
        choices=("notebook", "full"),
        default="full",
        help="notebook: the notebook's grid; full: 7x7 grid, 6000 images, 40 epochs, 8 seeds (default)",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument(
        "--device", choices=DEVICES, default=default_device(), help="default: cuda if available"
    )
    parser.add_argument(
        "--out", default=str(RESULTS_DIR), help=f"results folder (default {RESULTS_DIR})"
    )
    parser.add_argument("--figure", default=None, help="also save the heatmaps to this PNG file")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    spec = replace(NOTEBOOK_SPEC if args.size == "notebook" else FULL_SPEC, device=args.device)
    out = Path(args.out)
    print(
        f"{spec.n_runs} runs ({spec.train_subset} images, {spec.epochs} epochs, "
        f"{len(spec.seeds)} seeds) -> {out}/",
        flush=True,
    )
    results = run_grid(grid_configs(spec), out, workers=args.workers, progress=not args.no_progress)
    grids = grid_errors(results, spec)
    for grid in grids.values():
        cell = best_cell(grid)
        print(
            f"best cell: {grid_cell_label(grid, cell)}: {grid.mean[cell]:.2f} ± "
            f"{grid.std[cell]:.2f} % validation error"
        )
    print(decoupling_table({m: decoupling_statistics(g, n_boot=2000) for m, g in grids.items()}))
    print("row winners (λ = 0 drawn one grid step below the smallest decay):")
    for method, grid in grids.items():
        print(describe_trend(method, best_decay_trend(grid)))
    for method, grid in grids.items():
        print(f"{METHOD_LABELS[method]}: gain from the row's best decay over λ = 0 (paired SE)")
        for row in decay_gain_by_row(grid):
            print(
                f"  α={fmt_value(row['lr']):<7} best λ={fmt_value(row['best_decay']):<6} "
                f"{row['gain']:+.2f} ± {row['se']:.2f} points, p = {row['p']:.2f}"
            )
        cell, share = next(iter(best_cell_frequency(grid).items()))
        print(f"  best cell {grid_cell_label(grid, cell)} wins {share:.0%} of 2,000 seed resamples")
    a, b = grids["adam"], grids["adamw"]
    comparison = compare_cells(a.cell(*best_cell(a)), b.cell(*best_cell(b)), paired=True)
    print(describe_comparison("best Adam+L2", "best AdamW", comparison))
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        from course_utils.nb08_figures import plot_heatmaps
        from course_utils.plotting import use_course_style

        use_course_style()
        plot_heatmaps(grids).savefig(args.figure, dpi=150)
        print(f"heatmaps saved to {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
