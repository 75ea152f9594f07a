"""The fault proxy against a small loopback HTTP server: each fault does what it says."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.chaos.faultproxy import FaultProxy, FaultRates

RESULTS = {"results": [{"outcome": "applied"}, {"outcome": "duplicate"}]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        size = int(self.headers["Content-Length"])
        body = self.rfile.read(size)
        if len(body) == size:  # a cut request never counts as received
            self.server.received.append(body)
        answer = json.dumps(RESULTS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    with FaultProxy(upstream.server_port, seed=7, max_seconds=60) as proxy:
        proxy.listen("a")
        yield proxy


def post(proxy: FaultProxy, session: requests.Session | None = None,
         n: int = 1) -> requests.Response:
    return (session or requests).post(proxy.url("a") + "/api/v1/sync/push", json={"n": n},
                                      timeout=5)


def test_calm_proxy_relays_requests_on_one_kept_alive_connection(proxy, upstream):
    with requests.Session() as session:
        answers = [post(proxy, session).json() for _ in range(3)]
    assert answers == [RESULTS] * 3 and len(upstream.received) == 3
    stats = proxy.stats()
    assert (stats.connections, stats.requests, sum(stats.faults.values())) == (1, 3, 0)
    assert stats.push_outcomes == {"applied": 3, "duplicate": 3}


@pytest.mark.parametrize(("fault", "reaches_server"), [
    ("drop", False), ("cut_request", False), ("swallow", True), ("cut_response", True),
])
def test_a_failing_fault_breaks_the_exchange(proxy, upstream, fault, reaches_server):
    proxy.set_rates(FaultRates(**{fault: 1.0}))
    with pytest.raises(requests.RequestException):  # a cut header block reads as an empty body
        post(proxy).json()
    time.sleep(0.2)  # let the server finish what it was given
    assert len(upstream.received) == int(reaches_server)
    assert proxy.stats().faults == {fault: 1}


def test_injected_5xx_never_reaches_the_server(proxy, upstream):
    proxy.set_rates(FaultRates(error_5xx=1.0))
    answers = [post(proxy) for _ in range(4)]
    assert {a.status_code for a in answers} <= {502, 503} and upstream.received == []
    assert "fault proxy" in answers[0].text and proxy.stats().faults == {"error_5xx": 4}


def test_delay_holds_a_request_then_forwards_it(proxy, upstream):
    proxy.set_rates(FaultRates(delay=1.0, max_delay=0.3))
    started = time.monotonic()
    assert post(proxy).json() == RESULTS
    assert time.monotonic() - started >= 0.05 and len(upstream.received) == 1


def test_hold_keeps_the_answer_until_released(proxy, upstream):
    hold = proxy.hold_next("a", lambda path, body: json.loads(body)["n"] == 2)
    assert post(proxy).ok  # n=1 passes
    result = {}
    thread = threading.Thread(target=lambda: result.update(error=_try_post(proxy, n=2)))
    thread.start()
    assert hold.reached.wait(5) and len(upstream.received) == 2 and hold.body == b'{"n": 2}'
    assert proxy.in_flight() == 0  # the server has answered; only the client waits
    assert thread.is_alive()  # the server answered, the client has not heard yet
    hold.release()
    thread.join(5)
    assert result == {"error": None}  # then the answer goes on


def test_a_cancelled_hold_holds_nothing(proxy):
    proxy.hold_next("a")
    proxy.cancel_hold("a")
    assert post(proxy).ok


def _try_post(proxy: FaultProxy, n: int = 1) -> Exception | None:
    try:
        post(proxy, n=n)
    except requests.RequestException as error:
        return error
    return None


def test_mixed_rates_follow_the_seed(upstream):
    def run() -> dict:
        rates = dataclasses.replace(FaultRates.chaos(2), max_delay=0.1)
        with FaultProxy(upstream.server_port, seed=3, rates=rates) as proxy:
            proxy.listen("a")
            for _ in range(40):
                _try_post(proxy)
            return dict(proxy.stats().faults)

    first = run()
    assert first == run() and len(first) >= 4


def test_proxy_stops_by_itself(upstream):
    with FaultProxy(upstream.server_port, max_seconds=0.3) as proxy:
        proxy.listen("a")
        assert proxy.stopped.wait(5)
        with pytest.raises(requests.ConnectionError):
            post(proxy)


@pytest.mark.parametrize("kwargs", [{"host": "0.0.0.0"}, {"upstream_host": "10.0.0.1"}])
def test_proxy_refuses_anything_but_loopback(kwargs):
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(8000, **kwargs)


def test_rates_cannot_add_up_to_more_than_one():
    with pytest.raises(ValueError, match="at most 1"):
        FaultRates(drop=0.6, swallow=0.6)
