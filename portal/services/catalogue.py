"""The catalogue: the rule engine that judges a configuration, and HQ's catalogue edits.

:func:`check_configuration` is a pure function over a :class:`ModelSpec` snapshot;
the configurator calls it on every pick and the order service calls it again when
an order is saved, so the browser can never sneak an invalid vehicle through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import Row
from sqlmodel import Session, select

from common.i18n import N_
from common.validators import FieldError
from portal.models import (
    AuditLog,
    Brand,
    CarModel,
    CatalogueOption,
    CatalogueRule,
    Colour,
    Trim,
)
from portal.services.sync import publish_change

REQUIRES, EXCLUDES, NOT_OFFERED = "requires", "excludes", "not_offered"
RULE_KINDS = (REQUIRES, EXCLUDES, NOT_OFFERED)
ITEM_TABLES = {"trim": Trim, "colour": Colour, "option": CatalogueOption}
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,29}")


class CatalogueError(FieldError):
    """A catalogue edit or a configuration request that cannot be accepted."""


# ---------------------------------------------------------------- the pure rule engine


@dataclass(frozen=True)
class Name:
    zh: str
    en: str

    def pick(self, chinese: bool) -> str:
        return self.zh if chinese else self.en


@dataclass(frozen=True)
class Item:
    kind: str  # trim | colour | option
    code: str
    name: Name
    price: Decimal = Decimal(0)

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.code}"


@dataclass(frozen=True)
class Rule:
    kind: str
    subject: str  # a ref, "option:leather"
    target: str


@dataclass(frozen=True)
class ModelSpec:
    """Everything the rule engine needs to know about one model, detached from the database."""

    model_id: int
    code: str
    name: Name
    brand: Name
    trims: tuple[Item, ...]
    colours: tuple[Item, ...]
    options: tuple[Item, ...]
    rules: tuple[Rule, ...] = ()

    def item(self, ref: str) -> Item | None:
        return self._index().get(ref)

    def _index(self) -> dict[str, Item]:
        return {i.ref: i for i in (*self.trims, *self.colours, *self.options)}


@dataclass(frozen=True)
class Selection:
    trim: str | None = None
    colour: str | None = None
    options: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Alternative:
    """A change that would resolve a problem: set_trim, set_colour, add_option, remove_option."""

    action: str
    code: str
    name: Name
    price: Decimal = Decimal(0)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str  # msgid with %(name)s parameters
    params: dict[str, Name] = field(default_factory=dict)
    alternatives: tuple[Alternative, ...] = ()

    def render(self, gettext: Callable[[str], str] = lambda s: s, chinese: bool = False) -> str:
        """The explanation in the user's language."""
        return gettext(self.message) % {k: v.pick(chinese) for k, v in self.params.items()}


@dataclass(frozen=True)
class Verdict:
    problems: tuple[Problem, ...]
    price: Decimal
    complete: bool

    @property
    def ok(self) -> bool:
        return self.complete and not self.problems


def check_configuration(spec: ModelSpec, selection: Selection) -> Verdict:
    """Judge *selection* against *spec*: what is missing or invalid, why, and what would fit."""
    problems = [*_missing(spec, selection), *_unknown(spec, selection)]
    if selection.trim and spec.item(f"trim:{selection.trim}"):
        problems += _not_offered_problems(spec, selection)
    problems += _requires_problems(spec, selection)
    problems += _excludes_problems(spec, selection)
    complete = bool(selection.trim and selection.colour)
    return Verdict(tuple(problems), price_of(spec, selection), complete)


def price_of(spec: ModelSpec, selection: Selection) -> Decimal:
    """The unit price: trim base price plus colour and option surcharges of known items."""
    refs = [f"trim:{selection.trim}", f"colour:{selection.colour}"]
    refs += [f"option:{code}" for code in selection.options]
    return sum((i.price for i in map(spec.item, refs) if i is not None), Decimal(0))


def offered(spec: ModelSpec, item: Item, trim: str | None) -> bool:
    """False when a ``not_offered`` rule removes *item* from *trim*."""
    target = f"trim:{trim}"
    return not any(r.kind == NOT_OFFERED and r.subject == item.ref and r.target == target
                   for r in spec.rules)


def option_hints(spec: ModelSpec, option: Item, selection: Selection) -> tuple[Problem, ...]:
    """What picking *option* now would violate, shown next to it before it is picked."""
    trial = Selection(selection.trim, selection.colour, selection.options | {option.code})
    found = [*_requires_problems(spec, trial), *_excludes_problems(spec, trial)]
    return tuple(p for p in found if option.name in p.params.values())


def _missing(spec: ModelSpec, selection: Selection) -> list[Problem]:
    problems = []
    if not selection.trim:
        problems.append(Problem("trim_required", N_("Choose a trim."), {},
                                tuple(_set(spec.trims, "set_trim"))))
    if not selection.colour:
        colours = [c for c in spec.colours if offered(spec, c, selection.trim)]
        problems.append(Problem("colour_required", N_("Choose a colour."), {},
                                tuple(_set(colours, "set_colour"))))
    return problems


def _unknown(spec: ModelSpec, selection: Selection) -> list[Problem]:
    refs = [f"option:{c}" for c in sorted(selection.options)]
    refs += [r for r in (f"trim:{selection.trim}", f"colour:{selection.colour}")
             if not r.endswith(":None")]
    return [
        Problem("unknown_item", N_("'%(code)s' is not (or no longer) offered for %(model)s."),
                {"code": Name(ref.split(":", 1)[1], ref.split(":", 1)[1]), "model": spec.name})
        for ref in refs if spec.item(ref) is None
    ]


def _not_offered_problems(spec: ModelSpec, selection: Selection) -> list[Problem]:
    trim = spec.item(f"trim:{selection.trim}")
    chosen = [spec.item(f"colour:{selection.colour}")]
    chosen += [spec.item(f"option:{c}") for c in sorted(selection.options)]
    return [_not_offered(spec, item, trim) for item in chosen
            if item is not None and not offered(spec, item, trim.code)]


def _not_offered(spec: ModelSpec, item: Item, trim: Item) -> Problem:
    trims = [t for t in spec.trims if offered(spec, item, t.code)]
    alternatives = _set(trims, "set_trim")
    if item.kind == "colour":
        colours = [c for c in spec.colours if offered(spec, c, trim.code)]
        alternatives += _set(colours, "set_colour")
    else:
        alternatives.append(Alternative("remove_option", item.code, item.name))
    message = (N_("The colour %(item)s is not offered on the %(trim)s trim.")
               if item.kind == "colour"
               else N_("The option %(item)s is not offered on the %(trim)s trim."))
    return Problem("not_offered", message, {"item": item.name, "trim": trim.name},
                   tuple(alternatives))


def _requires_problems(spec: ModelSpec, selection: Selection) -> list[Problem]:
    problems = []
    for code in sorted(selection.options):
        option = spec.item(f"option:{code}")
        if option is not None:
            problems += _requires_of(spec, option, selection)
    return problems


def _requires_of(spec: ModelSpec, option: Item, selection: Selection) -> list[Problem]:
    targets = [spec.item(r.target) for r in spec.rules
               if r.kind == REQUIRES and r.subject == option.ref]
    targets = [t for t in targets if t is not None]
    trims = [t for t in targets if t.kind == "trim"]
    problems = []
    if trims and selection.trim not in {t.code for t in trims}:
        problems.append(_requires_trim(option, trims))
    for other in (t for t in targets if t.kind == "option"):
        if other.code not in selection.options:
            problems.append(Problem(
                "requires", N_("The option %(option)s requires the option %(other)s."),
                {"option": option.name, "other": other.name},
                (Alternative("add_option", other.code, other.name, other.price),
                 Alternative("remove_option", option.code, option.name)),
            ))
    return problems


def _requires_trim(option: Item, trims: list[Item]) -> Problem:
    message = (N_("The option %(option)s requires the %(trim)s trim.") if len(trims) == 1
               else N_("The option %(option)s requires one of these trims: %(trim)s."))
    return Problem(
        "requires_trim", message, {"option": option.name, "trim": _join(t.name for t in trims)},
        (*_set(trims, "set_trim"), Alternative("remove_option", option.code, option.name)),
    )


def _excludes_problems(spec: ModelSpec, selection: Selection) -> list[Problem]:
    problems = []
    for rule in (r for r in spec.rules if r.kind == EXCLUDES):
        a, b = spec.item(rule.subject), spec.item(rule.target)
        if a and b and {a.code, b.code} <= selection.options:
            problems.append(Problem(
                "excludes", N_("The option %(option)s cannot be combined with %(other)s."),
                {"option": a.name, "other": b.name},
                (Alternative("remove_option", b.code, b.name),
                 Alternative("remove_option", a.code, a.name)),
            ))
    return problems


def _set(items: Iterable[Item], action: str) -> list[Alternative]:
    return [Alternative(action, i.code, i.name, i.price) for i in items]


def _join(names: Iterable[Name]) -> Name:
    names = list(names)
    return Name("、".join(n.zh for n in names), ", ".join(n.en for n in names))


# ---------------------------------------------------------------- reading the catalogue


def brands(*, session: Session) -> list[Brand]:
    return list(session.exec(select(Brand).where(Brand.active).order_by(Brand.sort, Brand.id)))


def _active_models(*columns):
    return select(*columns).where(CarModel.active).order_by(CarModel.sort, CarModel.id)


def models(*, session: Session, brand_id: int | None = None) -> list[CarModel]:
    stmt = _active_models(CarModel)
    if brand_id is not None:
        stmt = stmt.where(CarModel.brand_id == brand_id)
    return list(session.exec(stmt))


def model_names(*, session: Session) -> list[Row]:
    """The active models' ids and names, for a filter (rows: the list needs no ORM objects)."""
    return list(session.exec(_active_models(CarModel.id, CarModel.name_zh, CarModel.name_en)))


def models_all(*, session: Session, brand_id: int) -> list[CarModel]:
    """Every model of a brand, deactivated ones included (for HQ)."""
    return list(session.exec(select(CarModel).where(CarModel.brand_id == brand_id)
                             .order_by(CarModel.sort, CarModel.id)))


def item_rows(*, session: Session, model_id: int) -> dict[str, list]:
    """The trims, colours and options of a model as rows, deactivated ones included."""
    return {kind: list(session.exec(select(table).where(table.model_id == model_id)
                                    .order_by(table.sort, table.id)))
            for kind, table in ITEM_TABLES.items()}


def rules_of(*, session: Session, model_id: int) -> list[CatalogueRule]:
    return list(session.exec(select(CatalogueRule).where(CatalogueRule.model_id == model_id)
                             .order_by(CatalogueRule.kind, CatalogueRule.id)))


def build_spec(*, session: Session, model_id: int, include_inactive: bool = False) -> ModelSpec:
    """Snapshot one model's active trims, colours, options and rules for the rule engine."""
    model = session.get(CarModel, model_id)
    if model is None:
        raise CatalogueError("unknown_model", N_("This model does not exist."))
    brand = session.get(Brand, model.brand_id)
    items = {kind: tuple(_items(session, kind, model_id, include_inactive))
             for kind in ITEM_TABLES}
    rules = session.exec(select(CatalogueRule).where(CatalogueRule.model_id == model_id,
                                                     CatalogueRule.active)).all()
    return ModelSpec(model.id, model.code, Name(model.name_zh, model.name_en),
                     Name(brand.name_zh, brand.name_en), items["trim"], items["colour"],
                     items["option"], tuple(Rule(r.kind, r.subject, r.target) for r in rules))


def _items(session: Session, kind: str, model_id: int, include_inactive: bool) -> Iterable[Item]:
    table = ITEM_TABLES[kind]
    stmt = select(table).where(table.model_id == model_id).order_by(table.sort, table.id)
    if not include_inactive:
        stmt = stmt.where(table.active)
    for row in session.exec(stmt):
        yield Item(kind, row.code, Name(row.name_zh, row.name_en), row.price)


def spec_payload(spec: ModelSpec) -> dict:
    """The model's catalogue as JSON, as agents receive it through the change feed."""

    def items(seq):
        return [{"code": i.code, "name_zh": i.name.zh, "name_en": i.name.en,
                 "price": str(i.price)} for i in seq]

    return {"model_id": spec.model_id, "model": spec.code, "name_zh": spec.name.zh,
            "name_en": spec.name.en, "brand_zh": spec.brand.zh, "brand_en": spec.brand.en,
            "trims": items(spec.trims), "colours": items(spec.colours),
            "options": items(spec.options),
            "rules": [{"kind": r.kind, "subject": r.subject, "target": r.target}
                      for r in spec.rules]}


# ---------------------------------------------------------------- HQ edits


@dataclass(frozen=True)
class ItemInput:
    code: str
    name_zh: str
    name_en: str
    price: str
    active: bool = True


def save_item(*, session: Session, kind: str, model_id: int, data: ItemInput,
              actor: str, item_id: int | None = None) -> object:
    """Create or update a trim, colour or option; audit it and publish the model to agents."""
    table = ITEM_TABLES[kind]
    price = _validate_item(data)
    row = session.get(table, item_id) if item_id else table(model_id=model_id, code=data.code)
    if row is None or row.model_id != model_id:
        raise CatalogueError("unknown_item", N_("This item does not exist."))
    _check_code_free(session, table, model_id, data.code, row.id)
    before = {"price": str(row.price), "active": row.active} if item_id else None
    row.code, row.name_zh, row.name_en = data.code, data.name_zh.strip(), data.name_en.strip()
    row.price, row.active = price, data.active
    session.add(row)
    session.flush()
    _record(session, model_id=model_id, actor=actor, action=f"catalogue.{kind}.save",
            target=f"{kind}:{row.code}", detail={"before": before, "price": str(price),
                                                  "active": data.active})
    return row


def _validate_item(data: ItemInput) -> Decimal:
    if not _CODE.fullmatch(data.code or ""):
        raise CatalogueError("code", N_("The code uses letters, digits, '.', '-' or '_' "
                                        "(at most 30 characters)."))
    if not data.name_zh.strip() or not data.name_en.strip():
        raise CatalogueError("name", N_("Give both the Chinese and the English name."))
    try:
        price = Decimal(str(data.price).replace(",", "").strip() or "0")
    except InvalidOperation:
        price = Decimal(-1)
    if not price.is_finite() or price < 0 or price >= Decimal("1e10"):
        raise CatalogueError("price", N_("The price must be a number of yuan, 0 or more."))
    return price.quantize(Decimal("0.01"))


def _check_code_free(session: Session, table, model_id: int, code: str, own_id) -> None:
    clash = session.exec(select(table).where(table.model_id == model_id,
                                             table.code == code)).first()
    if clash is not None and clash.id != own_id:
        raise CatalogueError("code_taken", N_("The code %(code)s is already used in this "
                                              "model."), code=code)


def add_rule(*, session: Session, model_id: int, kind: str, subject: str, target: str,
             actor: str) -> CatalogueRule:
    """Add a validity rule after checking that it makes sense for the model."""
    spec = build_spec(session=session, model_id=model_id, include_inactive=True)
    _validate_rule(spec, kind, subject, target)
    rule = session.exec(select(CatalogueRule).where(
        CatalogueRule.model_id == model_id, CatalogueRule.kind == kind,
        CatalogueRule.subject == subject, CatalogueRule.target == target)).first()
    rule = rule or CatalogueRule(model_id=model_id, kind=kind, subject=subject, target=target)
    rule.active = True
    session.add(rule)
    session.flush()
    _record(session, model_id=model_id, actor=actor, action="catalogue.rule.add",
            target=f"{kind} {subject} {target}", detail={})
    return rule


_RULE_SHAPES = {
    REQUIRES: ({"option"}, {"trim", "option"}),
    EXCLUDES: ({"option"}, {"option"}),
    NOT_OFFERED: ({"colour", "option"}, {"trim"}),
}


def _validate_rule(spec: ModelSpec, kind: str, subject: str, target: str) -> None:
    if kind not in _RULE_SHAPES:
        raise CatalogueError("rule_kind", N_("Choose the kind of rule."))
    if spec.item(subject) is None or spec.item(target) is None or subject == target:
        raise CatalogueError("rule_items", N_("Choose two different items of this model."))
    subjects, targets = _RULE_SHAPES[kind]
    if subject.split(":")[0] not in subjects or target.split(":")[0] not in targets:
        raise CatalogueError("rule_shape", N_(
            "This rule does not fit: 'requires' links an option to a trim or option, "
            "'excludes' two options, 'not offered on' a colour or option to a trim."))


def set_rule_active(*, session: Session, rule_id: int, active: bool, actor: str) -> CatalogueRule:
    rule = session.get(CatalogueRule, rule_id)
    if rule is None:
        raise CatalogueError("unknown_rule", N_("This rule does not exist."))
    rule.active = active
    session.add(rule)
    session.flush()
    _record(session, model_id=rule.model_id, actor=actor,
            action="catalogue.rule." + ("activate" if active else "deactivate"),
            target=f"{rule.kind} {rule.subject} {rule.target}", detail={})
    return rule


def _record(session: Session, *, model_id: int, actor: str, action: str, target: str,
            detail: dict) -> None:
    """Audit an HQ catalogue edit and publish the model's new catalogue to every agent."""
    spec = build_spec(session=session, model_id=model_id)
    session.add(AuditLog(actor=actor, action=action, target=f"{spec.code} {target}",
                         detail=detail))
    publish(session, dealer_id=None, kind="catalogue", payload=spec_payload(spec))


def publish(session: Session, *, dealer_id: int | None, kind: str, payload: dict) -> None:
    """Append a change for the agents to pull (``dealer_id`` None: every dealer)."""
    publish_change(session, dealer_id=dealer_id, kind=kind, payload=payload)
