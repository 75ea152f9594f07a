"""Helpers for the agent window's tests: a UI over an enrolled store, rows for its forms."""

from __future__ import annotations

from sync_agent.coordinator import Coordinator
from sync_agent.ui import create_app
from sync_agent.ui.context import LocalAgent
from tests.unit.agent_fakes import VIN, FakePortal, enrolled_store

BAD_VIN = VIN[:8] + "9" + VIN[9:]  # check digit 9 instead of 8
SALE_FORM = {"deal_number": "S-100", "sale_date": "2024-03-01", "salesperson": "李娜",
             "price": "268000", "customer.name": "张伟", "customer.phone": "13812345678",
             "customer.postcode": "200000", "vehicle.vin": VIN, "vehicle.brand": "Buick",
             "vehicle.model": "GL8", "vehicle.model_year": "2024"}
SALES_CSV = ("合同号,销售日期,客户姓名,手机,邮编,车架号,品牌,车型,年款,销售顾问,成交价\n"
             f"S-1,2024/3/1,张伟,13812345678,200000,{VIN},Buick,GL8,2024,李娜,268000\n"
             f"S-2,2024/3/2,王芳,13912345678,200001,{BAD_VIN},Buick,君威,2024,李娜,198000\n")


def make_agent(data_dir, *, portal: FakePortal | None = None, sync: bool = False) -> LocalAgent:
    """A LocalAgent on an enrolled store; with *portal* it syncs against that fake."""
    enrolled_store(data_dir).close()
    factory = Coordinator
    if portal is not None:
        def factory(store):
            return Coordinator(store, client_factory=lambda identity: portal)
    return LocalAgent(data_dir, sync=sync, interval=3600, coordinator_factory=factory).start()


def make_ui(agent: LocalAgent, **config):
    return create_app(agent, {"TESTING": True, "WTF_CSRF_ENABLED": False,
                              "DEFAULT_LOCALE": "zh_CN", **config})
