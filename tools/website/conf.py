"""Sphinx configuration of the course website (`make html`, tools/build_html.py).

tools/build_html.py lays out the source folder (the notebooks with their stored outputs, the
live panels replaced by frame panels, an index.md with the course order) and runs Sphinx with
this folder as its configuration directory. Nothing here executes a notebook, and nothing the
pages load comes from the network: MathJax 2 is the copy ``jupyter-server-mathjax`` ships,
copied to ``_static/mathjax/`` once per output folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jupyter_server_mathjax

project = "Adaptive optimization"
author = "the course's authors"
copyright = "the course's authors, MIT licence"
html_title = "Adaptive optimization"

extensions = ["myst_nb"]
exclude_patterns = ["**.ipynb_checkpoints"]

# The notebooks are shown with the outputs stored in them (what CI checks with nbval).
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True  # $$...$$ inside a paragraph or list item, as Jupyter shows it
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_theme_options = {
    "navbar_persistent": [],  # else an empty top bar with a second search box
    "use_download_button": True,  # the .ipynb (tools/build_html.py puts the notebook there)
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "show_navbar_depth": 1,
}
html_sourcelink_suffix = ""  # _sources/NN_topic.ipynb is the notebook itself
html_static_path = ["_static"]
html_css_files = ["course-site.css"]
html_js_files = ["course-site.js"]
html_favicon = "_static/favicon.svg"
html_context = {"default_mode": "auto"}  # light or dark as the reader's system says

# MathJax 2.7 from jupyter-server-mathjax, which ships the STIX-Web fonts only. myst-parser marks
# what is math (class "math"); MathJax typesets only that.
MATHJAX_SOURCE = Path(jupyter_server_mathjax.__file__).parent / "static"
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
myst_update_mathjax = False
mathjax2_config = {
    "messageStyle": "none",
    "fast-preview": {"disabled": True},  # one typesetting pass, not a preview and then the real one
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": True,
        "processClass": "math|output_area",
        "ignoreClass": "tex2jax_ignore|mathjax_ignore|document",
    },
    "HTML-CSS": {
        "availableFonts": ["STIX-Web"],
        "preferredFont": "STIX-Web",
        "webFont": "STIX-Web",
        "imageFont": None,
        "EqnChunk": 500,
        "EqnChunkDelay": 0,
    },
}


def _copy_mathjax(app, exception) -> None:
    """MathJax into _static/mathjax/ of the output folder (once: it does not change)."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / "MathJax.js").is_file():
        shutil.copytree(MATHJAX_SOURCE, target, dirs_exist_ok=True)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
