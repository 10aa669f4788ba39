"""Render a local HTML file in headless Chromium and report what a person (and its console) would see.

Used by the tests that check generated HTML reports: `render()` opens the file in Debian's `chromium`,
waits for the load event, and returns the console messages, the errors among them (console.error,
uncaught exceptions, resources that failed to load), the title, the visible text and a full-page PNG
screenshot kept for reviewers. `.ci/install-browser` installs the browser.

How it talks to the browser, and why
------------------------------------
Chromium is driven over the Chrome DevTools Protocol (CDP) through `--remote-debugging-pipe`: the
browser reads JSON commands, each ended by a NUL byte, from its file descriptor 3 and writes replies
and events the same way to descriptor 4. Compared with `--remote-debugging-port` this needs

* no WebSocket client: neither `websockets` nor `websocket-client` is a dependency of the project,
  and a hand-written WebSocket client (handshake, masking, frame lengths) is more code to get wrong;
* no TCP port at all, so no port to discover from `DevToolsActivePort`, no race with other programs
  and nothing listening, even on 127.0.0.1, while the tests run.

The only subtlety is putting the pipe ends at descriptors 3 and 4 of the child, which a small
`preexec_fn` does with `os.dup2` (it runs between fork and exec and calls nothing but `dup2`).

No network
----------
Chromium runs with a fresh temporary profile (also its HOME) and with every background service that
calls home switched off. As a second guard every proxied request goes to a closed port on
127.0.0.1 and host names resolve to nothing, so a page (or the browser) asking for anything beyond
the local machine fails — and a report that needs the network shows up as a console error.
The browser and the temporary profile are removed after each render, also on failure.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTALL_HINT = "run .ci/install-browser (as root) to install Debian's chromium package"

#: The executable names looked for on PATH, in order.
CANDIDATES = ("chromium", "chromium-browser")
#: Debian's /usr/bin/chromium is a shell script that adds flags of its own (and exports Google API
#: keys); the real browser is this binary, which is started directly when present.
DEBIAN_BINARY = Path("/usr/lib/chromium/chromium")

#: Longest full-page screenshot, in CSS pixels.
MAX_SCREENSHOT_HEIGHT = 20_000
#: How long to let the page run after the load event, for late console messages (milliseconds).
SETTLE_MS = 150

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    "--disable-dev-shm-usage",
    "--no-pings",
    "--metrics-recording-only",
    "--safebrowsing-disable-auto-update",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
    "--mute-audio",
    "--hide-scrollbars",
    "--password-store=basic",
    "--use-mock-keychain",
    # The second guard: anything proxied goes to a closed local port; no host name resolves.
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    "--remote-debugging-pipe",
)


class BrowserError(RuntimeError):
    """Chromium is missing, failed to start, or did not answer in time."""


@dataclass
class Rendered:
    """What one render saw."""

    console_errors: list[str]
    console_messages: list[str]
    title: str
    text: str
    screenshot: Path
    #: Seconds from starting the browser to having the screenshot written.
    seconds: float = field(default=0.0, compare=False)


def find_chromium() -> str | None:
    """The Chromium executable to start, or None when there is none.

    `$CHROMIUM` (a path or a name on PATH) wins; then `chromium`, `chromium-browser` on PATH. Debian's
    launcher script is replaced by the browser binary it would run.
    """
    override = os.environ.get("CHROMIUM")
    names = (override,) if override else CANDIDATES
    for name in names:
        found = shutil.which(name)
        if found is None:
            continue
        if Path(found).resolve() == Path("/usr/bin/chromium") and os.access(DEBIAN_BINARY, os.X_OK):
            return str(DEBIAN_BINARY)
        return found
    return None


def render(
    html_path: Path,
    screenshot_path: Path,
    *,
    width: int = 1280,
    height: int = 2000,
    timeout_s: float = 60,
) -> Rendered:
    """Open `html_path` in headless Chromium, write a full-page PNG to `screenshot_path`, report.

    The viewport is `width` x `height` CSS pixels; the screenshot covers the whole page (at least the
    viewport, at most MAX_SCREENSHOT_HEIGHT pixels tall). Raises BrowserError when Chromium is missing,
    dies, or the whole render takes longer than `timeout_s` seconds.
    """
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise FileNotFoundError(html_path)
    executable = find_chromium()
    if executable is None:
        raise BrowserError(f"no chromium on PATH: {INSTALL_HINT}")
    started = time.monotonic()
    deadline = started + timeout_s
    with (
        tempfile.TemporaryDirectory(prefix="fedstake-chromium-") as tmp,
        _Chromium(executable, Path(tmp), width, height) as browser,
    ):
        rendered = browser.render(html_path, Path(screenshot_path), deadline)
    rendered.seconds = time.monotonic() - started
    return rendered


class _Chromium:
    """One Chromium process with a CDP connection over fds 3/4; a context manager that always kills it."""

    def __init__(self, executable: str, tmp: Path, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.profile = tmp / "profile"
        self.profile.mkdir()
        self.stderr_path = tmp / "chromium-stderr.log"
        self.events: list[dict[str, Any]] = []
        self.messages: list[str] = []
        self.errors: list[str] = []
        self._next_id = 0
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._to_browser = self._from_browser = -1

        # Pipe ends for the child go to fd 3 (it reads commands) and fd 4 (it writes replies). Move
        # them above 9 first so that the dup2 calls in the child cannot overwrite one another.
        cmd_r, cmd_w = os.pipe()
        out_r, out_w = os.pipe()
        child_in, child_out = (_high_fd(cmd_r), _high_fd(out_w))
        self._to_browser, self._from_browser = cmd_w, out_r

        def _map_fds() -> None:  # runs in the child, between fork and exec
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env.update(HOME=str(tmp), XDG_CONFIG_HOME=str(tmp / "config"), XDG_CACHE_HOME=str(tmp / "cache"))
        args = [
            executable,
            *FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        try:
            with open(self.stderr_path, "wb") as stderr:
                self._proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                    env=env,
                    cwd=tmp,
                    # Python's own descriptors are not inheritable, so only 0-4 reach Chromium; close_fds
                    # would close 3 and 4 again after preexec_fn.
                    close_fds=False,
                    preexec_fn=_map_fds,
                    start_new_session=True,  # its own process group: kill it and its children at once
                )
        except BaseException:
            for fd in (cmd_w, out_r):
                os.close(fd)
            raise
        finally:
            for fd in (child_in, child_out):
                os.close(fd)
        self._reader = threading.Thread(target=self._read, name="chromium-cdp-reader", daemon=True)
        self._reader.start()

    # -- lifetime -------------------------------------------------------------------------------

    def __enter__(self) -> _Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                self._send("Browser.close", {})
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=3)
        if proc is not None:
            # Whatever it left behind (renderer, zygote, utility processes) is in its process group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        for fd in (self._to_browser, self._from_browser):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to_browser = self._from_browser = -1
        if self._reader is not None:
            self._reader.join(timeout=2)

    # -- the protocol -----------------------------------------------------------------------------

    def _read(self) -> None:
        """Split what Chromium writes on fd 4 into messages (NUL-terminated JSON) for the inbox."""
        buffer = b""
        fd = self._from_browser
        try:
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    self._inbox.put(json.loads(raw))
        except (OSError, ValueError):
            pass
        finally:
            self._inbox.put(None)  # end of stream

    def _send(self, method: str, params: dict[str, Any], session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data) :]
        return self._next_id

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        try:
            message = self._inbox.get(timeout=max(remaining, 0.001))
        except queue.Empty:
            raise BrowserError(f"chromium did not answer in time (waiting for {waiting_for})") from None
        if message is None:
            self._inbox.put(None)  # keep reporting the end to any later caller
            raise BrowserError(f"chromium closed the connection (waiting for {waiting_for}){self._stderr()}")
        if "method" in message:
            self._on_event(message)
        return message

    def call(
        self, method: str, params: dict[str, Any], deadline: float, session: str | None = None
    ) -> dict[str, Any]:
        """Send a command and return its result, recording the events that arrive meanwhile."""
        sent = self._send(method, params, session)
        while True:
            message = self._receive(deadline, method)
            if message.get("id") == sent:
                if "error" in message:
                    raise BrowserError(f"{method} failed: {message['error']}")
                return message.get("result", {})

    def wait_event(self, method: str, deadline: float, since: int = 0) -> dict[str, Any]:
        """The first event `method` at or after index `since` of self.events, waiting for it."""
        while True:
            for event in self.events[since:]:
                if event["method"] == method:
                    return event
            since = len(self.events)
            self._receive(deadline, method)

    def _stderr(self, lines: int = 15) -> str:
        try:
            tail = self.stderr_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return ("\nchromium's stderr (last lines):\n" + "\n".join(tail)) if tail else ""

    # -- what the page says -----------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            kind = params.get("type", "log")
            words = " ".join(_remote_object_text(arg) for arg in params.get("args", []))
            frames = (params.get("stackTrace") or {}).get("callFrames") or []
            where = _location(frames[0].get("url"), frames[0].get("lineNumber")) if frames else ""
            self._record(f"console.{kind}: {words}{where}", error=kind in ("error", "assert"))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exception = details.get("exception") or {}
            what = (exception.get("description") or _remote_object_text(exception)) if exception else ""
            what = what.splitlines()[0] if what else details.get("text", "exception")
            where = _location(details.get("url"), details.get("lineNumber"))
            self._record(f"uncaught exception: {what}{where}", error=True)
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            level = entry.get("level", "info")
            where = f" ({entry['url']})" if entry.get("url") else ""
            self._record(
                f"log.{level} [{entry.get('source', '?')}]: {entry.get('text', '')}{where}",
                error=level == "error",
            )

    def _record(self, line: str, *, error: bool) -> None:
        self.messages.append(line)
        if error:
            self.errors.append(line)

    # -- the render ---------------------------------------------------------------------------------

    def open(self, url: str, deadline: float) -> Page:
        """Open ``url`` in a new tab, wait for its load event and let it settle; return the tab."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, deadline)["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, deadline)[
            "sessionId"
        ]
        page = Page(self, session, deadline)
        for domain in ("Page", "Runtime", "Log"):
            page.command(f"{domain}.enable")
        page.command(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
        )
        # Events before the navigation (about:blank) are not the page's; drop what they recorded.
        self.messages.clear()
        self.errors.clear()
        since = len(self.events)
        navigated = page.command("Page.navigate", {"url": url})
        if navigated.get("errorText"):
            raise BrowserError(f"could not open {url}: {navigated['errorText']}")
        self.wait_event("Page.loadEventFired", deadline, since)
        # Let timers and late scripts run, and web fonts settle, before reading the page.
        page.evaluate(f"document.fonts.ready.then(() => new Promise(done => setTimeout(done, {SETTLE_MS})))")
        return page

    def render(self, html_path: Path, screenshot_path: Path, deadline: float) -> Rendered:
        page = self.open(html_path.as_uri(), deadline)
        title = page.evaluate("document.title") or ""
        text = page.evaluate("document.body ? document.body.innerText : ''") or ""
        page.screenshot(screenshot_path)
        return Rendered(
            console_errors=list(self.errors),
            console_messages=list(self.messages),
            title=title,
            text=text,
            screenshot=screenshot_path,
        )


class Page:
    """One open tab: evaluate JavaScript in it, wait for a condition, take its screenshot."""

    def __init__(self, browser: _Chromium, session: str, deadline: float):
        self.browser, self.session, self.deadline = browser, session, deadline

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads since the page was opened."""
        return list(self.browser.errors)

    def command(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A DevTools command to this tab."""
        return self.browser.call(method, params or {}, self.deadline, self.session)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.command(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluating {expression!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 30, what: str = "") -> Any:
        """Poll a JavaScript expression until it is truthy; return its value (BrowserError on timeout)."""
        until = min(self.deadline, time.monotonic() + timeout_s)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > until:
                raise BrowserError(f"timed out waiting for {what or expression}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        """A full-page PNG (at least the viewport, at most MAX_SCREENSHOT_HEIGHT pixels tall)."""
        full_height = self.evaluate(
            "Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
        )
        width, height = self.browser.width, self.browser.height
        shot_height = max(height, min(int(full_height or 0), MAX_SCREENSHOT_HEIGHT))
        shot = self.command(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": shot_height, "scale": 1},
            },
        )
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@contextlib.contextmanager
def browse(url: str, *, width: int = 1280, height: int = 900, timeout_s: float = 90):
    """Open ``url`` (e.g. a page served on localhost) in headless Chromium and yield its :class:`Page`;
    the browser and its temporary profile are removed afterwards, also on failure."""
    executable = find_chromium()
    if executable is None:
        raise BrowserError(f"no chromium on PATH: {INSTALL_HINT}")
    deadline = time.monotonic() + timeout_s
    with (
        tempfile.TemporaryDirectory(prefix="fedstake-chromium-") as tmp,
        _Chromium(executable, Path(tmp), width, height) as browser,
    ):
        yield browser.open(url, deadline)


def _high_fd(fd: int) -> int:
    """A close-on-exec duplicate of `fd` numbered 10 or above; `fd` itself is closed."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


def _remote_object_text(obj: dict[str, Any]) -> str:
    """A console argument (a CDP RemoteObject) as the console would show it, roughly."""
    if "value" in obj:
        value = obj["value"]
        return value if isinstance(value, str) else json.dumps(value)
    return str(obj.get("unserializableValue") or obj.get("description") or obj.get("type", ""))


def _location(url: str | None, line: int | None) -> str:
    if not url:
        return ""
    return f" ({url}:{line + 1})" if line is not None else f" ({url})"
