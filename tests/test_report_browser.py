"""End to end: the report as a reader sees it, opened from disk by headless Chromium with
the network shut, screenshotted, and the pixels checked for text and drawn charts.

Needs Debian's `chromium` (installed by .ci/run when missing); skipped, saying why, where
there is none. RINGWATCH_CHROMIUM names another binary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import SharedReport

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1"]
WIDTH, HEIGHT = 1100, 2600


def chromium() -> str:
    for candidate in (os.environ.get("RINGWATCH_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.skip("no headless Chromium here (Debian package 'chromium'; .ci/run installs it when it can, "
                "or set RINGWATCH_CHROMIUM): the browser test of the report is skipped")


def screenshot(browser: str, page: Path, out: Path, profile: Path) -> Image.Image:
    completed = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
         f"--screenshot={out}", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0 and out.exists(), completed.stderr[-2000:]
    return Image.open(out).convert("L")


def inked(image: Image.Image) -> float:
    """The share of pixels that are not (near) white."""
    histogram = image.histogram()
    return sum(histogram[:235]) / (image.width * image.height)


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path, shared_report: SharedReport) -> None:
    browser = chromium()
    report = shared_report.files  # tests/report_db.py's warehouse, drawn once for the session
    shot = screenshot(browser, report.html, tmp_path / "report.png", tmp_path / "profile-1")
    assert shot.size == (WIDTH, HEIGHT)
    levels = [n for n in shot.histogram() if n > 50]
    assert inked(shot) > 0.04 and len(levels) > 20, "the screenshot is blank or nearly so"

    # The same page without its charts must show clearly less ink: the SVGs were decoded and drawn.
    without = tmp_path / "no-charts.html"
    without.write_text(re.sub(r'<img src="data:[^"]*"[^>]*>', "", report.html.read_text(encoding="utf-8")),
                       encoding="utf-8")
    bare = screenshot(browser, without, tmp_path / "no-charts.png", tmp_path / "profile-2")
    assert inked(shot) > inked(bare) + 0.03, (inked(shot), inked(bare))
