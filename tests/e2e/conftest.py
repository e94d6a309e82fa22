"""Browser tests: `python -m sandbox.dev` in a subprocess on an ephemeral port, Debian's Chromium
driven by Playwright through the simulator page, so the real telegram-web-app.js runs in the frame.

A subprocess (not the in-process LocalStack) because the stack sets process-wide environment
variables that the functional tests' own stacks also set; it also exercises `make dev` itself.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SERVER_START_SECONDS = 60
ALICE, BOB, CARLA, DMITRI = 1001, 1002, 1003, 1004


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing on CI: `make e2e-deps` must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} is not installed (run `make e2e-deps`); browser tests skipped")


@dataclass
class DevServer:
    """The running `sandbox.dev` and a tiny HTTP client for test setup through the real API."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method, headers=sent)
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read() or b"null")

    def api_as(self, user_id: int, method: str, path: str, body: Any = None) -> Any:
        """Call /api/* as a demo user, with initData signed by the sandbox (as Telegram would sign it)."""
        init_data = self.request("GET", f"/sandbox/initdata?user={user_id}")["init_data"]
        return self.request(method, path, body, {"Authorization": f"tma {init_data}"})

    def link_code(self, user_id: int) -> str:
        return str(self.api_as(user_id, "GET", "/api/me")["link"]["code"])


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@pytest.fixture(scope="package")
def dev_server() -> Iterator[DevServer]:
    _require_chromium()
    env = {**os.environ, "PORT": "0", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    output: list[str] = []
    url = None
    deadline = time.monotonic() + SERVER_START_SECONDS
    while url is None and time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        output.append(line)
        if line.startswith("Murmur sandbox on "):
            url = line.split(" on ", 1)[1].strip()
    if url is None:
        process.kill()
        process.wait(timeout=10)
        _close_pipe(process, reader)
        pytest.fail("sandbox.dev did not start:\n" + "".join(output))
    server = DevServer(url=url, process=process, output=output)
    try:
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # the way Ctrl-C stops `make dev`
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        _close_pipe(process, reader)


def _close_pipe(process: subprocess.Popen[str], reader: threading.Thread) -> None:
    reader.join(timeout=10)  # the process has exited, so its stdout reaches EOF
    if process.stdout is not None:
        process.stdout.close()


# Package scope, not session: Playwright's sync API keeps an asyncio loop running in this thread while it
# is open, and the functional tests that run after the browser tests need the thread without one.
@pytest.fixture(scope="package")
def browser(dev_server: DevServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, dev_server: DevServer) -> Iterator[Any]:
    """A fresh simulator page; fails the test on any JavaScript dialog (alert/confirm/prompt)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=dev_server.url.rstrip("/"))
    simulator = context.new_page()
    simulator.set_default_timeout(10_000)
    dialogs: list[str] = []
    errors: list[str] = []

    def refuse_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    simulator.on("dialog", refuse_dialog)
    simulator.on("pageerror", lambda error: errors.append(str(error)))
    simulator.dialogs = dialogs  # read by the tests
    simulator.goto(dev_server.url + "simulator/")
    simulator.wait_for_selector("body[data-ready=true]")
    try:
        yield simulator
    finally:
        context.close()
    assert not dialogs, f"a page opened a JavaScript dialog: {dialogs}"
    assert not errors, f"uncaught errors in the page: {errors}"


def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
