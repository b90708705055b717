"""Headless Chromium (Debian's package) for tests that must see a page as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1"]


def require_chromium() -> str:
    """The browser's path; skips the test where it is missing, unless CI says it must be there."""
    if not Path(CHROMIUM).is_file():
        if os.environ.get("SOUNDSTAGE_REQUIRE_CHROMIUM"):
            pytest.fail(f"chromium is required (SOUNDSTAGE_REQUIRE_CHROMIUM) but {CHROMIUM} is missing")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 1600) -> np.ndarray:
    """Render ``page`` (an HTML file) to ``png`` and return its pixels (H×W×3 RGB)."""
    import cv2

    browser = require_chromium()
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        f"--screenshot={png}", page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    picture = cv2.imread(str(png), cv2.IMREAD_COLOR)
    assert picture is not None, f"chromium wrote no screenshot of {page}"
    return cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)


def inked_share(picture: np.ndarray) -> float:
    """The share of the screenshot that is not blank page: a rendered report has text, tables and charts."""
    return float(np.mean(np.any(picture < 235, axis=2)))
