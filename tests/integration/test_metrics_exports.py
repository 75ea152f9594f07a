"""Background exports (CSV with BOM, XLSX, Chinese text), their tenancy, and the refresh job."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from common.enums import Role
from portal import jobs
from portal.models import DealerMonthMetric, Export
from portal.services import exports, metrics
from tests import metrics_records as rec
from tests.metrics_records import NOW


@pytest.fixture(autouse=True)
def synchronous_exports(monkeypatch):
    """Run the export thread to completion before the request returns, for deterministic tests."""
    def start(*args, **kwargs):
        thread = threading.Thread(target=exports.run, args=args)
        thread.start()
        thread.join()
        return thread

    monkeypatch.setattr(exports, "start", start)


@pytest.fixture
def dealer_with_sale(app, db, make_dealer):
    app.config["METRICS_NOW"] = NOW
    dealer = make_dealer()
    rec.sale(db, dealer, "2024-03-02", brand="别克", model="君越")
    db.commit()
    return dealer


def export(client, table: str, fmt: str, **params):
    form = {"table": table, "fmt": fmt, **{f"p_{k}": v for k, v in params.items()}}
    response = client.post("/exports/", data=form)
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def download(client, url: str):
    """The response of the download link, closed (the file handle is released)."""
    response = client.get(f"{url}/download")
    response.get_data()
    response.close()
    return response


def test_csv_has_bom_and_chinese(dealer_with_sale, make_user, login, client):
    login(make_user(Role.hq))
    url = export(client, "sales", "csv", first="2024-03", last="2024-03")
    assert 'data-status="done"' in client.get(url).text
    body = download(client, url).data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(body.decode("utf-8-sig").splitlines()))
    assert rows[1][5:7] == ["别克", "君越"] and rows[1][2] == "王先生"


def test_xlsx_headers_follow_the_language(dealer_with_sale, make_user, login, client):
    login(make_user(Role.hq))
    client.post("/locale/en", data={"next": "/"})
    url = export(client, "sales", "xlsx", first="2024-03", last="2024-03")
    book = load_workbook(io.BytesIO(download(client, url).data))
    rows = list(book.active.values)
    assert rows[0][0] == "Deal number" and rows[1][6] == "君越"


def test_progress_fragment_is_not_a_page(dealer_with_sale, make_user, login, client):
    login(make_user(Role.hq))
    url = export(client, "sales", "csv", first="2024-03", last="2024-03")
    fragment = client.get(url, headers={"HX-Request": "true"}).text
    assert 'data-testid="export-progress"' in fragment and "<html" not in fragment


def test_other_users_cannot_see_or_download(dealer_with_sale, make_dealer, make_user, login,
                                            client):
    login(make_user(Role.dealer_manager, dealer=dealer_with_sale))
    url = export(client, "fix", "csv", dealer=dealer_with_sale.id, metric="contact30",
                 month="2024-03")
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    assert client.get(url).status_code == 404
    assert download(client, url).status_code == 404


def test_a_colleague_of_the_same_dealer_may_download(dealer_with_sale, make_user, login, client):
    login(make_user(Role.dealer_manager, dealer=dealer_with_sale))
    url = export(client, "scorecard", "csv", dealer=dealer_with_sale.id, month="2024-03")
    login(make_user(Role.dealer_staff, dealer=dealer_with_sale))
    assert download(client, url).status_code == 200


def test_an_export_runs_within_the_askers_scope(db, dealer_with_sale, make_dealer, make_user,
                                                login, client):
    login(make_user(Role.dealer_manager, dealer=make_dealer()))
    export(client, "sales", "csv", first="2024-03", last="2024-03")
    done = db.exec(select(Export)).one()
    assert (done.status, done.rows_total) == ("done", 0)


def test_unknown_table_is_refused(dealer_with_sale, make_user, login, client):
    login(make_user(Role.hq))
    response = client.post("/exports/", data={"table": "users", "fmt": "csv"},
                           headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "There is no table of that name to export." in response.text


def test_refresh_job_runs_once_across_processes(engine, db, dealer_with_sale, monkeypatch):
    monkeypatch.setattr(metrics, "utcnow", lambda: NOW)
    threads = [threading.Thread(target=jobs.run_once, args=(engine, "metrics.refresh"))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = db.exec(select(DealerMonthMetric)).all()
    assert len(rows) == 13 and {r.computed_at.replace(tzinfo=dt.UTC) for r in rows} == {NOW}
    assert jobs.run_once(engine, "metrics.refresh") is False


@pytest.mark.parametrize(("table", "params", "rows"), [
    ("ranking", {"month": "2024-03"}, 1),
    ("rollup", {"dimension": "model", "first": "2024-03", "last": "2024-03"}, 1),
    ("rollup", {"dimension": "dealer", "first": "2024-03", "last": "2024-03"}, 1),
    ("parts", {"first": "2024-03", "last": "2024-03"}, 0),
    ("pipeline", {"first": "2024-03", "last": "2024-03"}, 10),
    ("repairs", {"first": "2024-03", "last": "2024-03"}, 0),
])
def test_every_table_exports(db, dealer_with_sale, make_user, login, client, table, params,
                             rows):
    metrics.refresh(db, months=[dt.date(2024, 3, 1)], now=NOW)
    db.commit()
    login(make_user(Role.hq))
    export(client, table, "xlsx", **params)
    done = db.exec(select(Export)).one()
    assert (done.status, done.error, done.rows_total) == ("done", "", rows)


@pytest.mark.parametrize(("args", "exit_code", "output"), [
    (["--months", "2"], 0, "refreshing metrics: 1/1 dealers"),
    (["--dealer", "NOPE"], 1, "no dealer with code 'NOPE'"),
])
def test_refresh_metrics_command(app, db, dealer_with_sale, args, exit_code, output):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from portal import cli

    result = CliRunner().invoke(cli.main, ["refresh-metrics", *args],
                                obj=ScriptInfo(create_app=lambda: app))
    assert (result.exit_code, output in result.output) == (exit_code, True), result.output
    assert len(db.exec(select(DealerMonthMetric)).all()) == (2 if exit_code == 0 else 0)
