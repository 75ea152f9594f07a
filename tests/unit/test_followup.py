"""Follow-up rules shared by agent and portal (common/followup.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from common.followup import ContactFacts, FollowUpRules, SaleFacts, compute_tasks

D = dt.date
SALE = SaleFacts("sale-1", "LSGJA52U8CH123456", D(2024, 3, 1), "张伟", "李娜")


def tasks(today: dt.date, *contacts: tuple[str, dt.date], sales=(SALE,), **rules):
    facts = [ContactFacts(ref, at) for ref, at in contacts]
    return compute_tasks(sales, facts, today, FollowUpRules(**rules))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2024, 3, 20), []),  # due 2024-03-31, beyond the 7-day horizon
        (D(2024, 3, 24), [("first_contact", D(2024, 3, 31), False)]),  # inside the horizon
        (D(2024, 3, 31), [("first_contact", D(2024, 3, 31), False)]),  # due today
        (D(2024, 4, 1), [("first_contact", D(2024, 3, 31), True)]),  # overdue
    ],
)
def test_first_contact_is_due_30_days_after_the_sale(today, expected):
    assert [(t.task, t.due, t.overdue) for t in tasks(today)] == expected


@pytest.mark.parametrize("ref", [SALE.vin, SALE.record_id])
def test_a_contact_by_vin_or_sale_id_starts_the_periodic_cycle(ref):
    [task] = tasks(D(2024, 12, 1), (ref, D(2024, 3, 10)))
    assert (task.task, task.due, task.overdue) == ("periodic", D(2024, 9, 6), True)


def test_the_latest_contact_counts_and_earlier_ones_do_not():
    contacts = [(SALE.vin, D(2024, 3, 10)), (SALE.record_id, D(2024, 8, 1))]
    assert tasks(D(2024, 9, 10), *contacts) == []
    [task] = tasks(D(2025, 1, 28), *contacts)
    assert task.due == D(2025, 1, 28)


def test_contacts_before_the_sale_or_for_others_do_not_count():
    contacts = [(SALE.vin, D(2024, 2, 1)), ("LSGPC52U86F012345", D(2024, 3, 5))]
    [task] = tasks(D(2024, 4, 2), *contacts)
    assert task.task == "first_contact" and task.overdue


def test_no_task_after_the_five_year_lifecycle():
    last = D(2028, 12, 1)  # next periodic contact would fall on 2029-05-30, after the end
    assert tasks(D(2029, 6, 1), (SALE.vin, last)) == []
    assert tasks(D(2029, 6, 1), (SALE.vin, last), lifecycle_years=6) != []


@pytest.mark.parametrize(
    ("last_contact", "listed"),
    [(D(2028, 9, 1), True), (D(2028, 9, 2), False)],  # due 2029-02-28 is the last day
)
def test_leap_day_sale_lifecycle_ends_on_28_february(last_contact, listed):
    sale = SaleFacts("leap", "LSGPC52U86F012345", D(2024, 2, 29), "王芳", "李娜")
    found = tasks(D(2029, 3, 5), (sale.vin, last_contact), sales=[sale])
    assert bool(found) is listed


def test_leap_day_sale_first_contact_due_date():
    sale = SaleFacts("leap", "LSGPC52U86F012345", D(2024, 2, 29), "王芳", "李娜")
    [task] = tasks(D(2024, 3, 30), sales=[sale])
    assert (task.due, task.overdue) == (D(2024, 3, 30), False)


def test_horizon_is_configurable_and_tasks_are_oldest_first():
    other = SaleFacts("sale-2", "LSGPC52U86F012345", D(2024, 2, 1), "王芳", "李娜")
    assert tasks(D(2024, 3, 24), sales=[SALE], horizon_days=0) == []
    found = tasks(D(2024, 3, 31), sales=[SALE, other])
    assert [(t.sale_record_id, t.due) for t in found] == [
        ("sale-2", D(2024, 3, 2)), ("sale-1", D(2024, 3, 31))
    ]
