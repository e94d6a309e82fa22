"""`make dev` honours every documented variable (ARCHITECTURE.md "Configuration"): AWS_ENDPOINT_URL_DYNAMODB,
TELEGRAM_API_URL (a server's root or its /bot base), TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, MURMUR_ADMIN_IDS,
MURMUR_BOT_USERNAME, MURMUR_WEBAPP_URL; and its console says what a person needs."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from sandbox.fake_bot_api import FakeBotApi
from sandbox.local_stack import SANDBOX_BOT_TOKEN, SANDBOX_WEBHOOK_SECRET, LocalStack

ROOT = Path(__file__).resolve().parents[2]


def test_own_dynamodb_and_bot_api_replace_the_embedded_ones() -> None:
    own_dynamodb = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    own_dynamodb.start()
    host, port = own_dynamodb.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    own_bot_api = FakeBotApi(SANDBOX_BOT_TOKEN).start()
    try:
        with LocalStack(dynamodb_endpoint=endpoint, telegram_api_url=own_bot_api.base_url) as stack:
            assert stack.env["AWS_ENDPOINT_URL_DYNAMODB"] == endpoint
            code = stack.api("GET", "/api/me", user=1001).json()["link"]["code"]
            sent = stack.api("POST", f"/api/links/{code}/messages", user=1002, json={"text": "over there"})
            assert sent.status == 201
            client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
            tables = client.list_tables()["TableNames"]
            assert stack.env["MESSAGES_TABLE"] in tables
            stack.run_cron()  # the owner's announcement (ADR 0007)
            assert own_bot_api.calls("sendMessage", chat_id=1001)  # the notification went to our Bot API
            assert not stack.bot_api.calls("sendMessage")
    finally:
        own_bot_api.stop()
        own_dynamodb.stop()
        server = getattr(own_dynamodb, "_server", None)
        if server is not None:
            server.server_close()


# ---------------------------------------------------------------------- make dev, configured as production is
def _start_dev(env: dict[str, str]) -> tuple[subprocess.Popen[str], queue.Queue[str], str | None, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.dev"],
        cwd=ROOT,
        env={**os.environ, "PORT": "0", "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    output: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None and lines.empty():
                break
            continue
        output.append(line)
        if line.startswith("Murmur sandbox on "):
            return process, lines, line.split(" on ", 1)[1].strip(), output
    return process, lines, None, output


def _stop_dev(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def _http(url: str, method: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw.startswith(b"{") else raw


def test_make_dev_talks_to_another_bot_api_as_the_bot_it_is_given() -> None:
    token = "4242424242:AAH-another-bot-entirely-0123456789ab"
    other = FakeBotApi(token, bot_username="other_bot").start()
    root = other.base_url.removesuffix("/bot")  # the server's root, as a local telegram-bot-api documents it
    env = {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_URL": root,
        "TELEGRAM_WEBHOOK_SECRET": "another-secret-0123456789",
        "MURMUR_ADMIN_IDS": "1003",
        "MURMUR_BOT_USERNAME": "other_bot",
    }
    process, lines, url, output = _start_dev(env)
    try:
        assert url is not None, "".join(output)
        banner = "".join(output + _drain(lines, until="Ctrl-C to stop", seconds=10))
        assert token in banner and "@other_bot, admins 1003" in banner and f"{root}/bot" in banner
        update = _start_update(1002)
        wrong, _ = _http(url + "webhook", "POST", update, {"X-Telegram-Bot-Api-Secret-Token": SANDBOX_WEBHOOK_SECRET})
        assert wrong == 403  # the sandbox's own secret is not this stack's any more
        status, _ = _http(
            url + "webhook", "POST", update, {"X-Telegram-Bot-Api-Secret-Token": env["TELEGRAM_WEBHOOK_SECRET"]}
        )
        assert status == 200
        welcome = other.calls("sendMessage", chat_id=1002)
        assert welcome and "t.me/other_bot?startapp=" in str(welcome[-1].params)
        users = _http(url + "sandbox/users", "GET")[1]
        assert users["admin_ids"] == [1003]
        # The console says what happened, in lines a person reads; no JSON log records.
        seen = "".join(_drain(lines, until="→ 200", seconds=10))
        assert "POST /webhook → 403" in seen and "POST /webhook → 200" in seen
        assert '{"level"' not in seen
    finally:
        _stop_dev(process)
        other.stop()


def test_make_dev_refuses_a_bot_api_url_it_cannot_use_at_start() -> None:
    process, _, url, output = _start_dev({"TELEGRAM_API_URL": "http://127.0.0.1:9/bot123:ABC/"})
    try:
        assert url is None
        assert process.wait(timeout=30) != 0
        assert "TELEGRAM_API_URL" in "".join(output) and "without the token" in "".join(output)
    finally:
        _stop_dev(process)


def test_the_api_answers_an_undeclared_method_as_api_gateway_does() -> None:
    process, lines, url, output = _start_dev({})
    try:
        assert url is not None, "".join(output)
        # /webhook declares POST only: any other method is API Gateway's 404 JSON, not Python's HTML 501.
        for method in ("GET", "TRACE", "PROPFIND"):
            status, body = _http(url + "webhook", method)
            assert (status, body) == (404, {"message": "Not Found"}), method
        # ANY /api/{proxy+} takes every method to the function, which asks who is calling first.
        for method in ("TRACE", "PROPFIND"):
            assert _http(url + "api/me", method)[0] == 401, method
        assert _http(url + "index.html", "PROPFIND")[0] == 405  # the static site: not an API route
        # What the (embedded) bot says is on the console too.
        headers = {"X-Telegram-Bot-Api-Secret-Token": SANDBOX_WEBHOOK_SECRET}
        assert _http(url + "webhook", "POST", _start_update(1002), headers)[0] == 200
        seen = "".join(_drain(lines, until="bot → 1002", seconds=10))
        assert "bot → 1002: Welcome to Murmur" in seen and "GET /webhook → 404" in seen
    finally:
        _stop_dev(process)


def _drain(lines: queue.Queue[str], until: str, seconds: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.2))
        except queue.Empty:
            continue
        if until in seen[-1]:
            break
    return seen


def _start_update(user_id: int) -> dict[str, Any]:
    return {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Bob"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Bob", "language_code": "en"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
