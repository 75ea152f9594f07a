"""Generate deterministic demo data: regions, dealers, users and two years of synced records.

Pure generation, no database: every record is a plain dict in the wire format of
``common.schemas`` (what an agent would push), so the same generator feeds
``seed-demo``, the benchmark suite (1,000 dealers, millions of records, streamed
dealer by dealer) and HTTP ingest tests.

Each dealer has a hidden *discipline* (0.2-0.95) that drives how well it uses CRM:
post-sale contact compliance, lead response time, complaint timeliness, data
completeness and survey scores. Disciplines are spread evenly over that range, so
a few dealers are clearly benchmark (标杆) material and a few clearly lag.

Determinism: everything derives from ``random.Random`` instances seeded with strings
built from the seed (string seeds hash with SHA-512, independent of PYTHONHASHSEED);
each dealer has its own stream, so dealers can be generated one at a time.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from common.enums import Role
from common.validators import vin_check_digit
from portal.demo import reference as ref

DEFAULT_SEED = 20260101
SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
VEHICLES_PER_DEALER = 5_000  # VIN serials reserved for each dealer
_SERIAL_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

# Volumes per dealer and month at volume 1.0 and an average-sized dealer.
LEADS_PER_MONTH = 20
WALK_IN_SALES_PER_MONTH = 8
OUTSIDE_VEHICLES = 90  # vehicles serviced here but sold elsewhere or before the period
SEASON = {1: 1.1, 2: 0.7, 3: 0.95, 4: 1.0, 5: 1.0, 6: 0.95, 7: 0.9, 8: 0.95, 9: 1.05,
          10: 1.15, 11: 1.05, 12: 1.2}

TIMEFRAMES = {  # weight, days to purchase (from, to), conversion baseline (DESIGN §7)
    "immediate": (15, (1, 14), 0.30),
    "within_3_months": (35, (10, 90), 0.10),
    "within_6_months": (25, (60, 180), 0.06),
    "within_1_year": (25, (120, 365), 0.04),
}
SOURCES = {"walk_in": 25, "website": 20, "phone": 15, "auto_show": 12, "referral": 12,
           "event": 10, "other": 6}
CHANNELS = {"call": 50, "wechat": 25, "visit": 10, "sms": 10, "email": 5}

DEMO_PASSWORDS: dict[Role, str] = {
    Role.hq: "hq-demo-2026",
    Role.region_manager: "region-demo-2026",
    Role.dealer_manager: "manager-demo-2026",
    Role.dealer_staff: "staff-demo-2026",
}


@dataclass(frozen=True)
class DemoConfig:
    """What to generate; ``volume`` scales the records per dealer (1.0 ≈ 3,500 per dealer)."""

    seed: int = DEFAULT_SEED
    dealers: int = 30
    months: int = 24
    today: dt.date = field(default_factory=dt.date.today)
    volume: float = 1.0

    @property
    def start(self) -> dt.date:
        """First day of the month ``months`` months before today's month."""
        index = self.today.year * 12 + self.today.month - 1 - self.months
        return dt.date(index // 12, index % 12 + 1, 1)

    @property
    def cutoff(self) -> dt.datetime:
        """Midnight at the start of *today* in China: nothing happens at or after it."""
        return dt.datetime.combine(self.today, dt.time(), SHANGHAI).astimezone(dt.UTC)


@dataclass(frozen=True)
class DealerPlan:
    index: int
    code: str
    name_zh: str
    name_en: str
    region: ref.Region
    city: ref.City
    district: str
    discipline: float  # hidden: how well this dealer uses CRM
    size: float  # relative business volume


@dataclass(frozen=True)
class Staff:
    manager: str
    salespeople: tuple[str, ...]
    technicians: tuple[str, ...]
    advisors: tuple[str, ...]


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str
    role: Role
    display_name: str
    dealer_code: str | None = None
    region_code: str | None = None


@dataclass
class DealerData:
    """One dealer's generated records, by kind, in the wire format."""

    dealer: DealerPlan
    records: dict[str, list[dict]]


# --- dealers, staff and users -------------------------------------------------------------


def plan_dealers(config: DemoConfig) -> list[DealerPlan]:
    """Place ``config.dealers`` dealers over the regions' cities, each with a discipline."""
    rng = random.Random(f"{config.seed}:dealers")
    count = config.dealers
    disciplines = [0.2 + 0.75 * (k + rng.random()) / count for k in range(count)]
    rng.shuffle(disciplines)
    width = max(3, len(str(count)))
    return [_plan_dealer(rng, i, width, disciplines[i]) for i in range(count)]


def _plan_dealer(rng: random.Random, index: int, width: int, discipline: float) -> DealerPlan:
    region = ref.REGIONS[index % len(ref.REGIONS)]
    city = region.cities[(index // len(ref.REGIONS)) % len(region.cities)]
    district = rng.choice(city.districts)
    group_zh, group_en = rng.choice(ref.DEALER_GROUPS)
    return DealerPlan(
        index=index, code=f"{city.code}{index + 1:0{width}d}",
        name_zh=f"{city.zh}{group_zh}通用别克{district}4S店",
        name_en=f"{group_en} Buick 4S Store {city.en} #{index + 1}",
        region=region, city=city, district=district, discipline=round(discipline, 3),
        size=min(2.0, max(0.5, rng.lognormvariate(0, 0.35))),
    )


def person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(ref.GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(ref.SURNAMES) + given


def dealer_staff(config: DemoConfig, dealer: DealerPlan) -> Staff:
    """The dealer's people; the first salesperson is the demo staff user."""
    rng = random.Random(f"{config.seed}:{dealer.code}:staff")

    def names(low: int, high: int) -> tuple[str, ...]:
        return tuple(person_name(rng) for _ in range(rng.randint(low, high)))

    return Staff(person_name(rng), names(4, 8), names(3, 6), names(2, 3))


def demo_users(config: DemoConfig, dealers: list[DealerPlan]) -> list[UserSpec]:
    """Users for every role: ``hq``, ``region.<code>``, ``<dealer>.manager``, ``<dealer>.staff``."""
    users = [UserSpec("hq", DEMO_PASSWORDS[Role.hq], Role.hq, "总部分析员 HQ analyst")]
    users += [
        UserSpec(f"region.{r.code.lower()}", DEMO_PASSWORDS[Role.region_manager],
                 Role.region_manager, f"{r.zh}区域经理 {r.en} region manager", region_code=r.code)
        for r in ref.REGIONS
    ]
    for dealer in dealers:
        staff = dealer_staff(config, dealer)
        prefix = dealer.code.lower()
        users.append(UserSpec(f"{prefix}.manager", DEMO_PASSWORDS[Role.dealer_manager],
                              Role.dealer_manager, staff.manager, dealer_code=dealer.code))
        users.append(UserSpec(f"{prefix}.staff", DEMO_PASSWORDS[Role.dealer_staff],
                              Role.dealer_staff, staff.salespeople[0], dealer_code=dealer.code))
    return users


@dataclass(frozen=True)
class AgentPlan:
    """The dealer's sync agent as the portal knows it (its token is random and never printed)."""

    id: uuid.UUID
    token_hash: str
    last_success_at: dt.datetime
    pending_count: int
    quarantine_count: int
    sync_days: tuple[dt.date, ...]


def dealer_agent(config: DemoConfig, dealer: DealerPlan) -> AgentPlan:
    """Disciplined dealers sync nearly every day; some lagging ones have gone silent."""
    rng = random.Random(f"{config.seed}:{dealer.code}:agent")
    d = dealer.discipline
    silent = d < 0.35 and rng.random() < 0.6
    hours = rng.uniform(30, 120) if silent else rng.uniform(0.05, 3)
    last = config.cutoff - dt.timedelta(hours=hours)
    share = 0.55 + 0.45 * d
    days, day = [], config.start
    while day <= last.astimezone(SHANGHAI).date():
        if rng.random() < share or day == last.astimezone(SHANGHAI).date():
            days.append(day)
        day += dt.timedelta(days=1)
    return AgentPlan(uuid.UUID(int=rng.getrandbits(128), version=4), f"{rng.getrandbits(256):064x}",
                     last, rng.randint(5, 60) if silent else 0,
                     rng.randint(0, 3) if rng.random() < 1 - d else 0, tuple(days))


def vin_serial(key: int) -> str:
    """VIN positions 12-17 for vehicle *key*: six digits, then two letters and four digits."""
    if key < 10**6:
        return f"{key:06d}"
    high, low = divmod(key - 10**6, 10**4)
    if high >= len(_SERIAL_LETTERS) ** 2:
        raise ValueError("too many demo vehicles for unique VINs; generate fewer dealers")
    first, second = divmod(high, len(_SERIAL_LETTERS))
    return f"{_SERIAL_LETTERS[first]}{_SERIAL_LETTERS[second]}{low:04d}"


# --- records ------------------------------------------------------------------------------


def generate(config: DemoConfig, dealers: list[DealerPlan] | None = None) -> Iterator[DealerData]:
    """Yield each dealer's records in dealer order; only one dealer is held at a time."""
    dealers = plan_dealers(config) if dealers is None else dealers
    pools: dict[str, list[dict]] = {}  # vehicles sold in a region, serviced by other dealers
    for dealer in dealers:
        gen = _DealerGenerator(config, dealer, pools.setdefault(dealer.region.code, []))
        yield DealerData(dealer, gen.run())


def iter_records(config: DemoConfig) -> Iterator[dict]:
    """Every generated record, dealer by dealer, kind by kind."""
    for data in generate(config):
        for records in data.records.values():
            yield from records


class _DealerGenerator:
    """Generates one dealer's records from its own random stream."""

    def __init__(self, config: DemoConfig, dealer: DealerPlan, region_pool: list[dict]) -> None:
        self.config = config
        self.dealer = dealer
        self.d = dealer.discipline
        self.rng = random.Random(f"{config.seed}:{dealer.code}:records")
        self.staff = dealer_staff(config, dealer)
        self.pool = region_pool
        self.cutoff = config.cutoff
        self.scale = dealer.size * config.volume
        self.vehicle_seq = 0
        self.out: dict[str, list[dict]] = {
            k: [] for k in ("lead", "sale", "repair_order", "contact", "complaint", "survey")
        }

    def run(self) -> dict[str, list[dict]]:
        sales = self._leads_and_sales()
        self._number(sales, "deal_number", "sale_date", "")
        self.out["sale"] = sales
        for sale in sales:
            self._after_sale(sale)
        orders = self._repair_orders(sales)
        self._number(orders, "ro_number", "opened_at", "RO-")
        for order in orders:
            self._after_repair(order)
        self._share_vehicles(sales)
        return self.out

    # helpers ------------------------------------------------------------------------------

    def header(self, kind: str, updated_at: dt.datetime) -> dict:
        return {"kind": kind, "record_id": uuid.UUID(int=self.rng.getrandbits(128), version=4),
                "dealer_code": self.dealer.code, "version": 1, "updated_at": updated_at}

    def moment(self, day: dt.date, first_hour: int = 9, last_hour: int = 18) -> dt.datetime:
        """A time during business hours in China on *day*, in UTC."""
        minutes = self.rng.randrange(first_hour * 60, last_hour * 60)
        local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), SHANGHAI)
        return local.astimezone(dt.UTC)

    def count(self, mean: float) -> int:
        """A Poisson-like count around *mean*."""
        return max(0, round(self.rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def months(self) -> Iterator[tuple[dt.date, int]]:
        """Each month of the period with the number of days before the cutoff."""
        day, today = self.config.start, self.config.today
        while day < today:
            following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            yield day, (min(following, today) - day).days
            day = following

    def random_days(self, mean_per_month: float) -> Iterator[dt.date]:
        for first, days in self.months():
            for _ in range(self.count(mean_per_month * SEASON[first.month] * days / 30)):
                yield first + dt.timedelta(days=self.rng.randrange(days))

    def mobile(self) -> str:
        return self.rng.choice(ref.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def defect(self) -> bool:
        """Whether this record is captured carelessly (the lower the discipline, the likelier)."""
        return self.chance(0.005 + 0.16 * (1 - self.d) ** 1.5)

    def contact(self, ref_: str, at: dt.datetime, by: str, purpose: str) -> None:
        record = self.header("contact", at)
        record.update(customer_ref=ref_, channel=self.pick(CHANNELS), at=at, by=by,
                      outcome=self.rng.choice(ref.CONTACT_OUTCOMES[purpose]), notes="")
        self.out["contact"].append(record)

    def _number(self, records: list[dict], key: str, when: str, prefix: str) -> None:
        """Give records business keys in date order: ``2406-0012`` (year, month, sequence)."""
        records.sort(key=lambda r: (r[when], r["record_id"]))
        counters: dict[str, int] = {}
        for record in records:
            month = record[when].strftime("%y%m")
            counters[month] = counters.get(month, 0) + 1
            record[key] = f"{prefix}{self.dealer.code}-{month}-{counters[month]:04d}"

    # leads and sales ----------------------------------------------------------------------

    def _leads_and_sales(self) -> list[dict]:
        sales = [self._lead(day) for day in self.random_days(LEADS_PER_MONTH * self.scale)]
        sales = [s for s in sales if s is not None]
        for day in self.random_days(WALK_IN_SALES_PER_MONTH * self.scale):
            sales.append(self._sale(self.moment(day, 10, 20), self._customer(), None))
        return sales

    def _lead(self, day: dt.date) -> dict | None:
        """Create a lead with its follow-up contacts; return the sale it turns into, if any."""
        created = self.moment(day, 9, 21)
        timeframe = self.pick({k: v[0] for k, v in TIMEFRAMES.items()})
        _, (low, high), baseline = TIMEFRAMES[timeframe]
        lead = self.header("lead", created)
        model = self._model()
        lead.update(name=person_name(self.rng), phone=self.mobile(), interested_model=model.name,
                    purchase_timeframe=timeframe, source=self.pick(SOURCES),
                    salesperson=self.rng.choice(self.staff.salespeople), status="open",
                    created_at=created)
        self.out["lead"].append(lead)
        wins = self.chance(baseline * (0.75 + 0.5 * self.d))
        buy_at = created + dt.timedelta(days=self.rng.uniform(low, high))
        contacted = self._lead_contacts(lead, wins, buy_at)
        return self._lead_outcome(lead, model, wins, buy_at, contacted, high)

    def _lead_contacts(self, lead: dict, wins: bool, buy_at: dt.datetime) -> dt.datetime | None:
        """Log the first (and maybe a second) follow-up; return when the first happened."""
        if not (wins or self.chance(0.55 + 0.45 * self.d)):
            return None
        median = 2 + 70 * (1 - self.d) ** 2  # hours from creation to first contact
        first = lead["created_at"] + dt.timedelta(hours=self.rng.lognormvariate(0, 0.8) * median)
        if first >= min(self.cutoff, buy_at if wins else self.cutoff):
            return None
        self.contact(str(lead["record_id"]), first, lead["salesperson"], "lead")
        second = first + dt.timedelta(days=self.rng.uniform(3, 20))
        if self.chance(0.3 + 0.4 * self.d) and second < min(self.cutoff, buy_at):
            self.contact(str(lead["record_id"]), second, lead["salesperson"], "lead")
        return first

    def _lead_outcome(self, lead: dict, model: ref.CarModel, wins: bool, buy_at: dt.datetime,
                      contacted: dt.datetime | None, horizon_days: int) -> dict | None:
        if wins and buy_at < self.cutoff:
            lead.update(status="won", updated_at=buy_at)
            customer = self._customer(name=lead["name"], phone=lead["phone"])
            return self._sale(buy_at, customer, lead, model)
        expired = lead["created_at"] + dt.timedelta(days=horizon_days + 30) < self.cutoff
        if expired and not wins and (contacted or self.chance(self.d)):
            lost_at = lead["created_at"] + dt.timedelta(days=horizon_days + 30)
            lead.update(status="lost", updated_at=lost_at)
        elif contacted:
            status = "appointment" if wins or self.chance(0.2) else "contacted"
            lead.update(status=status, updated_at=contacted)
        return None

    def _model(self) -> ref.CarModel:
        return self.rng.choices(ref.MODELS, weights=[m.weight for m in ref.MODELS])[0]

    def _customer(self, name: str | None = None, phone: str | None = None) -> dict:
        city, rng = self.dealer.city, self.rng
        address = (f"{city.zh}市{rng.choice(city.districts)}{rng.choice(ref.ROADS)}"
                   f"{rng.randint(1, 999)}号")
        postcode = f"{city.postcode}{rng.randrange(100):02d}{rng.choice('01')}"
        if name is None and self.chance(0.08):
            company = f"{city.zh}{rng.choice(ref.COMPANY_WORDS)}{rng.choice(ref.COMPANY_TRADES)}"
            landline = f"{city.area_code}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}"
            return {"name": f"{company}有限公司", "phone": landline, "address": address,
                    "postcode": postcode, "customer_type": "company"}
        return {"name": name or person_name(rng), "phone": phone or self.mobile(),
                "address": address, "postcode": postcode, "customer_type": "individual"}

    def _sale(self, at: dt.datetime, customer: dict, lead: dict | None,
              model: ref.CarModel | None = None) -> dict:
        model = model or self._model()
        trim = self.rng.choice(model.trims)
        local = at.astimezone(SHANGHAI)
        year = local.year + (1 if local.month >= 9 and self.chance(0.5) else 0)
        vehicle = {"vin": self._vin(model, year), "brand": model.brand, "model": model.name,
                   "trim": trim.name, "color": self.rng.choice(model.colours), "model_year": year,
                   "engine_number": f"{trim.engine}{self.rng.randrange(10**8):08d}"}
        discount = Decimal(self.rng.randrange(0, 9)) / 100
        price = (Decimal(trim.price) * (1 - discount) / 100).quantize(Decimal(1)) * 100
        sale = self.header("sale", at)
        sale.update(deal_number="", sale_date=local.date(), customer=customer, vehicle=vehicle,
                    salesperson=lead["salesperson"] if lead else self.rng.choice(
                        self.staff.salespeople),
                    price=price.quantize(Decimal("0.01")),
                    lead_id=lead["record_id"] if lead else None,
                    lead_source=lead["source"] if lead else None)
        if self.defect():
            self._spoil_sale(sale)
        self.out["sale"].append(sale)
        return sale

    def _spoil_sale(self, sale: dict) -> None:
        """Leave out fields a careless salesperson skips (still valid on the wire)."""
        field_ = self.rng.choice(("address", "engine_number", "color"))
        if field_ == "address":
            sale["customer"]["address"] = ""
        else:
            sale["vehicle"][field_] = ""

    def _vin(self, model: ref.CarModel, year: int) -> str:
        """A VIN unique across dealers with a correct check digit (ISO 3779)."""
        if self.vehicle_seq >= VEHICLES_PER_DEALER:
            raise ValueError(f"dealer {self.dealer.code} has more than {VEHICLES_PER_DEALER} "
                             "vehicles; lower the volume")
        key = self.dealer.index * VEHICLES_PER_DEALER + self.vehicle_seq
        self.vehicle_seq += 1
        year_code = ref.YEAR_CODES[(year - 1980) % 30]
        draft = f"{model.wmi}{model.vds}0{year_code}{model.plant}{vin_serial(key)}"
        return draft[:8] + vin_check_digit(draft) + draft[9:]

    # after the sale: contacts, surveys, complaints ----------------------------------------

    def _after_sale(self, sale: dict) -> None:
        vin, sold = sale["vehicle"]["vin"], sale["updated_at"]
        by = sale["salesperson"]
        first = None
        if self.chance(0.1 + 0.88 * self.d):
            first = sold + dt.timedelta(days=self.rng.triangular(1, 30, 5))
        elif self.chance(0.5):
            first = sold + dt.timedelta(days=self.rng.uniform(31, 100))
        if first is not None and first < self.cutoff:
            self.contact(vin, first, by, "post_sale")
        self._periodic_contacts(vin, first or sold, sold)
        self._survey(vin, "sale", sold + dt.timedelta(days=self.rng.uniform(3, 10)), 0.55)
        self._maybe_complaint(vin, sold, 0.03)

    def _periodic_contacts(self, vin: str, since: dt.datetime, sold: dt.datetime) -> None:
        """Contact every five to seven months for five years after the sale (DESIGN §7)."""
        end = min(self.cutoff, sold + dt.timedelta(days=5 * 365))
        at = since + dt.timedelta(days=self.rng.uniform(150, 210))
        while at < end:
            if self.chance(0.15 + 0.8 * self.d):
                self.contact(vin, self.moment(at.date()), self.rng.choice(self.staff.advisors),
                             "periodic")
            at += dt.timedelta(days=self.rng.uniform(150, 210))

    def _survey(self, vin: str, about: str, at: dt.datetime, probability: float) -> None:
        if at >= self.cutoff or not self.chance(probability):
            return
        if self.chance(0.25 + 0.55 * self.d):
            score = 5
        else:
            score = self.rng.choices((4, 3, 2, 1), weights=(60, 25, 10, 5))[0]
        survey = self.header("survey", at)
        survey.update(customer_ref=vin, about=about, score=score, at=at)
        self.out["survey"].append(survey)

    def _maybe_complaint(self, vin: str, after: dt.datetime, probability: float) -> None:
        received = after + dt.timedelta(days=self.rng.uniform(1, 20))
        if received >= self.cutoff or not self.chance(probability * (1.6 - self.d)):
            return
        category, description = self.rng.choice(ref.COMPLAINT_CATEGORIES)
        complaint = self.header("complaint", received)
        complaint.update(customer_ref=vin, received_at=received, channel=self.pick(CHANNELS),
                         category=category, description=description, status="open",
                         answered_at=None, resolved_at=None, resolution="")
        self._complaint_progress(complaint)
        self.out["complaint"].append(complaint)

    def _complaint_progress(self, complaint: dict) -> None:
        """Answer within 24 h as often as the dealer's discipline allows, then maybe resolve."""
        hours = (self.rng.uniform(1, 23) if self.chance(0.2 + 0.78 * self.d)
                 else self.rng.uniform(25, 160))
        answered = complaint["received_at"] + dt.timedelta(hours=hours)
        if answered >= self.cutoff:
            return
        complaint.update(status="answered", answered_at=answered, updated_at=answered)
        resolved = answered + dt.timedelta(days=self.rng.uniform(1, 10))
        if resolved < self.cutoff and self.chance(0.85):
            complaint.update(status="resolved", resolved_at=resolved, updated_at=resolved,
                             resolution=self.rng.choice(ref.RESOLUTIONS))

    # repair orders ------------------------------------------------------------------------

    def _repair_orders(self, sales: list[dict]) -> list[dict]:
        orders: list[dict] = []
        retention = 0.45 + 0.45 * self.d
        for sale in sales:
            if self.chance(retention):
                orders += self._visits(self._vehicle_of(sale))
        for vehicle in self._outside_vehicles():
            orders += self._visits(vehicle)
        self.out["repair_order"] = orders
        return orders

    def _vehicle_of(self, sale: dict) -> dict:
        v = sale["vehicle"]
        return {"vin": v["vin"], "model": v["model"], "sold": sale["updated_at"],
                "km_per_day": self.rng.uniform(25, 75)}

    def _outside_vehicles(self) -> list[dict]:
        """Vehicles sold before the period or by other dealers of the region."""
        start = dt.datetime.combine(self.config.start, dt.time(), SHANGHAI).astimezone(dt.UTC)
        vehicles = []
        for _ in range(self.count(OUTSIDE_VEHICLES * self.scale * self.config.months / 24)):
            model = self._model()
            sold = start - dt.timedelta(days=self.rng.uniform(60, 6 * 365))
            year = sold.astimezone(SHANGHAI).year
            vehicles.append({"vin": self._vin(model, year), "model": model.name, "sold": sold,
                             "km_per_day": self.rng.uniform(25, 75)})
        taken = self.rng.sample(self.pool, min(len(self.pool), round(8 * self.scale)))
        return vehicles + taken

    def _visits(self, vehicle: dict) -> list[dict]:
        """Service visits every five to eight months after the sale, within the period."""
        start = dt.datetime.combine(self.config.start, dt.time(), SHANGHAI).astimezone(dt.UTC)
        at = vehicle["sold"] + dt.timedelta(days=self.rng.uniform(90, 150))
        orders, first = [], True
        while at < self.cutoff:
            if at >= start and self.chance(0.85):
                orders.append(self._repair_order(vehicle, self.moment(at.date(), 8, 17), first))
            first = False
            at += dt.timedelta(days=self.rng.uniform(150, 240))
        return orders

    def _repair_order(self, vehicle: dict, opened: dt.datetime, first: bool) -> dict:
        job = ref.JOBS[0] if first else self.rng.choices(
            ref.JOBS, weights=[j.weight for j in ref.JOBS])[0]
        age_days = (opened - vehicle["sold"]).days
        odometer = int(age_days * vehicle["km_per_day"]) + self.rng.randrange(500)
        hours = Decimal(str(round(self.rng.uniform(*job.hours), 1)))
        parts = [self._part(key, vehicle["model"]) for key in job.parts]
        closed = opened + dt.timedelta(hours=float(hours) * 1.5 + self.rng.uniform(0.5, 3))
        closed = closed if closed < self.cutoff else None
        order = self.header("repair_order", closed or opened)
        order.update(ro_number="", vin=vehicle["vin"], opened_at=opened, closed_at=closed,
                     odometer_km=odometer, customer_complaint=job.complaint,
                     work_performed=job.work, parts=parts,
                     technician=self.rng.choice(self.staff.technicians), labor_hours=hours,
                     amount=_amount(hours, job.parts, parts),
                     warranty=job.warranty_eligible and age_days < 3 * 365 and odometer < 100_000)
        if self.defect():
            self._spoil_order(order)
        return order

    def _part(self, key: str, model_name: str) -> dict:
        spec = ref.PARTS[key]
        return {"part_number": f"{spec.base + _MODEL_INDEX[model_name] * 17:08d}",
                "name": spec.name, "qty": self.rng.randint(*spec.qty)}

    def _spoil_order(self, order: dict) -> None:
        """Leave out what a hurried service advisor skips: the parts lines, often the texts."""
        order["parts"] = []
        if self.chance(0.3):
            order.update(customer_complaint="", work_performed="")

    def _after_repair(self, order: dict) -> None:
        closed = order["closed_at"]
        if closed is None:
            return
        self._survey(order["vin"], "repair", closed + dt.timedelta(days=self.rng.uniform(2, 7)),
                     0.2)
        self._maybe_complaint(order["vin"], closed, 0.02)

    def _share_vehicles(self, sales: list[dict]) -> None:
        """Put a few sold vehicles where the region's later dealers may service them."""
        for sale in sales:
            if not self.chance(0.04):
                continue
            vehicle = self._vehicle_of(sale)
            if len(self.pool) < 400:
                self.pool.append(vehicle)
            else:
                self.pool[self.rng.randrange(len(self.pool))] = vehicle


_MODEL_INDEX = {m.name: i for i, m in enumerate(ref.MODELS)}
LABOUR_RATE = 260  # CNY per hour


def _amount(hours: Decimal, keys: tuple[str, ...], parts: list[dict]) -> Decimal:
    parts_total = sum(ref.PARTS[key].price * p["qty"] for key, p in zip(keys, parts, strict=True))
    return (hours * LABOUR_RATE + parts_total).quantize(Decimal("0.01"))
