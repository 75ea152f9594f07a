"""The agent's HTTP client maps each kind of answer to what the coordinator must do about it."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync_agent.client import (
    AuthError,
    Client,
    EnrollmentError,
    EpochConflict,
    RequestRejected,
    TooLarge,
    TransientError,
    UpdateRequired,
)


class Canned(BaseHTTPRequestHandler):
    answer: tuple[int, bytes, dict[str, str], float] = (200, b"{}", {}, 0.0)

    def _reply(self) -> None:
        status, body, headers, delay = self.server.answer
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        time.sleep(delay)
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout test)

    do_GET = do_POST = _reply

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Canned)
    httpd.answer, httpd.seen = (200, b"{}", {}, 0.0), []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def answer(server, status: int, code: str | None = None, headers=None, delay=0.0, body=None):
    if body is None:
        body = json.dumps({"error": {"code": code, "message": f"{code} said"}}).encode()
    server.answer = (status, body, headers or {}, delay)
    return Client(f"http://127.0.0.1:{server.server_port}", "tok", timeout=(2, 0.5))


@pytest.mark.parametrize("status, code, error", [
    (401, "token_revoked", AuthError),
    (401, "unauthorized", AuthError),
    (422, "unsupported_schema", UpdateRequired),
    (409, "epoch_conflict", EpochConflict),
    (409, "sequence_regressed", EpochConflict),
    (500, "internal", TransientError),
    (503, None, TransientError),
    (429, "slow_down", TransientError),
    (413, "too_large", TooLarge),
    (400, "bad_request", RequestRejected),
    (403, "forbidden", RequestRejected),
])
def test_answers_are_classified(server, status, code, error):
    with pytest.raises(error) as caught:
        answer(server, status, code).pull(0)
    assert caught.value.status == status and not (
        error is RequestRejected and isinstance(caught.value, TransientError))


def test_revoked_agent_is_told_to_enrol_again(server):
    with pytest.raises(AuthError, match="revoked in the portal; enrol it again"):
        answer(server, 401, "token_revoked").verify()


def test_retry_after_is_read(server):
    with pytest.raises(TransientError) as caught:
        answer(server, 429, "busy", headers={"Retry-After": "17"}).pull(0)
    assert caught.value.retry_after == 17


@pytest.mark.parametrize("body", [b"not json", b'{"changes": "nope"}'])
def test_garbled_success_is_transient(server, body):
    with pytest.raises(TransientError):
        answer(server, 200, body=body).pull(0)


def test_timeout_is_transient(server):
    with pytest.raises(TransientError, match="did not answer in time"):
        answer(server, 200, body=b"{}", delay=1.5).verify()


def test_unreachable_portal_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError, match="Cannot reach"):
        Client(f"http://127.0.0.1:{port}", "tok").pull(0)


def test_bad_enrolment_code_says_what_to_do(server):
    with pytest.raises(EnrollmentError, match="new code"):
        answer(server, 400, "enrollment_invalid").enroll("ABCD-1234")


def test_token_is_sent_as_bearer(server):
    answer(server, 200, body=b'{"changes": [], "cursor": 5, "more": false}').pull(5, 10)
    method, path, headers = server.seen[-1]
    assert path == "/api/v1/sync/pull?cursor=5&limit=10" and headers["Authorization"] == (
        "Bearer tok")
