"""HTTP client of the sync protocol: one method per call, every failure a typed exception.

The classes of failure decide what the coordinator does: ``TransientError`` is retried with
backoff, ``EpochConflict`` starts a new epoch, ``AuthError`` and ``UpdateRequired`` stop syncing
with a message, any other ``RequestRejected`` is recorded and never retried blindly.
"""

from __future__ import annotations

from typing import Any

import requests
from pydantic import ValidationError

from common.protocol import (
    API_PREFIX,
    EnrollRequest,
    EnrollResponse,
    PullResponse,
    PushResponse,
)
from sync_agent import __version__

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read
EPOCH_CODES = frozenset({"epoch_conflict", "sequence_regressed"})


class SyncError(Exception):
    """Any failure talking to the portal; ``str()`` is a message a person can act on."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class TransientError(SyncError):
    """Network trouble, a timeout or a server error: try again later."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 retry_after: float | None = None):
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class AuthError(SyncError):
    """The portal does not accept this agent's token (revoked, or never valid)."""


class UpdateRequired(SyncError):
    """The portal no longer accepts this agent's schema version."""


class EpochConflict(SyncError):
    """The portal saw this agent's sequence go backwards: the local store was restored or copied."""


class RequestRejected(SyncError):
    """A 4xx answer that retrying the same request cannot fix."""


class TooLarge(RequestRejected):
    """The batch is bigger than the portal accepts."""


class EnrollmentError(RequestRejected):
    """The enrolment code was refused."""


class Client:
    """Talks to one portal; *token* is needed for everything except enrolment."""

    def __init__(self, portal_url: str, token: str | None = None, *,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 session: requests.Session | None = None) -> None:
        self.base = portal_url.rstrip("/") + API_PREFIX
        self.portal_url = portal_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = f"dealer-agent/{__version__}"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.session.close()

    def enroll(self, code: str, *, agent_name: str = "") -> EnrollResponse:
        body = EnrollRequest(code=code, agent_name=agent_name[:100], agent_version=__version__)
        try:
            return EnrollResponse.model_validate(self._call("POST", "/enroll", body.model_dump()))
        except RequestRejected as error:
            if error.status in (400, 404, 410):
                raise EnrollmentError(
                    f"The portal refused the enrolment code: {error.message} Ask your dealer "
                    "manager for a new code (codes work once and expire).",
                    status=error.status, code=error.code) from None
            raise

    def push(self, body: bytes) -> PushResponse:
        """POST a push request's JSON (a PushRequest's; see Coordinator._push_body)."""
        data = self._call("POST", "/sync/push", data=body,
                          headers={"Content-Type": "application/json"})
        return _parse(PushResponse, data)

    def new_epoch(self) -> int:
        data = self._call("POST", "/sync/epoch", {})
        try:
            return int(data["epoch"])
        except (KeyError, TypeError, ValueError):
            raise TransientError("The portal answered without an epoch number.") from None

    def pull(self, cursor: int, limit: int = 200) -> PullResponse:
        data = self._call("GET", "/sync/pull", params={"cursor": cursor, "limit": limit})
        return _parse(PullResponse, data)

    def verify(self) -> dict[str, dict[str, Any]]:
        data = self._call("GET", "/sync/verify")
        if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict):
            raise TransientError("The portal's verify answer has no 'kinds'.")
        return data["kinds"]

    def _call(self, method: str, path: str, json_body: Any = None, **kwargs: Any) -> Any:
        try:
            response = self.session.request(method, self.base + path, json=json_body,
                                            timeout=self.timeout, **kwargs)
            if response.ok:
                return response.json()
        except requests.Timeout:
            raise TransientError(f"The portal at {self.portal_url} did not answer in time."
                                 ) from None
        except requests.ConnectionError:
            raise TransientError(f"Cannot reach the portal at {self.portal_url} "
                                 "(offline, or the portal is down).") from None
        except (requests.RequestException, ValueError) as error:
            raise TransientError(f"The portal's answer was cut off or garbled ({error}).") from None
        raise classify(response)


def _parse(model, data: Any):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise TransientError(f"The portal's answer does not follow the protocol: {error}") from None


def _error_of(response: requests.Response) -> tuple[str | None, str]:
    try:
        error = response.json().get("error") or {}
        return error.get("code"), error.get("message") or response.reason
    except (ValueError, AttributeError):
        return None, (response.text[:200].strip() or response.reason or "no reason given")


def classify(response: requests.Response) -> SyncError:
    """Map an unsuccessful answer to the exception that says what to do about it."""
    status = response.status_code
    code, message = _error_of(response)
    kwargs = {"status": status, "code": code}
    if status == 401 or code in {"unauthorized", "token_revoked"}:
        why = ("This agent was revoked in the portal; enrol it again with "
               "`dealer-agent enroll --portal URL --code CODE`." if code == "token_revoked"
               else "The portal does not recognise this agent's token; enrol it again with "
                    "`dealer-agent enroll --portal URL --code CODE`.")
        return AuthError(f"{why} (portal said: {message})", **kwargs)
    if code == "unsupported_schema":
        return UpdateRequired("The portal no longer accepts this agent's data format: please "
                              f"update the agent (portal said: {message})", **kwargs)
    if code in EPOCH_CODES:
        return EpochConflict(message, **kwargs)
    if status >= 500 or status in (408, 425, 429):
        return TransientError(f"The portal is unavailable right now (HTTP {status}: {message}).",
                              retry_after=_retry_after(response), **kwargs)
    if status == 413 or code == "too_large":
        return TooLarge(f"The batch was too large for the portal ({message}).", **kwargs)
    return RequestRejected(f"The portal refused the request (HTTP {status}"
                           f"{', ' + code if code else ''}): {message}", **kwargs)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
