"""`make dev`: the whole stack on http://127.0.0.1:$PORT/ (default 8080), in one process.

One server serves the template's HTTP API routes (/api/*, /webhook) through the emulator,
the simulator's /sandbox/* JSON API, the simulator page at /simulator/, the real
telegram-web-app.js at /sdk/telegram-web-app.js, and static_site/ for everything else.
Ctrl-C or SIGTERM stops it cleanly with exit code 0.
"""

from __future__ import annotations

import argparse
import logging
import mimetypes
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import unquote

from sandbox.http_api import MAX_PAYLOAD_BYTES, HttpApiEmulator, HttpResponse
from sandbox.local_stack import FUNCTIONS_DIR, ROOT, LocalStack
from sandbox.simulator_api import PREFIX as SANDBOX_PREFIX
from sandbox.simulator_api import SimulatorApi

STATIC_DIR = ROOT / "static_site"
SIMULATOR_DIR = ROOT / "sandbox" / "simulator"
SDK_PATH = "/sdk/telegram-web-app.js"
SDK_FILE = ROOT / "node_modules" / "@twa-dev" / "sdk" / "dist" / "telegram-web-apps.js"

# Explicit types: the platform's mimetypes table may lack these or call .js "application/x-javascript",
# and browsers refuse ES modules served with a non-JavaScript type.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

_PLACEHOLDER = b"""<!doctype html><meta charset="utf-8"><title>Murmur simulator</title>
<p>The simulator page is not built yet. The JSON API is at <a href="/sandbox/users">/sandbox/users</a>.</p>
"""


def content_type(path: Path) -> str:
    return _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def resolve_static(root: Path, url_path: str) -> Path | None:
    """The file under `root` that `url_path` names, or None; never a path outside `root`."""
    relative = unquote(url_path).lstrip("/")
    if "\x00" in relative or "\\" in relative:
        return None
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        return None
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def _not_found() -> HttpResponse:
    return 404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n"


def _file(path: Path) -> HttpResponse:
    return 200, [("Content-Type", content_type(path)), ("Cache-Control", "no-store")], path.read_bytes()


class DevSite:
    """Decides which part of the sandbox answers a request; independent of the HTTP server."""

    def __init__(self, emulator: HttpApiEmulator, simulator: SimulatorApi) -> None:
        self.emulator = emulator
        self.simulator = simulator

    def serve(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str
    ) -> HttpResponse:
        path = target.partition("?")[0]
        if path.startswith(SANDBOX_PREFIX):
            return self.simulator.handle(method, target, body)
        if self.emulator.route_for(method, path) is not None:
            return self.emulator.invoke(method, target, headers, body, source_ip=client_ip)
        if method not in ("GET", "HEAD"):
            return (
                405,
                [("Content-Type", "text/plain; charset=utf-8"), ("Allow", "GET, HEAD")],
                b"Method Not Allowed\n",
            )
        if path == SDK_PATH:
            return _file(SDK_FILE) if SDK_FILE.is_file() else _not_found()
        if path == "/simulator":
            return 301, [("Location", "/simulator/")], b""
        if path.startswith("/simulator/"):
            if not SIMULATOR_DIR.is_dir():
                return 200, [("Content-Type", "text/html; charset=utf-8")], _PLACEHOLDER
            found = resolve_static(SIMULATOR_DIR, path[len("/simulator/") :])
            return _file(found) if found else _not_found()
        found = resolve_static(STATIC_DIR, path)
        return _file(found) if found else _not_found()


class _Handler(BaseHTTPRequestHandler):
    site: DevSite  # set on the subclass that `main` makes, once the stack is up
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        try:
            size = int(length) if length else 0
        except ValueError:
            size = -1
        if size < 0:
            self._send(400, [("Content-Type", "text/plain")], b"bad Content-Length\n")
            return
        if size > MAX_PAYLOAD_BYTES:
            self.close_connection = True
            self._send(413, [("Content-Type", "application/json")], b'{"message":"Request Entity Too Large"}')
            return
        body = self.rfile.read(size) if size else b""
        try:
            status, headers, data = self.site.serve(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
        except Exception:
            logging.getLogger("sandbox.dev").exception("%s %s failed", self.command, self.path)
            status, headers, data = 500, [("Content-Type", "text/plain; charset=utf-8")], b"sandbox error\n"
        self._send(status, headers, data)

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def log_message(self, format: str, *args: object) -> None:
        logging.getLogger("sandbox.dev").info("%s %s", self.address_string(), format % args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.dev", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--functions-dir", type=Path, default=FUNCTIONS_DIR, help="where the functions' app.py files are"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every DynamoDB call
    port = int(os.environ.get("PORT", "8080"))
    host = "127.0.0.1"
    # Bind first: with PORT=0 the real port is known only now, and the Mini App URL needs it.
    handler: type[_Handler] = type("DevHandler", (_Handler,), {})
    server = ThreadingHTTPServer((host, port), handler)
    port = server.server_address[1]
    url = f"http://{host}:{port}/"
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        # The ARCHITECTURE.md interface: your own DynamoDB or Bot API, when set, replaces the embedded one.
        with LocalStack(
            functions_dir=args.functions_dir,
            webapp_url=url,
            dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            telegram_api_url=os.environ.get("TELEGRAM_API_URL") or None,
        ) as stack:
            handler.site = DevSite(stack.emulator, SimulatorApi(stack))
            thread = threading.Thread(target=server.serve_forever, name="dev-server", daemon=True)
            thread.start()
            print(f"Murmur sandbox on {url}", flush=True)
            print(f"  simulator:      {url}simulator/", flush=True)
            print(f"  bot token:      {stack.bot_token}", flush=True)
            print(f"  webhook secret: {stack.webhook_secret}", flush=True)
            print(f"  DynamoDB:       {stack.dynamodb_endpoint}", flush=True)
            print(f"  Bot API:        {stack.env['TELEGRAM_API_URL']}", flush=True)
            print("Ctrl-C to stop.", flush=True)
            while not stopping.wait(0.5):
                pass
            server.shutdown()
            thread.join(timeout=10)
    finally:
        server.server_close()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
