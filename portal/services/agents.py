"""Enrolment codes, agent tokens, revocation and the agents overview."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from portal.models import Agent, AuditLog, Dealer, Enrollment, SyncRejection, utcnow

# No 0/O, 1/I/L: a code read out over the phone is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
DEFAULT_CODE_HOURS = 24
MAX_CODE_HOURS = 24 * 7
SILENT_AFTER = dt.timedelta(hours=24)


class EnrollmentError(ValueError):
    """An enrolment code cannot be used; the message says why (English, for the API)."""


@dataclass(frozen=True)
class IssuedCode:
    code: str  # grouped for display, e.g. "ABCDE-FGHJK"
    expires_at: dt.datetime
    dealer: Dealer


@dataclass(frozen=True)
class EnrolledAgent:
    agent: Agent
    token: str  # shown to the agent once; only its hash is stored
    dealer_code: str


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_code(code: str) -> str:
    """Upper-case the code and drop the spaces and dashes people type."""
    return "".join(c for c in code.upper() if c.isalnum())


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def group_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def issue_enrollment(
    *, session: Session, dealer: Dealer, hours: int = DEFAULT_CODE_HOURS,
    user_id: int | None = None, actor: str = "", now: dt.datetime | None = None,
) -> IssuedCode:
    """Create a one-time enrolment code for *dealer*; only its hash is stored."""
    if not 1 <= hours <= MAX_CODE_HOURS:
        raise ValueError(f"a code is valid between 1 and {MAX_CODE_HOURS} hours (got {hours})")
    now = now or utcnow()
    code = new_code()
    expires_at = now + dt.timedelta(hours=hours)
    session.add(Enrollment(dealer_id=dealer.id, code_hash=sha256(code), expires_at=expires_at,
                           created_by=user_id, created_at=now))
    audit(session, dealer_id=dealer.id, user_id=user_id, actor=actor,
          action="enrollment.issued", target=dealer.code, detail={"expires_at": str(expires_at)})
    return IssuedCode(group_code(code), expires_at, dealer)


def enroll(
    *, session: Session, code: str, agent_name: str, agent_version: str,
    now: dt.datetime | None = None,
) -> EnrolledAgent:
    """Exchange a one-time code for a new agent and its token (session must see all dealers)."""
    now = now or utcnow()
    enrollment = session.exec(
        select(Enrollment).where(Enrollment.code_hash == sha256(normalize_code(code)))
    ).first()
    _check_usable(enrollment, now)
    agent = Agent(dealer_id=enrollment.dealer_id, name=agent_name or "agent",
                  agent_version=agent_version, token_hash="", created_at=now)
    token = secrets.token_urlsafe(32)
    agent.token_hash = sha256(token)
    _claim(session, enrollment, agent.id, now)
    session.add(agent)
    dealer = session.get(Dealer, enrollment.dealer_id)
    audit(session, dealer_id=dealer.id, actor=agent.name, action="agent.enrolled",
          target=str(agent.id), detail={"agent_version": agent_version})
    return EnrolledAgent(agent, token, dealer.code)


def _check_usable(enrollment: Enrollment | None, now: dt.datetime) -> None:
    if enrollment is None:
        raise EnrollmentError("This enrolment code is unknown; check it or ask for a new one.")
    if enrollment.used_at is not None:
        raise EnrollmentError("This enrolment code was already used; ask for a new one.")
    if _aware(enrollment.expires_at) <= now:
        raise EnrollmentError("This enrolment code has expired; ask for a new one.")


def _claim(session: Session, enrollment: Enrollment, agent_id: uuid.UUID, now) -> None:
    """Mark the code used; a conditional update so two agents cannot share one code."""
    result = session.execute(
        update(Enrollment)
        .where(Enrollment.dealer_id == enrollment.dealer_id, Enrollment.id == enrollment.id,
               Enrollment.used_at.is_(None))
        .values(used_at=now, agent_id=agent_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise EnrollmentError("This enrolment code was already used; ask for a new one.")


def agent_for_token(*, session: Session, token: str) -> Agent | None:
    """The agent holding *token*, revoked or not (session must see all dealers)."""
    if not token:
        return None
    return session.exec(select(Agent).where(Agent.token_hash == sha256(token))).first()


def revoke(*, session: Session, agent: Agent, user_id: int | None, actor: str,
           now: dt.datetime | None = None) -> None:
    """Revoke *agent*: its token stops working at once."""
    if agent.revoked_at is not None:
        return
    agent.revoked_at = now or utcnow()
    session.add(agent)
    audit(session, dealer_id=agent.dealer_id, user_id=user_id, actor=actor,
          action="agent.revoked", target=str(agent.id), detail={"name": agent.name})


def audit(session: Session, *, dealer_id: int | None, action: str, target: str,
          user_id: int | None = None, actor: str = "", detail: dict | None = None) -> None:
    session.add(AuditLog(dealer_id=dealer_id, actor_user_id=user_id, actor=actor[:100],
                         action=action, target=target[:200], detail=detail or {}))


def get_agent(*, session: Session, agent_id: uuid.UUID) -> Agent | None:
    """The agent with this id if the session's scope lets it be seen."""
    return session.exec(select(Agent).where(Agent.id == agent_id)).first()


def list_agents(*, session: Session, page: int, per_page: int) -> Page:
    """Agents in scope with their dealer, active first, then by dealer code and name."""
    stmt = (
        select(Agent, Dealer)
        .join(Dealer, Dealer.id == Agent.dealer_id)
        .order_by(Agent.revoked_at.is_not(None), Dealer.code, Agent.name, Agent.id)
    )
    total = session.exec(select(func.count()).select_from(Agent)).one()
    return _page(session, stmt, page, per_page, total)


def list_rejections(*, session: Session, agent: Agent, page: int, per_page: int) -> Page:
    """The rejection log of *agent*, newest first."""
    where = (SyncRejection.dealer_id == agent.dealer_id, SyncRejection.agent_id == agent.id)
    stmt = select(SyncRejection).where(*where).order_by(SyncRejection.id.desc())
    total = session.exec(select(func.count()).select_from(SyncRejection).where(*where)).one()
    return _page(session, stmt, page, per_page, total)


def _page(session: Session, stmt, page: int, per_page: int, total: int) -> Page:
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    rows = session.exec(stmt.offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(rows), page, per_page, total)


def is_silent(agent: Agent, now: dt.datetime) -> bool:
    """True when an active agent has not synced successfully for more than 24 hours."""
    if agent.revoked_at is not None:
        return False
    last = agent.last_success_at or agent.created_at  # a new agent gets 24 h to sync
    return _aware(last) < now - SILENT_AFTER


def dealer_by_code(*, session: Session, code: str) -> Dealer | None:
    return session.exec(select(Dealer).where(Dealer.code == code.strip())).first()


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back naive; they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
