"""The headless-browser helper (tests/browser.py) sees errors when there are some, and only then.

Without chromium these tests fail (they do not skip): run .ci/install-browser.
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

import pytest

from tests import browser
from tests.browser import BrowserError, Rendered, find_chromium

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def render(html: Path, shot: Path, **kwargs) -> Rendered:
    """browser.render, failing (not skipping) with the install hint when there is no chromium."""
    if find_chromium() is None:
        pytest.fail(f"chromium is not installed: {browser.INSTALL_HINT}", pytrace=False)
    return browser.render(html, shot, **kwargs)


def page(tmp_path: Path, body: str, head: str = "") -> Path:
    path = tmp_path / "page.html"
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"
    )
    return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_console_error_and_uncaught_exception_are_reported(tmp_path):
    html = page(
        tmp_path,
        "<p>x</p><script>console.log('fine'); console.error('boom'); throw new Error('kaboom');</script>",
    )
    rendered = render(html, tmp_path / "shot.png")
    assert len(rendered.console_errors) == 2, rendered.console_errors
    assert any("console.error" in e and "boom" in e for e in rendered.console_errors)
    assert any("uncaught" in e.lower() and "kaboom" in e for e in rendered.console_errors)
    assert any("fine" in m for m in rendered.console_messages)
    assert not any("fine" in e for e in rendered.console_errors)


def test_clean_page_has_no_errors_and_reads_back(tmp_path):
    html = page(
        tmp_path,
        "<h1>Stake report</h1><p>All <b>12</b> rounds settled.</p><script>console.log('ready')</script>",
        head="<title>Clean page</title><style>h1 { color: #036; }</style>",
    )
    shot = tmp_path / "out" / "clean.png"
    rendered = render(html, shot, width=800, height=600)
    assert rendered.console_errors == []
    assert rendered.console_messages == ["console.log: ready (" + html.as_uri() + ":1)"]
    assert rendered.title == "Clean page"
    assert rendered.text.split("\n") == ["Stake report", "", "All 12 rounds settled."]
    assert rendered.screenshot == shot
    assert shot.stat().st_size > 1000
    assert png_size(shot) == (800, 600)
    assert rendered.seconds < 30


def test_screenshot_covers_the_whole_page(tmp_path):
    html = page(tmp_path, "<div style='height: 3000px; background: linear-gradient(red, blue)'>tall</div>")
    rendered = render(html, tmp_path / "tall.png", width=640, height=480)
    assert rendered.console_errors == []
    width, height = png_size(rendered.screenshot)
    assert width == 640
    assert 3000 <= height < 3100


def test_missing_local_image_is_reported(tmp_path):
    html = page(tmp_path, "<p>picture:</p><img src='no-such-figure.png' alt='figure'>")
    rendered = render(html, tmp_path / "shot.png")
    assert len(rendered.console_errors) == 1, rendered.console_errors
    assert "no-such-figure.png" in rendered.console_errors[0]
    assert "Failed to load resource" in rendered.console_errors[0]


def test_network_is_never_reached_and_shows_as_an_error(tmp_path):
    html = page(tmp_path, "<script src='https://example.com/lib.js'></script><p>offline</p>")
    rendered = render(html, tmp_path / "shot.png")
    assert len(rendered.console_errors) == 1, rendered.console_errors
    assert "https://example.com/lib.js" in rendered.console_errors[0]
    assert rendered.text == "offline"


def test_timeout_raises_and_cleans_up(tmp_path, monkeypatch):
    started = []
    real_popen = browser.subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(browser.subprocess, "Popen", recording_popen)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    html = page(tmp_path, "<script>while (true) {}</script>")
    with pytest.raises(BrowserError, match="did not answer in time"):
        render(html, tmp_path / "shot.png", timeout_s=3)
    assert len(started) == 1
    assert started[0].returncode is not None, "chromium is still running"
    assert list(scratch.iterdir()) == [], "the temporary profile was left behind"


def test_missing_chromium_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert find_chromium() is None
    with pytest.raises(BrowserError, match=r"\.ci/install-browser"):
        browser.render(page(tmp_path, "<p>x</p>"), tmp_path / "shot.png")
