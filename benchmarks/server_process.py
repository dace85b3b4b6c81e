"""Runs the test server in a child process, so its CPU never counts as the app's."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from tests.openai_server import OpenAIStyleServer, StreamReply


def _serve(conn: Connection) -> None:
    server = OpenAIStyleServer().start()
    conn.send(server.base_url)
    while True:
        command, argument = conn.recv()
        if command == "queue":
            server.queue(argument)
            conn.send(None)
        elif command == "last_chunk_at":
            conn.send(server.last_chunk_at)
        elif command == "stop":
            server.stop()
            conn.send(None)
            return


class ServerProcess:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.base_url: str = self._conn.recv()

    def _call(self, command: str, argument: Any = None) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def queue(self, reply: StreamReply) -> None:
        self._call("queue", reply)

    def last_chunk_at(self) -> float:
        return float(self._call("last_chunk_at"))

    def stop(self) -> None:
        self._call("stop")
        self._process.join(5)
