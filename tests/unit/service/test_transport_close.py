"""The worker class (service/transport.py): how it closes a connection after its last
answer (never by lingering on the calling thread, which in gunicorn is the worker's event
loop), and where it takes its keep-alive limit (what ``serve`` says of another worker
class: test_gunicorn_check.py)."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from service import transport
from service.transport import close_without_stalling
from tests.helpers import make_test_app


def _parser(buffered: bytes = b"") -> SimpleNamespace:
    """What the close reads of gunicorn's HTTP/1 parser: the bytes it has buffered."""
    return SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO(buffered)))


@dataclass
class _Conn:
    """The parts of gunicorn's TConn the close reads, with its close() recorded."""

    sock: socket.socket
    parser: Any
    closes: list[tuple[bool, str]] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)

    def close(self, graceful: bool = False) -> None:
        self.closes.append((graceful, threading.current_thread().name))
        self.sock.close()
        self.closed.set()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, client = socket.socketpair()
    yield ours, client
    client.close()
    ours.close()


def test_nothing_unread_closes_at_once_on_the_calling_thread(
        pair: tuple[socket.socket, socket.socket]) -> None:
    conn = _Conn(pair[0], _parser())
    close_without_stalling(conn)
    assert conn.closes == [(False, threading.current_thread().name)]
    assert pair[1].recv(1) == b""  # the client sees the close


@pytest.mark.parametrize("unread", ["in-the-socket", "in-the-parser"])
def test_unread_bytes_get_the_lingering_close_on_another_thread(
        pair: tuple[socket.socket, socket.socket], unread: str) -> None:
    ours, client = pair
    if unread == "in-the-socket":
        client.sendall(b"GET /next HTTP/1.1\r\n\r\n")  # a pipelined request
        parser = _parser()
    else:
        parser = _parser(b"GET /next HTTP/1.1\r\n")
    conn = _Conn(ours, parser)
    close_without_stalling(conn)
    assert conn.closed.wait(5)
    [(graceful, thread)] = conn.closes
    assert graceful and thread != threading.current_thread().name


def test_a_parser_it_cannot_read_gets_the_lingering_close_too(
        pair: tuple[socket.socket, socket.socket]) -> None:
    conn = _Conn(pair[0], parser=object())  # no unreader: another protocol's parser
    close_without_stalling(conn)
    assert conn.closed.wait(5)
    [(graceful, thread)] = conn.closes
    assert graceful and thread != threading.current_thread().name


def test_the_keep_alive_limit_is_the_apps_setting_when_it_has_one() -> None:
    """The worker reads the limit from the app it serves, so that a gunicorn configuration
    other than the project's keeps it; an app without the service's settings (the
    benchmarks' bare Flask app) gets the module's default."""
    app = make_test_app(keepalive_requests=7)
    assert transport.keepalive_limit(app) == 7
    assert transport.keepalive_limit(make_test_app(keepalive_requests=0)) == 0
    assert transport.keepalive_limit(Flask("bare")) == transport.KEEPALIVE_REQUESTS
    assert transport.keepalive_limit(object()) == transport.KEEPALIVE_REQUESTS
