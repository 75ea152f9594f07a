"""Creating and changing portal users."""

from __future__ import annotations

import os

from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from common.enums import Role
from portal.models import Dealer, Region, User

MIN_PASSWORD_LENGTH = 8
PASSWORD_METHOD_ENV = "DEALER_PORTAL_PASSWORD_METHOD"


class UserError(ValueError):
    """A user could not be created; the message says why."""


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.exec(select(User).where(User.username == username)).first():
        raise UserError(f"the username {username!r} is taken")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name)
    if role in (Role.dealer_staff, Role.dealer_manager):
        user.dealer_id = _dealer_id(session, dealer_code)
    elif role == Role.region_manager:
        user.region_id = _region_id(session, region_code)
    session.add(user)
    session.flush()
    return user


def hash_password(password: str) -> str:
    """Hash with scrypt; the test suite may pick a cheaper method through the environment."""
    return generate_password_hash(password, method=os.environ.get(PASSWORD_METHOD_ENV, "scrypt"))


def _dealer_id(session: Session, code: str | None) -> int:
    dealer = session.exec(select(Dealer).where(Dealer.code == code)).first() if code else None
    if dealer is None:
        raise UserError(f"dealer staff need an existing dealer code (got {code!r})")
    return dealer.id


def _region_id(session: Session, code: str | None) -> int:
    region = session.exec(select(Region).where(Region.code == code)).first() if code else None
    if region is None:
        raise UserError(f"region managers need an existing region code (got {code!r})")
    return region.id
