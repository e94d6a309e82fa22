"""moto's server on loopback, started and stopped cleanly: the local stack's DynamoDB and SSM, and the tests'."""

from __future__ import annotations

import logging

from moto.server import ThreadedMotoServer

from sandbox.lifecycle import Service


class MotoServer(Service):
    """`with MotoServer() as moto: moto.url`. One process keeps one moto state: servers in one process share
    their tables and parameters, so each user names its own (the stack prefixes its tables and secrets)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: ThreadedMotoServer | None = None

    def start(self) -> MotoServer:
        if self._server is not None:
            raise RuntimeError("this MotoServer is already started")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
        self._server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        self._server.start()
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the MotoServer is not started")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        # ThreadedMotoServer.stop() leaves the listening socket open.
        inner = getattr(server, "_server", None)
        if inner is not None:
            inner.server_close()
