"""Time every live panel's callback (recompute + redraw + PNG), as an instructor would feel it.

Usage: python benchmarks/bench_panels.py [--repeats 15]

Finds every ``make_*panel`` factory in course_utils, moves each panel's first slider across its
range ``repeats`` times, and prints per panel the median and 95th percentile of the redraw's
wall-clock time, the median CPU time of the kernel's thread (which other programs on a busy
machine inflate much less than the wall clock), the live image's size and the machine's load.
The browser test's goal, key press to new image, is a median of 100 ms and a 95th percentile
of 200 ms on an idle two-core machine; the redraw is most of it (the browser test prints the
whole key-press-to-image time: add about 30 ms for the messages and the browser's decoding).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import io
import os
import pkgutil
import warnings

import numpy as np
import PIL.Image

import course_utils
from course_utils.cli import positive_int

GOAL_MEDIAN_MS = 100.0
GOAL_P95_MS = 200.0


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


def bench(factory, repeats: int):
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
        panel.cpu_ms.clear()
        for v in values:
            panel.set(**{name: type(slider.value)(v)})
            if panel.last_error:
                raise RuntimeError(f"{factory.__name__} failed at {name}={v}: {panel.last_error}")
    size = PIL.Image.open(io.BytesIO(bytes(panel.image.value))).size
    return panel.timings_ms, panel.cpu_ms, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive_int, default=15)
    args = parser.parse_args()
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    print(f"load average per core: {load:.1f} (1 or less: idle enough for the goals)")
    print(
        f"{'panel':<44} {'median':>7} {'p95':>6} {'CPU':>6} {'÷goal':>6} {'image px':>10}  "
        f"(ms; goals {GOAL_MEDIAN_MS:.0f} / {GOAL_P95_MS:.0f}; ÷goal: the larger of median/goal "
        "and p95/goal)"
    )
    for label, factory in panel_factories():
        needs = [
            name
            for name, par in inspect.signature(factory).parameters.items()
            if par.default is inspect.Parameter.empty
            and par.kind in (par.POSITIONAL_ONLY, par.POSITIONAL_OR_KEYWORD)
        ]
        if needs:
            print(
                f"{label:<44} skipped: it draws the notebook's own results ({', '.join(needs)}); "
                "tests/browser/test_panels_browser.py times it"
            )
            continue
        times, cpu, (width, height) = bench(factory, args.repeats)
        median, p95 = np.median(times), np.percentile(times, 95)
        flag = " over a goal" if median > GOAL_MEDIAN_MS or p95 > GOAL_P95_MS else ""
        ratio = max(median / GOAL_MEDIAN_MS, p95 / GOAL_P95_MS)
        print(
            f"{label:<44} {median:7.0f} {p95:6.0f} {np.median(cpu):6.0f} {ratio:6.2f} "
            f"{f'{width}x{height}':>10}{flag}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
