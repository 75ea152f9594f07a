"""Login throttling, password changes, agent token rotation and the audit log's queries."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, or_
from sqlmodel import Session, select
from werkzeug.security import check_password_hash

from common.followup import BUSINESS_TZ
from common.i18n import N_
from portal.models import Agent, AuditLog, LoginAttempt, User, utcnow
from portal.services import agents, users

KEEP_ATTEMPTS = dt.timedelta(days=1)


@dataclass(frozen=True)
class Throttle:
    """At most *per_user* failures per username and *per_ip* per address within *window*."""

    per_user: int = 5
    per_ip: int = 20  # a dealership's PCs often share one address
    window: dt.timedelta = dt.timedelta(minutes=15)


def retry_after(*, session: Session, throttle: Throttle, username: str, ip: str,
                now: dt.datetime | None = None) -> int:
    """Seconds until *username* may try again from *ip*; 0 when a try is allowed now."""
    now = now or utcnow()
    since = now - throttle.window
    waits = [_wait(session, LoginAttempt.username == username.strip().lower(), throttle.per_user,
                   since, throttle.window, now),
             _wait(session, LoginAttempt.ip == ip, throttle.per_ip, since, throttle.window, now)]
    return max(waits)


def _wait(session: Session, where, limit: int, since, window, now) -> int:
    times = session.exec(select(LoginAttempt.at).where(where, LoginAttempt.at > since)
                         .order_by(LoginAttempt.at.desc()).limit(limit)).all()
    if len(times) < limit:
        return 0
    oldest = times[-1] if times[-1].tzinfo else times[-1].replace(tzinfo=dt.UTC)
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def record_failure(*, session: Session, username: str, ip: str, user: User | None) -> None:
    """Count a failed login and audit it in the log of the login's dealer (if it exists)."""
    now = utcnow()
    session.add(LoginAttempt(at=now, username=username.strip().lower()[:80], ip=ip[:45]))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP_ATTEMPTS))
    audit_login(session=session, action="auth.login_failed", username=username, ip=ip, user=user)


def record_success(*, session: Session, user: User, ip: str) -> None:
    """Forget the username's failures and audit the login."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == user.username.lower()))
    audit_login(session=session, action="auth.login", username=user.username, ip=ip, user=user)


def audit_login(*, session: Session, action: str, username: str, ip: str,
                user: User | None) -> None:
    session.add(AuditLog(dealer_id=user.dealer_id if user else None,
                         actor_user_id=user.id if user else None, actor=username[:100],
                         action=action, target=f"login:{username}"[:200],
                         detail={"ip": ip}))


def user_named(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.username) ==
                                           username.strip().lower())).first()


def change_password(*, session: Session, user: User, current: str, new: str) -> None:
    """Set *user*'s password after checking the current one and the policy (audited)."""
    if not check_password_hash(user.password_hash, current):
        raise users.UserError(N_("The current password is wrong."), "current")
    if check_password_hash(user.password_hash, new):
        raise users.UserError(N_("Choose a password different from the current one."), "new")
    users.check_password(username=user.username, password=new)
    user.password_hash = users.hash_password(new)
    session.add(user)
    users.audit(session=session, actor=user, action="user.password_changed", user=user)


def rotate_agent_token(*, session: Session, agent: Agent) -> str:
    """Give *agent* a new token; the old one is refused from now on (audited)."""
    token = secrets.token_urlsafe(32)
    agent.token_hash = agents.sha256(token)
    session.add(agent)
    agents.audit(session, dealer_id=agent.dealer_id, actor=agent.name or "agent",
                 action="agent.token_rotated", target=str(agent.id))
    return token


# --- the audit log page --------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    user: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditLog]
    page: int
    pages: int
    total: int


def audit_entries(*, session: Session, filters: AuditFilters, page: int,
                  per_page: int) -> AuditPage:
    """One page of the audit entries in the session's scope, newest first."""
    stmt = select(AuditLog).where(*_conditions(filters))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    rows = session.exec(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return AuditPage(list(rows), page, pages, total)


def _conditions(filters: AuditFilters) -> list:
    conditions = []
    if filters.action:
        conditions.append(or_(AuditLog.action == filters.action,
                              AuditLog.action.startswith(filters.action.rstrip(".") + ".")))
    if filters.user:
        conditions.append(func.lower(AuditLog.actor).contains(filters.user.strip().lower()))
    if filters.date_from:
        conditions.append(AuditLog.at >= _midnight(filters.date_from))
    if filters.date_to:
        conditions.append(AuditLog.at < _midnight(filters.date_to + dt.timedelta(days=1)))
    return conditions


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=BUSINESS_TZ)


def audit_actions(*, session: Session) -> list[str]:
    """The distinct actions in the session's scope, for the filter."""
    return list(session.exec(select(AuditLog.action).distinct().order_by(AuditLog.action)))
