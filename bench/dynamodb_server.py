"""moto's DynamoDB server in a process of its own, for the bench.

On AWS, DynamoDB runs on other machines. In one process, moto's server threads would take turns with the
handler under test for the interpreter lock (finishing a response, logging, closing the connection), and
that waiting would be booked as the handler's own time. Run apart, the only thing shared is loopback."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

READY_WITHIN_S = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def dynamodb_server() -> Iterator[str]:
    """Start `python -m moto.server` on a free loopback port; yields its endpoint URL."""
    port = _free_port()
    process = subprocess.Popen(
        # The cyclic GC off: moto copies whole tables on every transaction (acyclic, freed by reference
        # counting), and GC passes over 10,000 copied users made a transaction outlast the functions'
        # 5 s read timeout; botocore's retry then met the first attempt's write (moto ignores
        # ClientRequestToken, which makes that retry idempotent on DynamoDB).
        [
            sys.executable,
            "-c",
            "import gc, sys; gc.disable(); from moto.server import main; sys.exit(main())",
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto's server exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto's server did not start listening") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
