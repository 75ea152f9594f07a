"""Read DMS exports (CSV or XLSX) and map their columns onto the canonical record fields.

Dealer management systems export with their own headers, mostly Chinese (车架号, 客户姓名,
维修单号 …). :data:`HEADER_ALIASES` is the one table that recognises them; add a row to teach
it another header. A header can mean different fields in different kinds (a VIN column is
``vehicle.vin`` in a sale, ``vin`` in a repair order, ``customer_ref`` in a contact), so each
row lists its candidate targets and the record kind picks the first one it has. Values are
normalised on the way (Chinese dates, enum labels such as 电话 → ``call``, 是/否). A mapping can
be saved under a source name in the agent store and reused for the next export of that source.
The mapped rows go to :func:`sync_agent.importer.import_rows`, which owns saving, quarantine and
de-duplication.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import types
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from common.followup import BUSINESS_TZ
from common.i18n import N_, load_catalogue
from common.labels import LABELS
from common.schemas import RECORD_MODELS
from sync_agent.records import HEADER_FIELDS, KINDS
from sync_agent.store import Store

MAPPINGS_META = "import_mappings"
IGNORE = ""  # target of a column that is not imported
XLSX_SUFFIXES = {".xlsx", ".xlsm"}

# (headers as DMS exports write them, candidate targets in order of preference)
HEADER_ALIASES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("车架号", "底盘号", "VIN", "VIN码", "车辆识别代号", "车辆识别号", "vin number",
      "chassis number", "chassis no"), ("vehicle.vin", "vin", "customer_ref")),
    (("客户姓名", "客户名称", "客户", "车主", "姓名", "customer name", "customer", "name"),
     ("customer.name", "name")),
    (("电话", "手机", "手机号", "联系电话", "客户电话", "phone", "mobile", "telephone", "tel"),
     ("customer.phone", "phone")),
    (("地址", "客户地址", "address"), ("customer.address",)),
    (("邮编", "邮政编码", "postcode", "zip", "postal code"), ("customer.postcode",)),
    (("客户类型", "customer type"), ("customer.customer_type",)),
    (("发动机号", "engine number", "engine no"), ("vehicle.engine_number",)),
    (("品牌", "brand", "make"), ("vehicle.brand",)),
    (("车型", "车系", "model"), ("vehicle.model", "interested_model")),
    (("意向车型", "interested model"), ("interested_model",)),
    (("配置", "款型", "trim"), ("vehicle.trim",)),
    (("颜色", "车身颜色", "color", "colour"), ("vehicle.color",)),
    (("年款", "车型年份", "model year"), ("vehicle.model_year",)),
    (("合同号", "销售单号", "销售合同号", "订单号", "deal number", "deal no", "contract number"),
     ("deal_number",)),
    (("销售日期", "开票日期", "交车日期", "sale date", "sold on"), ("sale_date",)),
    (("销售顾问", "销售员", "salesperson", "sales consultant", "sales person"), ("salesperson",)),
    (("成交价", "售价", "车价", "price", "sale price"), ("price",)),
    (("金额", "维修金额", "结算金额", "amount", "total"), ("amount", "price")),
    (("线索来源", "来源", "lead source", "source"), ("lead_source", "source")),
    (("维修单号", "工单号", "委托书号", "ro number", "ro no", "repair order number", "work order"),
     ("ro_number",)),
    (("进厂时间", "开单时间", "接车时间", "opened at", "open date", "date in"), ("opened_at",)),
    (("完工时间", "出厂时间", "结算时间", "closed at", "close date", "date out"), ("closed_at",)),
    (("里程", "行驶里程", "进厂里程", "公里数", "odometer", "mileage", "odometer km"),
     ("odometer_km",)),
    (("故障描述", "客户描述", "顾客主诉", "customer complaint"), ("customer_complaint",)),
    (("维修项目", "作业内容", "work performed", "work done"), ("work_performed",)),
    (("技师", "维修技师", "technician", "mechanic"), ("technician",)),
    (("工时", "labor hours", "labour hours"), ("labor_hours",)),
    (("保修", "索赔", "三包", "warranty"), ("warranty",)),
    (("零件号", "配件号", "零件编号", "配件编号", "part number", "part no"), ("part.part_number",)),
    (("零件名称", "配件名称", "part name"), ("part.name",)),
    (("数量", "零件数量", "配件数量", "qty", "quantity"), ("part.qty",)),
    (("预计购车时间", "购车时间", "purchase timeframe", "timeframe"), ("purchase_timeframe",)),
    (("状态", "status"), ("status",)),
    (("客户标识", "客户编号", "customer ref", "customer reference"), ("customer_ref",)),
    (("联系方式", "回访方式", "渠道", "方式", "channel"), ("channel",)),
    (("联系时间", "回访时间", "调查时间", "时间", "日期", "at", "date"), ("at", "sale_date")),
    (("回访人", "联系人", "by", "contacted by"), ("by",)),
    (("回访结果", "结果", "outcome", "result"), ("outcome",)),
    (("备注", "notes", "remarks"), ("notes",)),
    (("投诉时间", "受理时间", "received at"), ("received_at",)),
    (("投诉类别", "类别", "category"), ("category",)),
    (("投诉内容", "描述", "description", "complaint"), ("description", "customer_complaint")),
    (("答复时间", "answered at"), ("answered_at",)),
    (("解决时间", "resolved at"), ("resolved_at",)),
    (("处理结果", "解决方案", "resolution"), ("resolution",)),
    (("调查对象", "about"), ("about",)),
    (("评分", "满意度", "score", "rating"), ("score",)),
    (("记录类型", "类型", "kind", "record type"), ("kind",)),
    (("记录编号", "record id"), ("record_id",)),
]
# words DMS exports use for enum values, beyond the values and their labels in both languages
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "CustomerType": {"公司": "company", "企业": "company", "私人": "individual"},
    "LeadTimeframe": {"3个月内": "within_3_months", "6个月内": "within_6_months",
                      "1年内": "within_1_year", "马上": "immediate"},
    "ContactChannel": {"电话回访": "call", "来店": "visit", "到店": "visit", "邮件": "email"},
    "SurveyAbout": {"销售": "sale", "维修": "repair", "售后": "repair"},
}
# a column with one of these targets tells the kind of the whole file
KIND_HINTS = {"ro_number": "repair_order", "deal_number": "sale", "purchase_timeframe": "lead",
              "received_at": "complaint", "score": "survey", "by": "contact"}
_TRUE = {"1", "true", "yes", "y", "是", "有", "√"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×"}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


class UnreadableFile(ValueError):
    """The file is not a CSV or XLSX export we can read; the message (a msgid) says why."""

    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        super().__init__(message % params if params else message)

    def render(self, gettext=lambda s: s) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


@dataclass
class Table:
    """A DMS export as read: its headers and its rows (line number, header → cell text)."""

    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class Mapping:
    """Which canonical field each column fills, for records of one kind (None: a kind column)."""

    kind: str | None
    columns: dict[str, str] = field(default_factory=dict)  # header -> target ("" = ignore)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "columns": self.columns}


# -- reading ---------------------------------------------------------------------------------


def read_table(path: str | Path) -> Table:
    """Read a CSV (UTF-8 or GB18030, as Chinese DMSs write) or XLSX export."""
    path = Path(path)
    if path.suffix.lower() in XLSX_SUFFIXES:
        return _read_xlsx(path)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return _read_csv(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(N_("The file is neither UTF-8 nor GB18030 text; export it as CSV or "
                            "XLSX."))


def _read_csv(text: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = [h.strip() for h in next(reader, [])]
    if not any(headers):
        raise UnreadableFile(N_("The file is empty or its first line has no column names."))
    rows = [(reader.line_num, _cells(headers, values)) for values in reader if any(values)]
    return Table(headers, rows)


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook  # only imports need it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(N_("The workbook cannot be opened (%(detail)s)."),
                             detail=str(error) or type(error).__name__) from None
    try:
        lines = book.worksheets[0].iter_rows(values_only=True)
        headers = [_cell_text(v).strip() for v in next(lines, ())]
        if not any(headers):
            raise UnreadableFile(N_("The first sheet's first row has no column names."))
        rows = [(number, _cells(headers, [_cell_text(v) for v in values]))
                for number, values in enumerate(lines, start=2)
                if any(v is not None for v in values)]
    finally:
        book.close()
    return Table(headers, rows)


def _cells(headers: list[str], values: list[str]) -> dict[str, str]:
    return {h: (values[i] if i < len(values) else "").strip() for i, h in enumerate(headers) if h}


def _cell_text(value: Any) -> str:
    """Excel cells come typed: dates as datetimes, numbers as floats (12000.0 means 12000)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- recognising -----------------------------------------------------------------------------


def normalise_header(text: str) -> str:
    """Compare headers without case, width, spaces, underscores or punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s_\-:：()（）.]+", "", text)


@cache
def _alias_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for kind in KINDS:
        for target in targets(kind):
            index.setdefault(normalise_header(target), (target,))
    for aliases, candidates in HEADER_ALIASES:
        for alias in aliases:
            index[normalise_header(alias)] = candidates
    return index


@cache
def targets(kind: str) -> tuple[str, ...]:
    """Every canonical (dotted) field a column can fill in a record of *kind*."""
    names = ["record_id"] + _model_fields(RECORD_MODELS[kind], "")
    if kind == "repair_order":
        names.remove("parts")
        names += ["part.part_number", "part.name", "part.qty", "parts"]
    return tuple(names)


def _model_fields(model: type[BaseModel], prefix: str) -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        if name in HEADER_FIELDS and name != "kind":
            continue
        if name == "kind" and not prefix:
            continue
        inner = _nested_model(info.annotation)
        names += _model_fields(inner, f"{prefix}{name}.") if inner else [prefix + name]
    return names


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def recognise(headers: list[str], kind: str | None = None) -> Mapping:
    """Guess the target of every header (and the kind, unless given or a column says it)."""
    index = _alias_index()
    candidates = {h: index.get(normalise_header(h), ()) for h in headers}
    has_kind_column = any("kind" in c for c in candidates.values())
    if kind is None and not has_kind_column:
        kind = guess_kind(candidates)
    columns, taken = {}, set()
    for header in headers:
        target = _pick(candidates[header], kind, taken)
        columns[header] = target
        if target:
            taken.add(target)
    return Mapping(kind, columns)


def guess_kind(candidates: dict[str, tuple[str, ...]]) -> str | None:
    for options in candidates.values():
        for target in options[:1]:
            if target in KIND_HINTS:
                return KIND_HINTS[target]
    return None


def _pick(options: tuple[str, ...], kind: str | None, taken: set[str]) -> str:
    allowed = set(targets(kind)) | {"kind"} if kind else _every_target()
    for target in options:
        if target in allowed and target not in taken:
            return target
    return IGNORE


@cache
def _every_target() -> frozenset[str]:
    return frozenset({"kind"}.union(*(targets(k) for k in KINDS)))


# -- applying --------------------------------------------------------------------------------


def apply(mapping: Mapping, table: Table) -> list[tuple[int, dict[str, Any]]]:
    """Rows with canonical dotted names and normalised values, ready for ``import_rows``."""
    rows = []
    for line, cells in table.rows:
        data: dict[str, Any] = {}
        for header, target in mapping.columns.items():
            value = cells.get(header, "")
            if target and value:
                data[target] = value
        kind = data.get("kind") or mapping.kind
        if data.get("kind"):
            data["kind"] = _kind_value(data["kind"])
            kind = data["kind"]
        rows.append((line, {k: convert(kind, k, v) for k, v in data.items()}))
    return rows


def convert(kind: str | None, target: str, value: str) -> Any:
    """Normalise one cell for *target*: dates, booleans and enum labels in either language."""
    kind_type = _field_type(kind, target) if kind in RECORD_MODELS else None
    if kind_type is None:
        return value
    if kind_type is bool:
        low = value.strip().lower()
        return True if low in _TRUE else False if low in _FALSE else value
    if kind_type in (dt.date, dt.datetime):
        return _date_value(value, with_time=kind_type is dt.datetime)
    if isinstance(kind_type, type) and issubclass(kind_type, StrEnum):
        return enum_value(kind_type, value)
    if kind_type in (int, Decimal):
        return value.replace(",", "").replace("，", "")
    return value


def _field_type(kind: str, target: str) -> Any:
    model: Any = RECORD_MODELS[kind]
    *parents, last = ("parts." + target[5:] if target.startswith("part.") else target).split(".")
    for name in parents:
        info = model.model_fields.get(name)
        if info is None:
            return None
        model = _nested_model(info.annotation) or _list_item(info.annotation)
        if model is None:
            return None
    info = model.model_fields.get(last)
    return _plain(info.annotation) if info else None


def _list_item(annotation: Any) -> type[BaseModel] | None:
    for arg in get_args(annotation):
        if _nested_model(arg) or _list_item(arg):
            return _nested_model(arg) or _list_item(arg)
    return None


def _plain(annotation: Any) -> Any:
    """``X | None`` and ``Annotated[X, …]`` → X."""
    while get_origin(annotation) in (Union, types.UnionType) or hasattr(annotation, "__metadata__"):
        if hasattr(annotation, "__metadata__"):
            annotation = annotation.__origin__
            continue
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return annotation


def _date_value(value: str, *, with_time: bool) -> str:
    match = _DATE.match(value.strip())
    if not match:
        return value  # validation explains what a date looks like
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    try:
        when = dt.datetime(year, month, day, hour, minute, second, tzinfo=BUSINESS_TZ)
    except ValueError:
        return value
    return when.isoformat() if with_time else when.date().isoformat()


def enum_value(enum: type[StrEnum], text: str) -> str:
    """The enum value for its value, English label or Chinese label (else *text* unchanged)."""
    return _enum_index(enum).get(normalise_header(text), text)


@cache
def _enum_index(enum: type[StrEnum]) -> dict[str, str]:
    chinese = load_catalogue("zh_CN")
    index = {normalise_header(k): v for k, v in VALUE_ALIASES.get(enum.__name__, {}).items()}
    for member in enum:
        index[normalise_header(member.value)] = member.value
        if member in LABELS:
            index[normalise_header(LABELS[member])] = member.value
            index[normalise_header(chinese.gettext(LABELS[member]))] = member.value
    return index


def _kind_value(text: str) -> str:
    from common.enums import RecordKind

    return enum_value(RecordKind, text)


# -- saved mappings ----------------------------------------------------------------------------


def saved_mappings(store: Store) -> dict[str, Mapping]:
    """Mappings saved per source (e.g. "DMS 销售导出"), by name."""
    raw = json.loads(store.get_meta(MAPPINGS_META) or "{}")
    return {name: Mapping(m.get("kind"), dict(m.get("columns", {}))) for name, m in raw.items()}


def save_mapping(store: Store, name: str, mapping: Mapping) -> None:
    """Save (or replace) the mapping of source *name*."""
    with store.transaction():
        raw = json.loads(store.get_meta(MAPPINGS_META) or "{}")
        raw[name] = mapping.as_json()
        store.set_meta(**{MAPPINGS_META: json.dumps(raw, ensure_ascii=False, sort_keys=True)})


def mapping_for(store: Store, name: str, headers: list[str]) -> Mapping:
    """The saved mapping of *name* for these headers; headers it lacks are recognised."""
    saved = saved_mappings(store).get(name)
    if saved is None:
        return recognise(headers)
    fresh = recognise(headers, saved.kind)
    return Mapping(saved.kind, {h: saved.columns.get(h, fresh.columns[h]) for h in headers})
