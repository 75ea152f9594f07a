"""Slow clients hold no thread of the real server (`dealer-portal serve`: gunicorn with
portal.http_worker.BufferingWorker, 1 worker x 1 thread here: serve's default on SQLite) on
loopback.

The worker reads every request in its event loop and gives it to a thread only once it is
complete, so 20 clients trickling their headers, or a body, leave a normal request answered
within a second; one that stalls past its deadline (shortened here with
DEALER_PORTAL_REQUEST_TIMEOUT) is answered 408 and closed, and a client that never closes its side
after its answer holds nothing either. Keep-alive, pipelined requests, bodies framed by
Content-Length or chunked or sent after `Expect: 100-continue`, the 413 for an oversized body,
malformed requests refused at once (not at the deadline) and a graceful stop still work through
the worker. Its event loop on its own is tested in tests/unit/test_http_worker.py.
"""

from __future__ import annotations

import http.client
import signal
import socket
import time

import pytest
import requests

from tests.served import serve

SLOW_CLIENTS = 20  # twenty times the one thread of the one worker
ENROLL = "/api/v1/enroll"
ENROLL_BODY = b'{"code": "no-such-code", "agent_name": "pc"}'  # answered 400 enrollment_invalid
LIMIT = 8 * 1024 * 1024  # the portal's MAX_CONTENT_LENGTH


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    served = serve(tmp_path_factory.mktemp("portal"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def impatient_portal(tmp_path_factory):
    """A portal that gives a request one second to arrive."""
    served = serve(tmp_path_factory.mktemp("impatient"), DEALER_PORTAL_REQUEST_TIMEOUT="1")
    yield served
    served.stop()


def _connect(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(data)
    return sock


def _slow_headers(port: int) -> socket.socket:
    return _connect(port, b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")


def _slow_body(port: int) -> socket.socket:
    return _connect(port, b"POST " + ENROLL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")


def _read_to_end(sock: socket.socket) -> bytes:
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def _unanswered(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return not sock.recv(1)  # b"": closed
    except BlockingIOError:
        return True


@pytest.mark.parametrize("start", [_slow_headers, _slow_body], ids=["headers", "body"])
def test_slow_clients_do_not_hold_up_other_requests(portal, start):
    slow = [start(portal.port) for _ in range(SLOW_CLIENTS)]
    try:
        time.sleep(0.5)
        for sock in slow:
            sock.sendall(b" ")  # still trickling, never finishing
        started = time.monotonic()
        response = requests.get(f"{portal.url}/login", timeout=10)
        elapsed = time.monotonic() - started
        still_waiting = [_unanswered(sock) for sock in slow]
    finally:
        for sock in slow:
            sock.close()
    assert response.status_code == 200 and elapsed < 1.0, elapsed
    assert all(still_waiting)  # held by the worker's event loop, not refused


@pytest.mark.parametrize("start", [_slow_headers, _slow_body], ids=["headers", "body"])
def test_a_client_stalled_past_its_deadline_gets_408_and_is_closed(impatient_portal, start):
    started = time.monotonic()
    with start(impatient_portal.port) as sock:
        answer = _read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 1.0 <= time.monotonic() - started < 5.0


def test_a_client_that_never_closes_after_its_answer_holds_nothing_up(portal):
    last = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    silent = [_connect(portal.port, last) for _ in range(5)]  # gthread: 2 s each, one by one
    try:
        time.sleep(0.3)
        started = time.monotonic()
        response = requests.get(f"{portal.url}/login", timeout=30)
        elapsed = time.monotonic() - started
    finally:
        for sock in silent:
            sock.close()
    assert response.status_code == 200 and elapsed < 1.0, elapsed


def test_keepalive_requests_share_one_connection(portal):
    connection = http.client.HTTPConnection("127.0.0.1", portal.port, timeout=5)
    answers = []
    for _ in range(3):
        connection.request("GET", "/login")
        response = connection.getresponse()
        answers.append((response.status, response.read().count(b"<form") > 0,
                        connection.sock.getsockname()))
    connection.close()
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert all(form for _, form, _ in answers) and len({port for _, _, port in answers}) == 1


def test_pipelined_requests_are_all_answered(portal):
    post = (b"POST " + ENROLL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(ENROLL_BODY))
    get = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with _connect(portal.port, post + ENROLL_BODY + get) as sock:
        answer = _read_to_end(sock)
    first, _, second = answer.partition(b"HTTP/1.1 200 OK\r\n")
    assert first.startswith(b"HTTP/1.1 400 ") and b"enrollment_invalid" in first
    assert b"<form" in second


@pytest.mark.parametrize("body", [ENROLL_BODY, iter([ENROLL_BODY[:10], ENROLL_BODY[10:]])],
                         ids=["content-length", "chunked"])
def test_a_request_body_reaches_the_app(portal, body):
    response = requests.post(f"{portal.url}{ENROLL}", data=body, timeout=10,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "enrollment_invalid"


def test_a_body_sent_after_100_continue_reaches_the_app(portal):
    head = (b"POST " + ENROLL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(ENROLL_BODY))
    with _connect(portal.port, head) as sock:
        interim = sock.recv(1024)
        sock.sendall(ENROLL_BODY)
        answer = _read_to_end(sock)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"  # once: from the worker, not again
    assert answer.startswith(b"HTTP/1.1 400 ") and b"enrollment_invalid" in answer


def test_a_request_trickled_in_pieces_is_served(impatient_portal):
    pieces = [b"POST " + ENROLL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n",
              b"Content-Type: application/json\r\nConnection: close\r\n",
              b"Transfer-Encoding: chunked\r\n\r\n5\r\n" + ENROLL_BODY[:5],
              b"\r\n%x\r\n" % (len(ENROLL_BODY) - 5) + ENROLL_BODY[5:] + b"\r\n0\r\n\r\n"]
    with _connect(impatient_portal.port, pieces[0]) as sock:
        for piece in pieces[1:]:
            time.sleep(0.2)  # 0.6 s in all: within the one-second deadline
            sock.sendall(piece)
        answer = _read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"enrollment_invalid" in answer


_POST_HEAD = b"POST " + ENROLL.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /login HTTP/1.1\nHost: 127.0.0.1\n\n", b"400"),
    (_POST_HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", b"400"),
    (_POST_HEAD + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\n", b"400"),
    (_POST_HEAD + b"Transfer-Encoding: gzip\r\n\r\n", b"400"),
    (b"GET /" + b"a" * 5000, b"414"),
    (b"GET /login HTTP/1.1\r\n" + b"X-Big: " + b"b" * (1024 * 1024) + b"\r\n", b"431"),
], ids=["bare-lf", "length-and-chunked", "two-lengths", "gzip-only", "long-line", "huge-head"])
def test_a_malformed_request_is_refused_at_once(portal, request_bytes, status):
    with _connect(portal.port, request_bytes) as sock:
        sock.settimeout(5)  # the deadline is 10 s: the answer must not wait for it
        answer = sock.recv(1024)
    assert answer.startswith(b"HTTP/1.1 " + status + b" ")


def test_an_oversized_body_gets_the_apps_413(portal):
    response = requests.post(f"{portal.url}{ENROLL}", data=b"x" * (LIMIT + 1), timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"]


def test_an_oversized_chunked_body_gets_413(portal):
    chunks = iter([b"x" * (LIMIT // 4)] * 5)  # refused by the worker once the chunks pass the limit
    response = requests.post(f"{portal.url}{ENROLL}", data=chunks, timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_stop_waits_for_requests_on_their_way_but_not_for_slow_clients(tmp_path):
    served = serve(tmp_path, DEALER_PORTAL_REQUEST_TIMEOUT="1")
    slow = _slow_headers(served.port)
    with slow, _connect(served.port, b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n") as arriving:
        time.sleep(0.3)
        served.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        arriving.sendall(b"\r\n")  # the request completes after the stop began
        started = time.monotonic()
        status = served.process.wait(timeout=30)
        stopped_in = time.monotonic() - started
        answers = _read_to_end(arriving), _read_to_end(slow)
    assert status == 0 and stopped_in < 5.0, stopped_in
    assert answers[0].startswith(b"HTTP/1.1 200 OK") and answers[1].startswith(b"HTTP/1.1 408 ")
