"""The agent's local UI through Flask's test client: status, entry, import, quarantine, offline."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
from openpyxl import Workbook

from common.protocol import ItemResult, Outcome
from sync_agent.runner import SYNC_REQUEST, DataDirLock
from sync_agent.ui import i18n as ui_i18n
from tests.unit.agent_fakes import VIN, FakePortal, enrolled_store, lead, sale
from tests.unit.agent_ui_fakes import (
    BAD_VIN,
    SALE_FORM,
    SALES_CSV,
    make_agent,
    make_ui,
)


@pytest.fixture
def agent(tmp_path):
    local = make_agent(tmp_path)
    yield local
    local.close()


@pytest.fixture
def client(agent):
    return make_ui(agent).test_client()


def errors_of(response) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', response.get_data(as_text=True))


def test_status_fragment_is_polled_without_the_page(client, agent):
    agent.store.save_record("lead", lead())
    response = client.get("/status", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'data-pending="1"' in body
    assert response.headers["Vary"] == "HX-Request"


def test_a_new_agent_starts_with_enrolment(tmp_path):
    from sync_agent.ui.context import LocalAgent

    local = LocalAgent(tmp_path, sync=False)
    try:
        response = make_ui(local).test_client().get("/")
    finally:
        local.close()
    assert response.status_code == 302 and response.location.endswith("/enrol")


@pytest.mark.parametrize(("locale", "expected"), [
    ("zh_CN", "VIN 校验位（第 9 位）为“9”，应为“8”"),
    ("en", "The VIN's check digit (9th character) is '9' but should be '8'"),
])
def test_a_wrong_vin_check_digit_is_explained(client, agent, locale, expected):
    agent.store.set_meta(ui_locale=locale)
    response = client.post("/records/new/sale", data={**SALE_FORM, "vehicle.vin": BAD_VIN})
    assert response.status_code == 422
    assert any(expected in e.replace("&#39;", "'") for e in errors_of(response))
    assert agent.store.pending_count() == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("customer.phone", "12345", "不是有效的电话号码"),
    ("vehicle.model_year", "二〇二四", "请输入整数"),
    ("deal_number", "", "请填写此项"),
    ("sale_date", "3/1", "请按“年-月-日”"),
])
def test_other_mistakes_are_explained_in_chinese(client, field, value, message):
    response = client.post("/records/new/sale", data={**SALE_FORM, field: value})
    assert any(message in e for e in errors_of(response)), errors_of(response)


def test_saving_offline_queues_the_record(client, agent):
    response = client.post("/records/new/sale", data=SALE_FORM, follow_redirects=True)
    assert "排队" in response.get_data(as_text=True)
    assert agent.store.pending_count() == 1


def test_editing_a_record_makes_the_next_version(client, agent):
    saved = agent.store.save_record("sale", sale())
    form = {**SALE_FORM, "deal_number": "S-1", "salesperson": "王强"}
    client.post(f"/records/{saved.record_id}/edit", data=form)
    record = agent.store.get_record(saved.record_id)
    assert (record.version, record.payload["salesperson"]) == (2, "王强")


def test_repair_order_keeps_its_part_lines(client, agent):
    form = {"ro_number": "RO-9", "vin": VIN, "opened_at": "2024-03-01T09:30",
            "odometer_km": "12000", "technician": "王强",
            "part_part_number": ["24105735", "", "P-2"],
            "part_name": ["机油滤清器", "", "刹车片"], "part_qty": ["1", "", "4"]}
    assert client.post("/records/new/repair_order", data=form).status_code == 303
    [record] = agent.store.list_records("repair_order")
    assert [p["qty"] for p in record.payload["parts"]] == [1, 4]


def test_a_part_line_fragment_is_one_row(client):
    body = client.get("/records/part-line", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert body.count("<tr") == 1 and "<html" not in body


def test_search_pages_through_local_records(client, agent):
    for n in range(30):
        agent.store.save_record("lead", lead(f"客户{n:02d}", phone=f"139000000{n:02d}"))
    first = client.get("/records/?kind=lead").get_data(as_text=True)
    second = client.get("/records/?kind=lead&page=2").get_data(as_text=True)
    found = client.get("/records/?q=客户07").get_data(as_text=True)
    assert first.count("data-record=") == 25 and second.count("data-record=") == 5
    assert found.count("data-record=") == 1


def upload(client, content: bytes, name: str, **form):
    data = {"file": (io.BytesIO(content), name), **form}
    response = client.post("/import/", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.location


def run_import(client, agent, job_url: str) -> dict:
    client.post(f"{job_url}/run")
    job = agent.imports[job_url.rsplit("/", 1)[-1]]
    for thread in agent._threads:
        thread.join(timeout=30)
    return job.report.counts()


def test_import_preview_shows_the_bad_row_and_why(client):
    job_url = upload(client, SALES_CSV.encode(), "sales.csv")
    body = client.get(f"{job_url}/preview").get_data(as_text=True)
    assert 'data-total="2" data-bad="1"' in body
    assert re.search(r'data-line="3".*?VIN 校验位', body, re.S)


def test_importing_the_same_file_twice_creates_no_duplicates(client, agent):
    first = run_import(client, agent, upload(client, SALES_CSV.encode(), "sales.csv"))
    again = run_import(client, agent, upload(client, SALES_CSV.encode("gb18030"), "sales.csv"))
    assert first == {"created": 1, "quarantined": 1}
    assert again == {"unchanged": 1, "already_quarantined": 1}
    assert agent.store.count_records() == 1 and agent.store.quarantine_count() == 1


def test_xlsx_repair_orders_with_one_part_per_row(client, agent):
    book = Workbook()
    for row in (["维修单号", "车架号", "进厂时间", "里程", "技师", "零件号", "零件名称", "数量"],
                ["RO-1", VIN, "2024-03-01 09:00", 12000, "王强", "24105735", "机油滤清器", 1],
                ["RO-1", VIN, "2024-03-01 09:00", 12000, "王强", "P-2", "刹车片", 4]):
        book.active.append(row)
    content = io.BytesIO()
    book.save(content)
    assert run_import(client, agent, upload(client, content.getvalue(), "ro.xlsx")) == \
        {"created": 1}
    assert len(agent.store.list_records("repair_order")[0].payload["parts"]) == 2


def test_a_mapping_is_saved_for_its_source(client, agent):
    job_url = upload(client, SALES_CSV.encode(), "sales.csv", source="DMS 销售")
    form = {"kind": "sale", "source": "DMS 销售", "save": "1", "action": "preview",
            **{f"col{i}": t for i, t in enumerate(agent.imports[job_url[-32:]].mapping
                                                   .columns.values())}}
    form["col10"] = ""  # do not import the price column
    client.post(job_url, data=form)
    again = upload(client, SALES_CSV.encode(), "sales.csv", source="DMS 销售")
    assert agent.imports[again[-32:]].mapping.columns["成交价"] == ""


def test_an_unreadable_upload_is_explained(client):
    data = {"file": (io.BytesIO(b"PK\x03\x04broken"), "x.xlsx")}
    response = client.post("/import/", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "无法读取" in response.get_data(as_text=True)


def quarantined_by_portal(agent) -> int:
    agent.store.save_record("lead", lead())
    [entry] = agent.store.outbox()
    agent.store.apply_results([ItemResult(seq=entry.seq, record_id=entry.record_id,
                                          outcome=Outcome.rejected, code="bad", message="Nope.")])
    return agent.store.quarantine_list()[0].id


def test_quarantine_replay_queues_the_record_again(client, agent):
    entry_id = quarantined_by_portal(agent)
    assert "Nope." in client.get("/quarantine/").get_data(as_text=True)
    client.post(f"/quarantine/{entry_id}/replay")
    assert agent.store.quarantine_count() == 0 and agent.store.pending_count() == 1


def test_discarding_asks_first(client, agent):
    entry_id = quarantined_by_portal(agent)
    confirm = client.get(f"/quarantine/{entry_id}/discard", headers={"HX-Request": "true"})
    assert "data-testid=\"confirm-discard\"" in confirm.get_data(as_text=True)
    assert agent.store.quarantine_count() == 1
    client.post(f"/quarantine/{entry_id}/discard")
    assert agent.store.quarantine_count() == 0


def test_an_imported_row_is_corrected_in_its_form(client, agent):
    run_import(client, agent, upload(client, SALES_CSV.encode(), "sales.csv"))
    [entry] = agent.store.quarantine_list()
    form_page = client.get(f"/quarantine/{entry.id}/edit").get_data(as_text=True)
    assert f'value="{BAD_VIN}"' in form_page and "VIN 校验位" in form_page
    fixed = {**SALE_FORM, "deal_number": "S-2", "vehicle.vin": "LSGPC52U6AF102554"}
    client.post(f"/quarantine/{entry.id}/edit", data=fixed)
    assert agent.store.quarantine_count() == 0 and agent.store.count_records("sale") == 2


def test_follow_up_due_is_logged_in_one_click(client, agent):
    agent.store.save_record("sale", sale(sale_date="2020-01-05"))
    page = client.get("/followups").get_data(as_text=True)
    assert f'data-vin="{VIN}"' in page
    client.post("/followups/log", data={"vin": VIN, "by": "李娜", "channel": "call"})
    [contact] = agent.store.list_records("contact")
    assert contact.payload["customer_ref"] == VIN and agent.store.pending_count() == 2
    assert f'data-vin="{VIN}"' not in client.get("/followups").get_data(as_text=True)


def test_orders_show_each_vehicles_timeline(client, agent):
    events = [("ordered", "2024-03-01T08:00:00+00:00"), ("body", "2024-03-05T08:00:00+00:00")]
    agent.store.apply_pull_page([
        {"id": n, "kind": "order_status", "payload": {"order_number": "O-1", "line": 1, "unit": 1,
         "vin": VIN, "stage": stage, "at": at}} for n, (stage, at) in enumerate(events, 1)], 2)
    page = client.get("/orders").get_data(as_text=True)
    assert 'data-order="O-1"' in page
    assert re.search(r'data-testid="current-stage">车身<', page)


def test_sync_now_reports_progress(tmp_path):
    local = make_agent(tmp_path, portal=FakePortal(), sync=True)
    try:
        assert _wait(lambda: local.store.get_meta("last_success"))  # the first tick ran
        for n in range(3):
            local.store.save_record("lead", lead(f"n{n}"))
        make_ui(local).test_client().post("/sync", headers={"HX-Request": "true"})
        assert _wait(lambda: local.sync_progress()["done"])
        assert local.sync_progress() == {"total": 3, "sent": 3, "done": True, "error": None,
                                         "waiting": False}
    finally:
        local.close()


def _wait(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not (result := predicate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def test_with_a_background_service_the_window_asks_it_to_sync(tmp_path):
    with DataDirLock(tmp_path):  # what `dealer-agent run` holds
        local = make_agent(tmp_path, sync=True)
        try:
            body = make_ui(local).test_client().post("/sync").get_data(as_text=True)
            assert local.mode == "service" and local.store.get_meta(SYNC_REQUEST)
            assert 'data-mode="service"' in body
        finally:
            local.close()


def test_other_hosts_are_refused(client):
    assert client.get("/", headers={"Host": "evil.example:5000"}).status_code == 403


def test_forms_need_the_csrf_token(agent):
    client = make_ui(agent, WTF_CSRF_ENABLED=True).test_client()
    assert client.post("/records/new/sale", data=SALE_FORM).status_code == 400


def test_the_headless_agent_does_not_load_flask():
    code = "import sys, sync_agent.cli, sync_agent.runner; print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("env", "expected"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"), ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "zh_CN"), ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN"}, "en"),
])
def test_the_default_language_follows_the_pc(monkeypatch, env, expected):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert ui_i18n.system_locale() == expected


def test_dealer_agent_ui_serves_the_pages_until_stopped(tmp_path):
    enrolled_store(tmp_path).close()
    command = [sys.executable, "-m", "sync_agent", "ui", "--no-sync", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline()).group(0)
        assert 'data-testid="status"' in requests.get(url + "/status", timeout=10).text
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 0 and "UI stopped" in out
