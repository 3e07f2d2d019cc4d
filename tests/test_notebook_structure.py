"""The notebooks' shape: exercises come with worked solutions, and no link points at nothing.

* A notebook ``notebooks/NN_name.ipynb`` with an Exercises section has a solutions notebook
  ``notebooks/solutions/NN_name_solutions.ipynb`` (run by nbval with the others), and every
  solutions notebook belongs to a notebook.
* Every relative link in any notebook's markdown (``[text](path)``, ``![alt](path)``, reference
  links, HTML ``src``/``href``), solutions included, resolves to an existing file, relative to
  the notebook; a path to a notebook written as code (``notebooks/solutions/...ipynb``, the way
  the exercise sections name their solutions) resolves relative to the repository.
"""

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from course_utils.paths import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = LESSONS + sorted(SOLUTIONS.glob("*.ipynb"))

EXERCISES_HEADING = re.compile(r"^#{1,6}\s+(?:\d+[.)]?\s*)?Exercises\b", re.MULTILINE)
FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_LINK = re.compile(r"\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
NOTEBOOK_PATH = re.compile(r"^(notebooks/[\w./-]+\.ipynb)$")


def _markdown(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def has_exercises(path: Path) -> bool:
    """Whether the notebook has an Exercises section (a markdown heading "Exercises")."""
    return any(EXERCISES_HEADING.search(text) for text in _markdown(path))


def relative_links(markdown: str) -> list[str]:
    """The relative link targets of one markdown text (no URLs, anchors or code)."""
    text = CODE_SPAN.sub("", FENCED.sub("", markdown))
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text) + HTML_LINK.findall(text)
    links = []
    for target in targets:
        if SCHEME.match(target) or target.startswith(("#", "/")):
            continue
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if path:
            links.append(path)
    return links


def notebook_paths_in_code(markdown: str) -> list[str]:
    """Repository paths of notebooks written as code: `notebooks/solutions/02_..._solutions.ipynb`."""
    text = FENCED.sub("", markdown)
    return [m.group(1) for span in CODE_SPAN.findall(text) if (m := NOTEBOOK_PATH.match(span))]


def solutions_for(lesson: Path) -> Path:
    return SOLUTIONS / f"{lesson.stem}_solutions.ipynb"


def _rel(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


# ---------------------------------------------------------------- the helpers themselves


def test_links_are_found_in_every_markdown_form():
    text = (
        "See [the solutions](solutions/02_adagrad_solutions.ipynb#exercise-1) and "
        '![a figure](../figures/02_a%20b.png "title"), <img src="../figures/x.png">.\n'
        "[ref]: other.md\n\n"
        "Not links: [web](https://example.org), [anchor](#summary), `[code](no.ipynb)`,\n"
        "```\n[fenced](fenced.ipynb)\n```\n"
    )
    assert sorted(relative_links(text)) == [
        "../figures/02_a b.png",
        "../figures/x.png",
        "other.md",
        "solutions/02_adagrad_solutions.ipynb",
    ]
    assert notebook_paths_in_code(
        "Worked solutions: `notebooks/solutions/02_a_solutions.ipynb`."
    ) == ["notebooks/solutions/02_a_solutions.ipynb"]


def test_an_exercises_heading_is_recognised(tmp_path):
    def notebook(*markdown):
        path = tmp_path / "nb.ipynb"
        cells = [{"cell_type": "markdown", "source": [m], "metadata": {}} for m in markdown]
        path.write_text(json.dumps({"cells": cells}))
        return path

    assert has_exercises(notebook("# Title", "## Summary\n\ntext\n\n## Exercises\n\n1. ..."))
    assert has_exercises(notebook("## 9. Exercises"))
    assert not has_exercises(notebook("## Summary", "see the exercises of notebook 02"))


def test_the_notebooks_are_found():
    assert len(LESSONS) >= 9 and all(p.exists() for p in ALL_NOTEBOOKS)


# ---------------------------------------------------------------- the course


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_a_notebook_with_exercises_has_a_solutions_notebook(lesson):
    if not has_exercises(lesson):
        pytest.skip(f"{lesson.name} has no Exercises section")
    expected = solutions_for(lesson)
    assert expected.exists(), (
        f"{_rel(lesson)} has an Exercises section but no solutions notebook {_rel(expected)}"
    )


@pytest.mark.parametrize("solutions", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_solutions_notebook_belongs_to_a_notebook(solutions):
    assert solutions.name.endswith("_solutions.ipynb"), solutions.name
    lesson = NOTEBOOKS / solutions.name.replace("_solutions.ipynb", ".ipynb")
    assert lesson.exists(), f"{_rel(solutions)} has no notebook {_rel(lesson)}"
    assert has_exercises(lesson), f"{_rel(lesson)} has no Exercises section for its solutions"


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=lambda p: _rel(p))
def test_every_relative_link_points_at_an_existing_file(notebook):
    missing = []
    for k, text in enumerate(_markdown(notebook)):
        missing += [
            f"markdown cell {k}: ({link})"
            for link in relative_links(text)
            if not (notebook.parent / link).exists()
        ]
        missing += [
            f"markdown cell {k}: `{path}`"
            for path in notebook_paths_in_code(text)
            if not (REPO_ROOT / path).exists()
        ]
    assert not missing, f"{_rel(notebook)} points at missing files: " + "; ".join(missing)


# nbval reads cell tags (nbval-ignore-output, nbval-skip); a `# NBVAL_` comment is test
# scaffolding in the student's code. Every notebook and solutions notebook is checked.
NBVAL_CHECKED = list(ALL_NOTEBOOKS)
NBVAL_COMMENT = re.compile(r"^\s*#\s*NBVAL_", re.MULTILINE)


def test_nbval_markers_are_checked_in_some_notebooks():
    assert len(NBVAL_CHECKED) >= 22


@pytest.mark.parametrize("notebook", NBVAL_CHECKED, ids=lambda p: p.name)
def test_no_nbval_comment_in_code_cells(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    marked = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code" and NBVAL_COMMENT.search("".join(c["source"]))
    ]
    assert not marked, f"{notebook.name}: cells {marked} carry '# NBVAL_' comments; use cell tags"


def test_an_nbval_comment_is_recognised():
    assert NBVAL_COMMENT.search("x = 1\n# NBVAL_IGNORE_OUTPUT\n")
    assert not NBVAL_COMMENT.search("print('nbval-ignore-output')")


# A Greek-letter macro run into the next letter (`\alphah_1` for `\alpha h_1`) is an undefined
# control sequence: MathJax shows red error text instead of the formula.
GREEK = (
    "alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|lambda|mu|nu|xi|"
    "pi|rho|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Pi|Sigma|"
    "Upsilon|Phi|Psi|Omega"
)
RUN_ON_GREEK = re.compile(rf"\\(?:{GREEK})(?=[A-Za-z])")


def _run_on_greek(text: str) -> list[str]:
    return [text[m.start() : m.start() + 12] for m in RUN_ON_GREEK.finditer(text)]


@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_no_greek_macro_runs_into_a_letter(notebook):
    found = [s for md in _markdown(notebook) for s in _run_on_greek(md)]
    assert not found, f"{notebook.name}: undefined-looking macros {found}; put a space after the letter"


def test_a_run_on_greek_macro_is_recognised():
    assert _run_on_greek(r"with $\alphah_1 = 0.1$")
    assert _run_on_greek(r"$\betat$")
    assert not _run_on_greek(r"$\alpha h_1$, $\theta$, $\varepsilon$, $\beta_2$, $\eta\,t$, $\Delta w$")
