"""The notebook slicing that the panel tests rely on (no browser needed)."""

from __future__ import annotations

import nbformat
import pytest
from notebook_cells import cells_needed_by_panels, is_panel_cell, last_panel_cell, panel_notebooks


def _notebook(tmp_path, *sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title")]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in sources]
    path = tmp_path / "99_test.ipynb"
    nbformat.write(nb, path)
    return path


def _kept(nb) -> list[str]:
    return [cell.source.splitlines()[0] for cell in nb.cells]


def test_keeps_imports_panels_and_what_they_read(tmp_path):
    path = _notebook(
        tmp_path,
        "import numpy as np\nfrom course_utils.widgets import SliderPanel, float_slider",
        "data = np.arange(10)  # read by the panel",
        "fig = plot_something(data)  # a figure no panel reads",
        "model = Model()",
        "model.fit(data)  # changes model in place",
        "def draw(fig, a):\n    fig.add_subplot().plot(data * a, model.predict())",
        "panel = SliderPanel(draw, {'a': float_slider('a', 1, 0, 2)})\nfig = panel.static_figure()",
        "# NBVAL_IGNORE_OUTPUT\ndisplay(panel)",
        "history = train_for_an_hour(model)  # after the last panel",
    )
    kept = _kept(cells_needed_by_panels(path))
    assert kept == [
        "import numpy as np",
        "data = np.arange(10)  # read by the panel",
        "model = Model()",
        "model.fit(data)  # changes model in place",
        "def draw(fig, a):",
        "panel = SliderPanel(draw, {'a': float_slider('a', 1, 0, 2)})",
        "# NBVAL_IGNORE_OUTPUT",
    ]


def test_panel_cells_are_recognised():
    def code(src):
        return nbformat.v4.new_code_cell(src)

    assert is_panel_cell(code("p = lab.make_sparse_panel()"))
    assert is_panel_cell(code("# NBVAL_IGNORE_OUTPUT\ndisplay(eps_panel)"))
    assert is_panel_cell(code("panel"))
    assert is_panel_cell(code("SliderPanel(draw, controls)"))
    assert not is_panel_cell(code("x = 1\nprint(x)"))
    assert not is_panel_cell(nbformat.v4.new_markdown_cell("display(panel)"))


def test_notebook_without_panel_is_refused(tmp_path):
    path = _notebook(tmp_path, "import numpy as np", "print(np.pi)")
    assert last_panel_cell(nbformat.read(path, as_version=4)) is None
    with pytest.raises(ValueError, match="no panel cell"):
        cells_needed_by_panels(path)


def test_the_course_has_panel_notebooks():
    assert panel_notebooks(), "no notebooks/NN_*.ipynb with a slider panel"


def test_display_of_any_panel_variable_counts(tmp_path):
    path = _notebook(
        tmp_path,
        "from course_utils.widgets import SliderPanel",
        "race = SliderPanel(draw, controls)",
        "display(race)",
        "print('after the panels')",
    )
    nb = nbformat.read(path, as_version=4)
    assert last_panel_cell(nb) == 3  # the markdown title is cell 0
    assert _kept(cells_needed_by_panels(path))[-1] == "display(race)"
