"""Notebook 01's panel and exercise checkers."""

import warnings

import numpy as np

from course_utils.nb01_quadratic import make_gd_panel


def test_panel_survives_every_slider_extreme_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = make_gd_panel()
        default_image = bytes(panel.image.value)
        tried = panel.sweep_extremes()
        panel.set(kappa=1000.0, lr_scaled=2.1, steps=400, noise=0.5)  # all extremes at once
        assert panel.last_error is None and bytes(panel.image.value) != default_image
    assert len(tried) == 3 * len(panel.controls)
    assert [t for t in tried if t["error"]] == []
    # every slider changes the picture at one of its ends at least
    for i in range(0, len(tried), 3):
        low, high, default = tried[i : i + 3]
        assert len({low["image"], high["image"], default["image"]}) >= 2, low
    print(
        f"01 gd panel: median redraw {np.median(panel.timings_ms):.0f} ms over {len(panel.timings_ms)}"
    )


def test_panel_reset_restores_defaults():
    panel = make_gd_panel()
    panel.set(kappa=500.0, angle=0.0)
    panel.reset()
    assert panel.values == panel.defaults
