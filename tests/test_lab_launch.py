"""`make lab` serves JupyterLab on loopback only, only to holders of the token, without the news popup."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from course_utils.paths import REPO_ROOT

ROOT = REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_lab_needs_token_and_listens_on_loopback_only(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "COURSE_LAB_TOKEN": "test-token-123",
        "JUPYTER_RUNTIME_DIR": str(tmp_path),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),  # no one's own settings
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "start_lab.py"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if status(f"{base}/api/status?token=test-token-123") == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("JupyterLab did not start within 60 s")
        assert status(f"{base}/api/status") == 403  # no token, no access
        assert status(f"{base}/api/status?token=wrong") == 403
        with urllib.request.urlopen(f"{base}/api/status?token=test-token-123", timeout=5) as r:
            assert "started" in json.loads(r.read())
        # The course's lab defaults (tools/lab-config): never ask about Jupyter news.
        plugin = "@jupyterlab/apputils-extension:notification"
        with urllib.request.urlopen(
            f"{base}/lab/api/settings/{plugin}?token=test-token-123", timeout=10
        ) as r:
            schema = json.loads(r.read())["schema"]["properties"]  # defaults with the overrides
        assert schema["fetchNews"]["default"] == "false"
        assert schema["checkForUpdates"]["default"] is False
        # loopback only: the server is not reachable on the machine's other addresses
        other = socket.gethostbyname(socket.gethostname())
        if not other.startswith("127."):
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex((other, port)) != 0
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"127.0.0.1:{port}/lab/tree/notebooks/00_start_here.ipynb?token=test-token-123" in out


def test_lab_refuses_a_missing_notebook():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "start_lab.py"),
            "--notebook",
            "notebooks/nope.ipynb",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "does not exist" in result.stderr
