"""Find a Chromium or Chrome for the browser tests, on any workstation.

Order: ``$COURSE_CHROMIUM`` (a path; nothing else is tried when it is set), Playwright's own
Chromium (``python -m playwright install chromium``), then a system Chromium or Chrome at the usual
places on Linux (Debian's ``chromium`` package, which CI uses), macOS and Windows.

``python tests/browser/browsers.py`` prints the browser found and exits 0, or prints what to run
and exits 1 (``make browser-install`` uses it).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys
from pathlib import Path

OVERRIDE = "COURSE_CHROMIUM"
PROJECTOR = {"width": 1280, "height": 720}  # the browser tests' window sizes
DESKTOP = {"width": 1920, "height": 1080}
LINUX_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MACOS_APPS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)
WINDOWS_CHROME = Path("Google") / "Chrome" / "Application" / "chrome.exe"

HOW_TO_GET_ONE = (
    "install a browser for the tests: `.venv/bin/python -m playwright install chromium` "
    "(Linux, macOS; on Windows `.venv\\Scripts\\python -m playwright install chromium`), or on "
    "Debian/Ubuntu as root `apt-get install chromium`, or point COURSE_CHROMIUM at an installed "
    "Chrome or Chromium; `make browser-install` tries the first two for you."
)


@functools.cache
def playwright_chromium() -> Path | None:
    """Playwright's own Chromium, when ``playwright install chromium`` has downloaded it (asked once)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            path = Path(p.chromium.executable_path)
    except Exception:  # a broken driver means "no Playwright browser here"
        return None
    return path if path.is_file() else None


def system_candidates() -> list[Path]:
    """Where Chromium or Chrome usually lives on Linux, macOS and Windows (existing or not)."""
    found = [Path(p) for p in (shutil.which(name) for name in LINUX_NAMES) if p]
    found += [Path("/usr/bin") / name for name in LINUX_NAMES]
    found += [Path("/snap/bin/chromium"), *map(Path, MACOS_APPS)]
    for variable in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"):
        if os.environ.get(variable):
            found.append(Path(os.environ[variable]) / WINDOWS_CHROME)
    return list(dict.fromkeys(found))


def find_chromium() -> tuple[Path | None, str]:
    """(path, where it came from) of the browser to use, or (None, why none was found)."""
    override = os.environ.get(OVERRIDE, "").strip()
    if override:
        path = Path(override).expanduser()
        if path.is_file():
            return path, f"{OVERRIDE}={path}"
        return None, f"{OVERRIDE}={override} is not a file; fix the variable or unset it."
    bundled = playwright_chromium()
    if bundled:
        return bundled, "Playwright's Chromium"
    for path in system_candidates():
        if path.is_file():
            return path, "system browser"
    return None, "no Chromium or Chrome found; " + HOW_TO_GET_ONE


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when Playwright and a browser are present."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed: run `make setup` (pip install -e '.[dev]')."
    path, why = find_chromium()
    return None if path else why


def main() -> int:
    path, why = find_chromium()
    if path is None:
        print(why)
        return 1
    print(f"browser for the tests: {path} ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
