"""pyproject.toml and environment.yml must list the same packages with the same lower bounds."""

import re
import tomllib

from course_utils.paths import REPO_ROOT

ROOT = REPO_ROOT
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _parse(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=\s*[0-9.]+)?", spec)
    return m.group(1).lower(), (m.group(2) or "").replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return dict(_parse(s) for s in specs)


def environment_requirements() -> dict[str, str]:
    reqs = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+-\s+(?!pip:)(.+)$", line)
        if not m or m.group(1).startswith("-e"):
            continue
        name, bound = _parse(m.group(1))
        if name in ("python", "pip"):
            continue
        reqs[CONDA_NAMES.get(name, name)] = bound
    return reqs


def test_environment_yml_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_environment_installs_the_package_editable():
    assert "- -e ." in (ROOT / "environment.yml").read_text()


def test_parser_sees_a_disagreement(tmp_path, monkeypatch):
    """The check above can fail: a changed bound is detected."""
    text = (ROOT / "environment.yml").read_text().replace("numpy>=1.24", "numpy>=1.20")
    fake = tmp_path / "environment.yml"
    fake.write_text(text)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert environment_requirements()["numpy"] == ">=1.20"
    assert environment_requirements() != pyproject_requirements()
