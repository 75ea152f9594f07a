"""Fixtures shared by every suite: databases (SQLite and PostgreSQL), the app, factories."""

from __future__ import annotations

import gc
import itertools
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from common.enums import Role
from portal import create_app, migrate
from portal.models import Dealer, Region, User
from portal.services.users import create_user
from portal.tenancy import Scope, set_scope

PG_ENV = "TEST_DATABASE_URL"
PASSWORD = "correct horse battery"
_counter = itertools.count()


def pytest_configure(config):
    # Hashing passwords with the production cost would dominate the run time.
    os.environ.setdefault("DEALER_PORTAL_PASSWORD_METHOD", "pbkdf2:sha256:1000")


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} must point at a PostgreSQL server in CI")
    return url


def _pg_url(admin_url: str, database: str) -> str:
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def _pg_admin(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "portal.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> str:
    """A PostgreSQL database migrated once; each test gets a copy via CREATE DATABASE TEMPLATE."""
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(f"{PG_ENV} is not set (the CI script sets it)")
    name = f"dp_template_{os.getpid()}"
    _pg_admin(admin, f"DROP DATABASE IF EXISTS {name}")
    _pg_admin(admin, f"CREATE DATABASE {name}")
    migrate.upgrade(_pg_url(admin, name))
    yield name
    _pg_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, migrated portal database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "portal.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    admin = _pg_admin_url()
    name = f"dp_test_{os.getpid()}_{next(_counter)}"
    _pg_admin(admin, f"CREATE DATABASE {name} TEMPLATE {template}")
    yield _pg_url(admin, name)
    _pg_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """A fresh SQLite portal database, for suites that need only one backend."""
    path = tmp_path / "portal.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def make_test_app(url: str, tmp_path: Path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(tmp_path),
        "WTF_CSRF_ENABLED": False,
        "RUN_JOBS": False,
        **overrides,
    }
    return create_app(config)


@pytest.fixture
def app(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path)
    yield app
    # Return connections still held by unreachable objects (an abandoned streamed response)
    # while their database exists: finalised later, they fail against a dropped database,
    # and a finaliser running inside ast.parse trips CPython 3.11's recursion-depth check.
    gc.collect()
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def engine(app):
    return app.extensions["db_engine"]


@pytest.fixture
def db(engine):
    """A session that sees every dealer, for arranging and checking test data."""
    with set_scope(Session(engine, expire_on_commit=False), Scope.everything("test")) as session:
        yield session


@pytest.fixture
def make_region(db):
    def make(code: str | None = None) -> Region:
        code = code or f"R{next(_counter)}"
        region = Region(code=code, name_zh=f"{code}区", name_en=f"Region {code}")
        db.add(region)
        db.commit()
        return region

    return make


@pytest.fixture
def make_dealer(db, make_region):
    def make(code: str | None = None, region: Region | None = None) -> Dealer:
        region = region or make_region()
        code = code or f"D{next(_counter):04d}"
        dealer = Dealer(code=code, name_zh=f"{code}经销商", name_en=f"Dealer {code}",
                        region_id=region.id, city_zh="上海", city_en="Shanghai")
        db.add(dealer)
        db.commit()
        return dealer

    return make


@pytest.fixture
def make_user(db):
    def make(role: Role = Role.dealer_manager, dealer: Dealer | None = None,
             region: Region | None = None) -> User:
        user = create_user(
            session=db, username=f"user{next(_counter)}_{uuid.uuid4().hex[:6]}",
            password=PASSWORD, role=role, display_name="Test User",
            dealer_code=dealer.code if dealer else None,
            region_code=region.code if region else None,
        )
        db.commit()
        return user

    return make


@pytest.fixture
def login(client):
    def do(user: User):
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return client

    return do
