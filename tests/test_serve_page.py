"""The web page at ``/`` in a real browser: headless Chromium fills the GET form by its URL, the
page answers H200 SXM to CN on 2026-02-01 with the CLI's ECCN, licence and review policy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from serve_process import ROOT, running_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                    reason="Chromium (Debian package `chromium`) is not installed; required in CI")
QUERY = {"chip": "nvidia-h200-sxm-141gb", "dest": "CN", "hq": "", "as_of": "2026-02-01", "item": "ic"}


def chromium(url: str, tmp_path: Path, *mode: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / ('profile-' + mode[0].strip('-').split('=')[0])}",
               "--window-size=1280,2000", "--enable-logging=stderr", "--v=0", *mode, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def cli_answer() -> tuple[str, str]:
    """ECCN, licence and review policy as the CLI prints them for a person."""
    done = subprocess.run([sys.executable, "-m", "tppcalc", "classify", "H200 SXM", "--dest", "CN", "--as-of",
                           "2026-02-01"], cwd=ROOT, capture_output=True, text=True, check=True)
    table = done.stdout.split("\n\n", 1)[0]  # the answer's rows, before the notices
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in table.splitlines() if line.strip())
    return rows["ECCN"].split()[0], rows["Licence to CN"], rows["Review policy"]


@needs_chromium
def test_the_page_answers_in_a_real_browser(tmp_path):
    eccn, licence, review = cli_answer()
    assert (eccn, licence) == ("3A090.a", "required")    # the rule text: TPP 15,832 >= 4,800
    with running_server() as url:
        page = f"{url}/?{urlencode(QUERY)}"
        shot = tmp_path / "page.png"
        done = chromium(page, tmp_path, f"--screenshot={shot}")
        dom = chromium(page, tmp_path, "--dump-dom").stdout
    console = [line for line in done.stderr.splitlines()
               if (":CONSOLE" in line or "Uncaught" in line) and "favicon" not in line]
    assert console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    assert "<form" in dom and 'name="dest"' in dom
    assert eccn in dom and f"{licence} to CN" in dom and review in dom
