"""Time every live panel's callback (recompute + redraw + PNG), as an instructor would feel it.

Usage: python benchmarks/bench_panels.py [--repeats 15]

Finds every ``make_*panel`` factory in course_utils, moves each panel's first slider across its
range ``repeats`` times, and prints the median and max redraw time against the course's budget
(notebook 01's issue: 100 ms median; every panel: well under 150 ms).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import warnings

import numpy as np

import course_utils

BUDGET_MS = 150.0


def panel_factories():
    """(module.name, factory) for every make_*panel function in course_utils."""
    found = []
    for info in pkgutil.iter_modules(course_utils.__path__):
        module = importlib.import_module(f"course_utils.{info.name}")
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if (
                name.startswith("make_")
                and name.endswith("panel")
                and callable(obj)
                and obj.__module__ == module.__name__
            ):
                found.append((f"{info.name}.{name}", obj))
    return found


def bench(factory, repeats: int) -> list[float]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = factory()
        name, slider = next(iter(panel.controls.items()))
        lo, hi = (slider.min, slider.max) if hasattr(slider, "min") else (None, None)
        if hasattr(slider, "base"):
            values = slider.base ** np.linspace(lo, hi, repeats)
        elif lo is not None:
            values = np.linspace(lo, hi, repeats)
            if isinstance(slider.value, int):
                values = np.round(values).astype(int)
        else:
            values = [slider.value] * repeats
        panel.timings_ms.clear()
        for v in values:
            panel.set(**{name: type(slider.value)(v)})
            if panel.last_error:
                raise RuntimeError(f"{factory.__name__} failed at {name}={v}: {panel.last_error}")
    return panel.timings_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"{'panel':<48} {'median ms':>10} {'max ms':>8} {'median/budget':>14}")
    for label, factory in panel_factories():
        times = bench(factory, args.repeats)
        median = float(np.median(times))
        print(f"{label:<48} {median:10.1f} {max(times):8.1f} {median / BUDGET_MS:13.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
