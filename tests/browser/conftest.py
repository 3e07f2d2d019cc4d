"""A throw-away JupyterLab server and a headless Chromium for the browser tests.

The server listens on 127.0.0.1 only, on a free port, behind a random token, and serves a
temporary copy of the notebooks (and figures/), so the repository is never written: Lab's
autosave is off, and the kernels save figures and results to a temporary folder
(``COURSE_FIGURES_DIR``, ``COURSE_RESULTS_DIR``). Lab reads the same settings as ``make lab``
(``tools/lab-config``: no news popup).

The browser is found by ``browsers.find_chromium()``: ``$COURSE_CHROMIUM``, else Playwright's own
Chromium, else a system Chromium or Chrome. Without one the tests skip on a workstation, with the
command to run, but FAIL under CI (``CI`` set), so a CI machine that lost its browser cannot pass
silently.

Fixtures for other browser tests: ``chromium`` (a launched Playwright browser) and
``offline_context`` (a function returning a new browser context in which every request that is
not ``file:`` or ``data:`` is aborted and recorded in ``context.blocked``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import panel_report
import pytest
from browsers import PROJECTOR, browser_missing_reason, find_chromium

from course_utils.paths import REPO_ROOT

LAB_CONFIG = REPO_ROOT / "tools" / "lab-config"  # the settings `make lab` uses
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
SERVER_START_TIMEOUT_S = 90


def in_ci() -> bool:
    """True on a CI runner (GitHub Actions, GitLab and most others set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config, items):
    """Skip the browser tests on a workstation without a browser; under CI they run and fail."""
    reason = browser_missing_reason()
    if reason is None or in_ci():
        return
    for item in items:
        if {"lab_server", "chromium", "offline_context"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter):
    if not panel_report.LINES:
        return
    terminalreporter.section("browser panels: slider key press -> new image in JupyterLab")
    for line in panel_report.LINES:
        terminalreporter.write_line(line)
    if panel_report.START and panel_report.END:
        elapsed = panel_report.END[0] - panel_report.START[0]
        terminalreporter.write_line(
            f"browser suite: {elapsed:.0f} s from starting JupyterLab to the last panel"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@dataclass
class LabServer:
    """A running JupyterLab: base URL, token and the folder it serves."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path
    runtime_dir: Path

    def api(self, method: str, path: str, body: dict | None = None):
        req = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode(),
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def start_kernels(self, paths: list[str], timeout_s: float = 180) -> None:
        """Start a kernel session for each notebook path (relative to root); wait until idle.

        The kernels start side by side before any measurement, and an opened notebook attaches
        to its waiting kernel instead of starting one.
        """
        for path in paths:
            self.api(
                "POST",
                "/api/sessions",
                {
                    "path": path,
                    "name": Path(path).name,
                    "type": "notebook",
                    "kernel": {"name": "python3"},
                },
            )
        from jupyter_client import BlockingKernelClient

        deadline = time.time() + timeout_s
        for kernel in self.api("GET", "/api/kernels"):
            connection = self.runtime_dir / f"kernel-{kernel['id']}.json"
            while not connection.exists():
                if time.time() > deadline:
                    pytest.fail(f"kernel {kernel['id']} wrote no connection file in {timeout_s} s")
                time.sleep(0.2)
            client = BlockingKernelClient(connection_file=str(connection))
            client.load_connection_file()
            client.start_channels(iopub=False, stdin=False, hb=False, control=False)
            try:
                _wait_kernel_info(client, deadline)
            finally:
                client.stop_channels()

    def shutdown_kernels(self, path: str | None = None) -> None:
        """Stop the kernel of one notebook (or all): they outlive the page and use memory."""
        for session in self.api("GET", "/api/sessions"):
            if path is None or session["path"] == path:
                try:
                    self.api("DELETE", f"/api/sessions/{session['id']}")
                except urllib.error.URLError:
                    pass

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def _wait_kernel_info(client, deadline: float) -> None:
    """Ask for kernel_info until the kernel answers (a kernel that is still importing is slow)."""
    from queue import Empty

    while time.time() < deadline:
        msg_id = client.kernel_info()
        try:
            while True:
                reply = client.get_shell_msg(timeout=2)
                if reply["parent_header"].get("msg_id") == msg_id:
                    return
        except Empty:
            continue
    pytest.fail("a notebook kernel did not answer kernel_info in time")


@pytest.fixture(scope="session")
def lab_server():
    """JupyterLab on 127.0.0.1:<free port> with a token, serving a temporary notebooks/ copy."""
    reason = browser_missing_reason()
    if reason:
        if in_ci():
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    panel_report.mark_start()
    tmp = Path(tempfile.mkdtemp(prefix="course-lab-"))
    root = tmp / "root"
    (root / "notebooks").mkdir(parents=True)
    repo = REPO_ROOT
    if (repo / "figures").is_dir():
        shutil.copytree(repo / "figures", root / "figures")
    settings = tmp / "lab-settings"
    _write_json(
        settings / "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings",
        {"autosave": False},
    )
    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        JUPYTER_CONFIG_PATH=os.pathsep.join(
            p for p in (str(LAB_CONFIG), os.environ.get("JUPYTER_CONFIG_PATH", "")) if p
        ),
        COURSE_FIGURES_DIR=str(tmp / "figures-out"),
        COURSE_RESULTS_DIR=str(tmp / "results-out"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    log = tmp / "jupyterlab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: Presentation Mode command
    ]
    with open(log, "w") as log_file:
        process = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log, tmp / "runtime")
    try:
        deadline = time.time() + SERVER_START_TIMEOUT_S
        while True:
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if process.poll() is not None or time.time() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{server.log_tail()}")
                time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium (or Chrome) driven by Playwright: see ``browsers.find_chromium``."""
    from playwright.sync_api import sync_playwright

    path, why = find_chromium()
    if path is None:
        if in_ci():
            pytest.fail(f"browser tests cannot run in CI: {why}")
        pytest.skip(why)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(path), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _block_network(context) -> None:
    """Abort every request that is not file: or data:; record the URLs in context.blocked."""
    context.blocked = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            context.blocked.append(url)
            r.abort()

    context.route("**/*", route)


@pytest.fixture(scope="session")
def offline_context(chromium):
    """``offline_context(**options)``: a new context of ``chromium`` that blocks non-file requests.

    The options go to ``browser.new_context`` (e.g. ``viewport=``); contexts are closed at the end.
    """
    made = []

    def new_context(**options):
        context = chromium.new_context(**options)
        _block_network(context)
        made.append(context)
        return context

    try:
        yield new_context
    finally:
        for context in made:
            context.close()


@pytest.fixture(scope="session")
def lab_context(chromium):
    """One browser context for every notebook, at a projector's 1280x720 (tests also try 1920x1080)."""
    context = chromium.new_context(viewport=PROJECTOR)
    try:
        yield context
    finally:
        context.close()
