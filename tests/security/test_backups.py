"""Backup and restore of the portal database (SQLite online backup, pg_dump/pg_restore)."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlmodel import select

from portal.cli import main as portal_cli
from portal.models import Dealer


def _cli(app, *args: str):
    result = CliRunner().invoke(portal_cli, list(args), obj=ScriptInfo(create_app=lambda: app))
    return result


def test_backup_then_restore_brings_back_exactly_the_backed_up_data(app, db, make_dealer,
                                                                    tmp_path):
    kept = make_dealer()
    backup = tmp_path / "portal.backup"
    assert _cli(app, "backup", str(backup)).exit_code == 0
    make_dealer()  # written after the backup: gone after the restore
    db.close()
    result = _cli(app, "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert [d.code for d in db.exec(select(Dealer))] == [kept.code]


def test_a_backup_is_taken_while_the_portal_writes(app, db, make_dealer, tmp_path):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("pg_dump's consistency is PostgreSQL's own (one snapshot)")
    make_dealer()
    db.begin()
    db.add(Dealer(code="UNCOMMITTED", name_zh="x", name_en="x", region_id=1, city_zh="x",
                  city_en="x"))
    db.flush()  # an open write transaction while the backup runs
    assert _cli(app, "backup", str(tmp_path / "b.db")).exit_code == 0
    db.rollback()
    codes = [r[0] for r in sqlite3.connect(tmp_path / "b.db").execute("SELECT code FROM dealer")]
    assert len(codes) == 1 and "UNCOMMITTED" not in codes


@pytest.mark.parametrize("content", [b"", b"not a database at all"])
def test_restore_refuses_what_is_not_a_backup(app, db, make_dealer, tmp_path, content):
    make_dealer()
    bogus = tmp_path / "bogus"
    bogus.write_bytes(content)
    db.close()
    result = _cli(app, "restore", str(bogus), "--yes")
    assert result.exit_code != 0 and ("failed" in result.output or "not" in result.output)
    assert len(db.exec(select(Dealer)).all()) == 1
