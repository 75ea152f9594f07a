"""Save records into running agents' stores, in batches, and keep a ledger of every save.

Run as ``python -m tests.chaos.writer --ledger FILE --stop-file FILE DATA_DIR...``: a second
process writing to each store while ``dealer-agent run`` syncs it (the store is SQLite WAL).
About a third of the saves edit a record saved earlier (a new version); now and then a burst
of a few hundred records makes a large push. Each batch is one local transaction; its
``{"agent", "record_id", "version"}`` lines go to the ledger right after it commits.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from sync_agent.store import Store

VIN = "LSGJA52U8CH123456"  # a valid VIN (check digit); not a business key, so shared is fine
KINDS = ("lead", "contact", "survey", "complaint", "sale", "repair_order")
WEIGHTS = (30, 20, 15, 10, 15, 10)
EDITED_FIELD = {"lead": "salesperson", "contact": "notes", "survey": "customer_ref",
                "complaint": "resolution", "sale": "salesperson", "repair_order": "technician"}


def new_fields(kind: str, tag: str) -> dict[str, Any]:
    """Valid fields of a new *kind* record; *tag* makes business keys unique per dealer."""
    at = "2024-03-10T15:00:00Z"
    if kind == "lead":
        return {"name": f"客户{tag}", "phone": "13812345678", "purchase_timeframe": "immediate",
                "source": "walk_in"}
    if kind == "contact":
        return {"customer_ref": VIN, "channel": "call", "at": at, "by": "李娜", "notes": tag}
    if kind == "survey":
        return {"customer_ref": f"C{tag}", "about": "repair", "score": 4, "at": at}
    if kind == "complaint":
        return {"customer_ref": VIN, "received_at": at, "channel": "wechat",
                "category": "service", "description": f"等待时间太长 {tag}"}
    if kind == "sale":
        return {"deal_number": f"S-{tag}", "sale_date": "2024-02-29", "salesperson": "李娜",
                "price": "268000.00",
                "customer": {"name": "张伟", "phone": "13812345678", "postcode": "200000"},
                "vehicle": {"vin": VIN, "brand": "Buick", "model": "GL8", "model_year": 2024}}
    return {"ro_number": f"RO-{tag}", "vin": VIN, "opened_at": at, "odometer_km": 12000,
            "technician": "王强", "parts": [{"part_number": "24105735", "name": "滤清器",
                                             "qty": 1}]}


class Writer:
    """Saves into one store and remembers what it saved there, to edit it later."""

    def __init__(self, name: str, data_dir: Path, rng: random.Random) -> None:
        self.name, self.rng = name, rng
        self.store = Store.open(data_dir)
        self.saved: list[tuple[str, str, dict[str, Any]]] = []  # record_id, kind, fields
        self.counter = 0

    def batch(self, size: int) -> list[dict[str, Any]]:
        """Save *size* records in one transaction; returns their ledger lines."""
        lines = []
        with self.store.transaction():
            for _ in range(size):
                result = self._save_one()
                if result.changed:
                    lines.append({"agent": self.name, "record_id": result.record_id,
                                  "version": result.version})
        return lines

    def _save_one(self):
        self.counter += 1
        tag = f"{self.name}-{self.counter}"
        if self.saved and self.rng.random() < 0.35:
            record_id, kind, fields = self.rng.choice(self.saved)
            fields[EDITED_FIELD[kind]] = f"改{tag}"
            return self.store.save_record(kind, fields, record_id=record_id)
        kind = self.rng.choices(KINDS, WEIGHTS)[0]
        fields = new_fields(kind, tag)
        result = self.store.save_record(kind, fields)
        self.saved.append((result.record_id, kind, fields))
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dirs", nargs="+", type=Path)
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=100.0, help="records per second, in all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    writers = [Writer(d.name, d, rng) for d in args.data_dirs]
    deadline, started, total = time.monotonic() + args.max_seconds, time.monotonic(), 0
    with args.ledger.open("a", encoding="utf-8") as ledger:
        while not args.stop_file.exists() and time.monotonic() < deadline:
            size = rng.randint(200, 400) if rng.random() < 0.03 else rng.randint(1, 20)
            lines = rng.choice(writers).batch(size)
            ledger.writelines(json.dumps(line) + "\n" for line in lines)
            ledger.flush()
            total += len(lines)
            time.sleep(max(0.0, started + total / args.rate - time.monotonic()))
    for writer in writers:
        writer.store.close()
    print(json.dumps({"saved": total}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
