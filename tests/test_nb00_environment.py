"""Notebook 00's environment check: OK / PROBLEM per requirement, with a fix for each problem."""

from __future__ import annotations

from course_utils import nb00_environment as env


def _by_name(checks):
    return {c.name: c for c in checks}


def test_minimums_come_from_pyproject():
    python_spec, deps = env.project_requirements()
    assert python_spec.startswith(">=")
    names = {d.split(">")[0].split("=")[0].strip() for d in deps}
    assert {"torch", "numpy", "matplotlib", "ipywidgets", "jupyterlab"} <= names


def test_this_environment_meets_every_requirement():
    checks = env.environment_checks()
    assert [c.line() for c in checks if not c.ok] == []
    assert env.FRONTEND in _by_name(checks)


def test_too_old_and_missing_packages_are_problems_with_a_fix():
    real = {c.name: c.found for c in env.environment_checks()}
    fake = {**real, "numpy": "1.20.0", "ipywidgets": None, env.FRONTEND: None}
    checks = _by_name(env.environment_checks(fake))
    numpy, widgets, frontend = checks["numpy"], checks["ipywidgets"], checks[env.FRONTEND]
    assert not numpy.ok and numpy.line().startswith("PROBLEM")
    assert "1.20.0" in numpy.line() and "needs >=1.24" in numpy.line()
    assert "%pip install 'numpy>=1.24'" in numpy.line() and "make setup" in numpy.line()
    assert not widgets.ok and "not installed" in widgets.line() and "fix:" in widgets.line()
    assert not frontend.ok and "panels show as text" in frontend.line()
    assert checks["torch"].ok and checks["torch"].line().startswith("OK")


def test_python_too_old_and_odd_versions():
    fake = {c.name: c.found for c in env.environment_checks()}
    checks = _by_name(env.environment_checks({**fake, "python": "3.8.10", "tqdm": "not-a-version"}))
    assert not checks["python"].ok and "Python >=3.11" in checks["python"].fix
    assert not checks["tqdm"].ok
    assert env.check_requirement("torch", ">=2.4", "2.5.0.dev20240101").ok  # a nightly counts


def test_print_environment_counts_problems(capsys):
    assert env.print_environment() == 0
    out = capsys.readouterr().out
    assert "PROBLEM" not in out and "requirements met" in out and "device:" in out
