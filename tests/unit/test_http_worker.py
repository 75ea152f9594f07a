"""The buffering worker's event loop on its own: a request reaches the thread pool only once all of
it is in, whatever pieces it arrives in, and gunicorn's parser then reads it without the socket;
whatever bytes arrive, a connection is waited on, handed on or answered, never lost track of.

Real sockets (a socket pair) and gunicorn's real parser; the thread pool is a recorder. The
real server's behaviour with slow clients is tested in tests/security/test_slow_clients.py.
"""

from __future__ import annotations

import itertools
import logging
import os
import selectors
import socket
from concurrent.futures import Future
from contextlib import contextmanager

import pytest
from gunicorn.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import http_worker
from portal.http_worker import BufferingWorker, _Connection

GET = b"GET /login HTTP/1.1\r\nHost: portal\r\n\r\n"
POST = b"POST /api HTTP/1.1\r\nHost: portal\r\nContent-Length: 11\r\n\r\nhello world"
CHUNKED = (b"POST /api HTTP/1.1\r\nHost: portal\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;note=x\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")


class _Pool:
    """Stands in for the thread pool: remembers what was submitted."""

    def __init__(self) -> None:
        self.submitted: list[_Connection] = []

    def submit(self, _handle, conn) -> Future:
        self.submitted.append(conn)
        return Future()


@contextmanager
def _worker():
    worker = BufferingWorker(0, os.getpid(), [], None, 30, Config(), logging.getLogger("test"))
    worker.poller = selectors.DefaultSelector()
    worker.tpool = _Pool()
    worker.max_body = 1000
    try:
        yield worker
    finally:
        worker.poller.close()
        worker.tmp.close()


@contextmanager
def _accepted(worker: BufferingWorker):
    """A connection as the worker accepted it, and the client's end of it."""
    server_end, client_end = socket.socketpair()
    conn = _Connection(worker.linger, worker.cfg, server_end, ("127.0.0.1", 50000), ("", 8000))
    worker.nr_conns += 1
    worker.enqueue_req(conn)
    with server_end, client_end:
        yield conn, client_end


@pytest.fixture
def worker():
    with _worker() as worker:
        yield worker


@pytest.fixture
def connection(worker):
    with _accepted(worker) as accepted:
        yield accepted


def _deliver(worker: BufferingWorker, client: socket.socket, data: bytes) -> None:
    client.sendall(data)
    while events := worker.poller.select(0):
        for key, _ in events:
            key.data(key.fileobj)


@pytest.mark.parametrize("request_bytes", [GET, POST, CHUNKED], ids=["get", "length", "chunked"])
def test_a_request_sent_byte_by_byte_reaches_a_thread_with_its_last_byte(worker, connection,
                                                                          request_bytes):
    conn, client = connection
    for i in range(len(request_bytes) - 1):
        _deliver(worker, client, request_bytes[i:i + 1])
    assert worker.tpool.submitted == []
    _deliver(worker, client, request_bytes[-1:])
    request = next(conn.parser)  # the socket is empty and non-blocking: any read would raise
    assert worker.tpool.submitted == [conn]
    assert request.body.read() == (b"" if request_bytes is GET else b"hello world")


@st.composite
def _requests(draw) -> tuple[bytes, bytes]:
    """A well-formed request (no body, Content-Length or chunked) and its body."""
    body = draw(st.binary(max_size=40))
    framing = draw(st.sampled_from(["none", "length", "chunked"]))
    head = b"POST /api HTTP/1.1\r\nHost: portal\r\n" + draw(st.sampled_from(
        [b"", b"Expect: 100-continue\r\n", b"X-Long: " + b"y" * 300 + b"\r\n"]))
    if framing == "none":
        return head + b"\r\n", b""
    if framing == "length":
        return head + b"Content-Length: %d\r\n\r\n" % len(body) + body, body
    cuts = sorted(draw(st.lists(st.integers(1, max(len(body) - 1, 1)), max_size=3)))
    pieces = [body[a:b] for a, b in itertools.pairwise([0, *cuts, len(body)]) if body[a:b]]
    extension = draw(st.sampled_from([b"", b";note=x", b" ;note=x"]))
    chunks = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in pieces)
    last = b"0\r\n" + draw(st.sampled_from([b"", b"X-Trailer: 1\r\n"])) + b"\r\n"
    return head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + last, body


@settings(max_examples=300, deadline=None, database=None)
@given(request=_requests(), missing=st.integers(0, 2) | st.integers(0, 500),
       splits=st.lists(st.integers(0, 500), max_size=3))
def test_a_request_reaches_a_thread_exactly_when_its_last_byte_does(request, missing, splits):
    data, body = request
    arrived = data[:max(len(data) - missing, 0)]
    with _worker() as worker, _accepted(worker) as (conn, client):
        for start, end in itertools.pairwise([0, *sorted(splits), len(arrived)]):
            _deliver(worker, client, arrived[start:end])
        assert worker.tpool.submitted == ([conn] if arrived == data else [])
        if arrived == data:  # the socket is empty and non-blocking: any read would raise
            assert next(conn.parser).body.read() == body


def test_a_pipelined_request_is_read_from_what_the_first_left(worker, connection):
    conn, client = connection
    _deliver(worker, client, GET + POST)
    first = next(conn.parser)
    worker.enqueue_req(conn)  # what gthread does after an answer, when bytes are left over
    second = next(conn.parser)
    assert worker.tpool.submitted == [conn, conn]
    assert (first.method, second.method, second.body.read()) == ("GET", "POST", b"hello world")


def test_requests_past_the_buffer_budget_get_503(worker, connection, monkeypatch):
    monkeypatch.setattr(http_worker, "BUFFER_BUDGET", 500)
    conn, client = connection
    _deliver(worker, client, b"POST /api HTTP/1.1\r\nContent-Length: 900\r\n\r\n" + b"x" * 600)
    assert client.recv(1024).startswith(b"HTTP/1.1 503 ")
    assert worker.tpool.submitted == [] and worker.held == 0 and conn in worker.lingering


_START = st.sampled_from([b"GET / HTTP/1.1\r\n", b"POST /api HTTP/1.1\r\n",
                          b"POST /api HTTP/1.0\r\n", b"\r\nPOST /api HTTP/1.1\r\n"])
_FIELDS = st.lists(st.sampled_from([
    b"Host: x\r\n", b"Content-Length: 5\r\n", b"Content-Length: 2000\r\n",
    b"Content-Length: 5x\r\n", b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n", b"Expect: 100-continue\r\n", b"X: y\n"]), max_size=4)
_BODY = st.lists(st.sampled_from([
    b"5\r\nhello\r\n", b"5;x=1 \r\nhello\r\n", b"3\r\n", b"hel", b"lo", b"\r\n", b"0\r\n",
    b"zz\r\n", b"X: y\r\n", b"GET / HTTP/1.1\r\n\r\n"]) | st.binary(max_size=6), max_size=6)
_REQUESTS = st.tuples(_START, _FIELDS.map(b"".join), st.sampled_from([b"\r\n", b""]),
                      _BODY.map(b"".join)).map(b"".join)


@settings(max_examples=300, deadline=None, database=None)
@given(data=_REQUESTS, cuts=st.lists(st.integers(0, 200), max_size=4))
def test_whatever_arrives_the_worker_waits_hands_on_or_answers(data, cuts):
    with _worker() as worker, _accepted(worker) as (conn, client):
        for start, end in itertools.pairwise([0, *sorted(cuts), len(data)]):
            _deliver(worker, client, data[start:end])
        fates = [conn in worker.incoming, conn in worker.tpool.submitted, conn in worker.lingering]
        assert fates.count(True) == 1 and worker.nr_conns == (0 if fates[2] else 1), fates
        assert worker.held == sum(len(incoming.data) for incoming in worker.incoming.values())
        if fates[1]:
            _parse_without_the_socket(conn)


def _parse_without_the_socket(conn: _Connection) -> None:
    """What a thread gets parses from the buffer alone (the socket is empty and non-blocking)."""
    try:
        request = next(conn.parser)
        if not conn.close_after:  # handed on early: the app refuses the body or gunicorn the head
            request.body.read()
    except BlockingIOError:
        pytest.fail("the thread would have waited for the client")
    except Exception:  # gunicorn refusing a malformed request is an answer too
        pass


class _Spawned:
    """What the master knows of a worker it forks: the board gives it a slot."""


def test_the_load_board_gives_each_live_worker_its_own_slot():
    board = http_worker.LoadBoard(slots=3)
    first, second, third, fourth = (_Spawned() for _ in range(4))
    board.assign(first, [])
    board.assign(second, [first])
    board.assign(third, [first, second])
    board.assign(fourth, [first, second, third])  # no slot left: not balanced, not refused
    assert (first.board_slot, second.board_slot, third.board_slot) == (0, 1, 2)
    assert not hasattr(fourth, "board")
    board.assign(fourth, [first, third])  # `second` has exited: its slot is free again
    assert fourth.board_slot == 1


def test_the_load_board_reports_the_fewest_connections_of_the_other_live_workers(monkeypatch):
    board = http_worker.LoadBoard(slots=3)
    assert board.fewest_elsewhere(0) == float("inf")  # alone
    board.publish(0, 5)
    board.publish(1, 3)
    board.publish(2, 7)
    assert board.fewest_elsewhere(0) == 3
    assert board.fewest_elsewhere(1) == 5
    board.clear(1)  # exited
    assert board.fewest_elsewhere(0) == 7
    later = http_worker.time.monotonic() + http_worker.HEARTBEAT_STALE + 1
    monkeypatch.setattr(http_worker.time, "monotonic", lambda: later)
    assert board.fewest_elsewhere(0) == float("inf")  # slot 2 hung: ignored
