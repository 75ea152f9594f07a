"""Creating and changing portal users: password policy, who may manage whom, audit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from common.enums import Role
from common.i18n import N_
from common.labels import LABELS
from portal.models import AuditLog, Dealer, Region, User

MIN_PASSWORD_LENGTH = 10
PASSWORD_METHOD_ENV = "DEALER_PORTAL_PASSWORD_METHOD"
DEALER_ROLES = (Role.dealer_staff, Role.dealer_manager)
MANAGER_ROLES = (Role.dealer_manager, Role.hq)  # may change users; region managers only read
ACTION_LABELS = {
    "user.created": N_("Login created"),
    "user.role_changed": N_("Role changed"),
    "user.deactivated": N_("Login deactivated"),
    "user.reactivated": N_("Login reactivated"),
}


class UserError(ValueError):
    """A user could not be created or changed; the message (a msgid) says why."""

    def __init__(self, message: str, field: str = "", **params: object) -> None:
        self.message, self.field, self.params = message, field, params
        super().__init__(self.render())

    def render(self, gettext=lambda s: s) -> str:
        """Return the message in the language of *gettext*; enum parameters show their label."""
        params = {k: gettext(LABELS[v]) if isinstance(v, StrEnum) else v
                  for k, v in self.params.items()}
        text = gettext(self.message)
        return text % params if params else text


@dataclass(frozen=True)
class Page:
    users: list[User]
    page: int
    pages: int
    total: int


def check_password(*, username: str, password: str) -> None:
    """Raise UserError unless *password* follows the policy."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(N_("The password needs at least %(count)d characters."), "password",
                        count=MIN_PASSWORD_LENGTH)
    if password.isdigit():
        raise UserError(N_("The password must not be only digits."), "password")
    if password.strip().lower() == username.strip().lower():
        raise UserError(N_("The password must differ from the username."), "password")


def assignable_roles(actor: User) -> tuple[Role, ...]:
    """The roles *actor* may give: HQ any, a dealer manager only dealer roles, others none."""
    if actor.role == Role.hq:
        return tuple(Role)
    return DEALER_ROLES if actor.role == Role.dealer_manager else ()


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    dealer_code: str | None = None,
    region_code: str | None = None,
) -> User:
    """Create a user bound to the dealer or region its role needs."""
    check_password(username=username, password=password)
    if session.exec(select(User).where(User.username == username)).first():
        raise UserError(N_("The username %(username)s is taken."), "username", username=username)
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name)
    if role in DEALER_ROLES:
        user.dealer_id = _dealer_id(session, dealer_code)
    elif role == Role.region_manager:
        user.region_id = _region_id(session, region_code)
    session.add(user)
    session.flush()
    return user


def create_user_as(*, session: Session, actor: User, dealer_code: str | None = None,
                   region_code: str | None = None, role: Role, **fields: str) -> User:
    """Create a user on behalf of *actor*, who may only give the roles they may assign."""
    _check_may_assign(actor, role)
    if actor.role == Role.dealer_manager:
        dealer_code, region_code = _own_dealer_code(session, actor), None
    user = create_user(session=session, role=role, dealer_code=dealer_code,
                       region_code=region_code, **fields)
    audit(session=session, actor=actor, action="user.created", user=user,
          detail={"role": str(role)})
    return user


def change_role(*, session: Session, actor: User, user: User, role: Role) -> None:
    """Give *user* another role of the same kind (dealer roles stay dealer roles)."""
    _check_may_change(actor, user)
    _check_may_assign(actor, role)
    if (user.role in DEALER_ROLES) != (role in DEALER_ROLES) or (
        user.role not in DEALER_ROLES and role != user.role
    ):
        raise UserError(N_("A login keeps its kind: dealer roles change only to dealer roles. "
                           "Create a new login for a region or headquarters role."), "role")
    if role != user.role:
        audit(session=session, actor=actor, action="user.role_changed", user=user,
              detail={"from": str(user.role), "to": str(role)})
        user.role = role
        session.add(user)


def set_active(*, session: Session, actor: User, user: User, active: bool) -> None:
    """Deactivate (the user can no longer log in) or reactivate a login."""
    _check_may_change(actor, user)
    if user.active != active:
        user.active = active
        session.add(user)
        audit(session=session, actor=actor, user=user,
              action="user.reactivated" if active else "user.deactivated")


def list_users(*, session: Session, page: int = 1, page_size: int = 25) -> Page:
    """One page of the users visible to the session's scope, by username."""
    total = session.exec(select(func.count()).select_from(User)).one()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    stmt = select(User).order_by(User.username).offset((page - 1) * page_size).limit(page_size)
    return Page(list(session.exec(stmt)), page, pages, total)


def user_audit(*, session: Session, user: User, limit: int = 20) -> list[AuditLog]:
    """The latest audit entries about *user* (within the session's scope)."""
    stmt = (select(AuditLog).where(AuditLog.target == f"user:{user.id}")
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit))
    return list(session.exec(stmt))


def audit(*, session: Session, actor: User, action: str, user: User,
          detail: dict | None = None) -> None:
    """Record who changed which login, in the dealer's log (HQ's for dealerless logins)."""
    session.add(AuditLog(dealer_id=user.dealer_id, actor_user_id=actor.id,
                         actor=actor.username, action=action, target=f"user:{user.id}",
                         detail={"username": user.username, **(detail or {})}))


def hash_password(password: str) -> str:
    """Hash with scrypt; the test suite may pick a cheaper method through the environment."""
    return generate_password_hash(password, method=os.environ.get(PASSWORD_METHOD_ENV, "scrypt"))


def _check_may_assign(actor: User, role: Role) -> None:
    if role not in assignable_roles(actor):
        raise UserError(N_("Your role may not give the role %(role)s."), "role", role=role)


def _check_may_change(actor: User, user: User) -> None:
    if actor.role not in MANAGER_ROLES:
        raise UserError(N_("Your role may look at users but not change them."))
    if actor.id == user.id:
        raise UserError(N_("You cannot change your own login; ask another manager."))
    if actor.role == Role.dealer_manager and user.role not in DEALER_ROLES:
        raise UserError(N_("Your role may not give the role %(role)s."), "role",
                        role=user.role)


def _own_dealer_code(session: Session, actor: User) -> str | None:
    dealer = session.get(Dealer, actor.dealer_id) if actor.dealer_id else None
    return dealer.code if dealer else None


def _dealer_id(session: Session, code: str | None) -> int:
    dealer = session.exec(select(Dealer).where(Dealer.code == code)).first() if code else None
    if dealer is None:
        raise UserError(N_("Dealer users need an existing dealer code (got %(code)s)."), "dealer",
                        code=code or "-")
    return dealer.id


def _region_id(session: Session, code: str | None) -> int:
    region = session.exec(select(Region).where(Region.code == code)).first() if code else None
    if region is None:
        raise UserError(N_("Region managers need an existing region code (got %(code)s)."),
                        "region", code=code or "-")
    return region.id
