"""Start JupyterLab safely for `make lab`: loopback only, a fresh random token, never open.

Usage: python tools/start_lab.py [--port 8888] [--notebook notebooks/00_start_here.ipynb]

Lab also reads the course's default settings from tools/lab-config (added to
``JUPYTER_CONFIG_PATH``): no "Would you like to get notified about official Jupyter news?"
popup over the figures, no update checks. They are defaults only: a user's own settings win.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys

from course_utils.paths import REPO_ROOT

ROOT = REPO_ROOT
LAB_CONFIG = ROOT / "tools" / "lab-config"


def lab_command(port: int, token: str, notebook: str) -> list[str]:
    """The jupyter lab command line: 127.0.0.1, the given token, the course folder as root."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.default_url=/lab/tree/{notebook}",
        "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root
    return cmd


def lab_config_path(existing: str | None) -> str:
    """JUPYTER_CONFIG_PATH with the course's lab defaults first (the user's own dirs kept)."""
    return os.pathsep.join(p for p in (str(LAB_CONFIG), existing) if p)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--notebook", default="notebooks/00_start_here.ipynb")
    args = parser.parse_args(argv)
    if not (ROOT / args.notebook).is_file():
        parser.error(f"{args.notebook} does not exist under {ROOT}.")
    token = os.environ.get("COURSE_LAB_TOKEN") or secrets.token_urlsafe(24)
    url = f"http://127.0.0.1:{args.port}/lab/tree/{args.notebook}?token={token}"
    print(
        f"\nJupyterLab: {url}\n"
        f"From a laptop: ssh -N -L {args.port}:127.0.0.1:{args.port} you@this-machine, "
        "then open the URL above.\n",
        flush=True,
    )
    cmd = lab_command(args.port, token, args.notebook)
    os.environ["JUPYTER_CONFIG_PATH"] = lab_config_path(os.environ.get("JUPYTER_CONFIG_PATH"))
    os.execv(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
