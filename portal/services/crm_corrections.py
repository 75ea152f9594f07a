"""Managers' corrections and annotations of synced records: an audited overlay.

The rule (README "Corrections and annotations"):

* A synced record is owned by the dealer's agent; the portal never edits it. A manager's
  correction is a :class:`RecordCorrection` row for one field, shown *instead of* the synced value
  with "corrected by X on date". Annotations are :class:`RecordNote` rows shown beside the record.
* Every correction, annotation and review is written to the audit log
  (``record.corrected`` / ``record.annotated`` with before and after).
* A correction remembers the synced version and value it was based on. When a newer synced
  version brings a *different* value for that field, the correction is in conflict: it keeps being
  shown, marked "conflict", with the new synced value beside it, until the manager either keeps
  the correction (re-based on the new version) or accepts the synced value (the correction is
  withdrawn). Nothing is silently dropped and nothing silently wins. If the newer version carries
  the same value as before (another field changed), the correction simply stays.
* The overlay is display-only: searches, filters and metrics use the synced values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from common.enums import ComplaintStatus, LeadStatus, LeadTimeframe
from common.i18n import N_
from common.validators import FieldError, validate_postcode
from portal.models import (
    AuditLog,
    Complaint,
    Contact,
    Lead,
    RecordCorrection,
    RecordNote,
    RepairOrder,
    Sale,
    Survey,
    User,
)

MODELS = {"sale": Sale, "repair_order": RepairOrder, "lead": Lead, "contact": Contact,
          "complaint": Complaint, "survey": Survey}


class CorrectionError(ValueError):
    """A correction that cannot be applied; ``message`` is a msgid, ``params`` fill it in."""

    def __init__(self, message: str, **params) -> None:
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


def _text(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = value.strip()
        if not value or len(value) > limit:
            raise CorrectionError(N_("Enter between 1 and %(limit)s characters."), limit=limit)
        return value

    return check


def _choice(allowed: Iterable[str]) -> Callable[[str], str]:
    allowed = [str(a) for a in allowed]

    def check(value: str) -> str:
        if value not in allowed:
            raise CorrectionError(N_("Choose one of the listed values."))
        return value

    return check


def _kilometres(value: str) -> str:
    if not value.strip().isdigit() or int(value) > 2_000_000:
        raise CorrectionError(N_("Enter the odometer reading in whole kilometres (0–2,000,000)."))
    return str(int(value))


def _postcode(value: str) -> str:
    try:
        return validate_postcode(value)
    except FieldError as error:
        raise CorrectionError(error.message, **error.params) from error


# which fields a manager may correct, and how a new value is checked
CORRECTABLE: dict[str, dict[str, Callable[[str], str]]] = {
    "sale": {"customer_name": _text(100), "customer_address": _text(200),
             "customer_postcode": _postcode, "salesperson": _text(100)},
    "repair_order": {"technician": _text(100), "odometer_km": _kilometres,
                     "work_performed": _text(4000)},
    "lead": {"salesperson": _text(100), "status": _choice(LeadStatus),
             "purchase_timeframe": _choice(LeadTimeframe), "interested_model": _text(200)},
    "contact": {"outcome": _text(200), "notes": _text(4000)},
    "complaint": {"category": _text(200), "resolution": _text(4000),
                  "status": _choice(ComplaintStatus)},
}
FIELD_LABELS = {
    "customer_name": N_("Customer name"), "customer_address": N_("Address"),
    "customer_postcode": N_("Postcode"), "salesperson": N_("Salesperson"),
    "technician": N_("Technician"), "odometer_km": N_("Mileage (km)"),
    "work_performed": N_("Work performed"), "status": N_("Status"),
    "purchase_timeframe": N_("Purchase timeframe"), "interested_model": N_("Interested model"),
    "outcome": N_("Outcome"), "notes": N_("Notes"), "category": N_("Category"),
    "resolution": N_("Resolution"),
}


def as_text(value: object) -> str:
    if value is None:
        return ""
    return value.value if hasattr(value, "value") else str(value)


def get_record(*, session: Session, kind: str, record_id: uuid.UUID):
    """The synced record in the session's scope, or None (also for an unknown kind)."""
    model = MODELS.get(kind)
    if model is None:
        return None
    return session.exec(select(model).where(model.record_id == record_id)).first()


@dataclass(frozen=True)
class Overlay:
    correction: RecordCorrection
    synced_value: str

    @property
    def conflict(self) -> bool:
        return self.correction.status == "conflict" or self.synced_value != self.correction.original


def _active(session: Session, kind: str, record_ids: list) -> list[RecordCorrection]:
    if not record_ids:
        return []
    return list(session.exec(
        select(RecordCorrection).where(RecordCorrection.kind == kind,
                                       RecordCorrection.record_id.in_(record_ids),
                                       RecordCorrection.status.in_(["active", "conflict"]))
        .order_by(RecordCorrection.at)))


def overlays(*, session: Session, kind: str, records: list) -> dict[uuid.UUID, dict[str, Overlay]]:
    """The corrections in force for *records*, by record_id and field."""
    by_id = {r.record_id: r for r in records}
    result: dict[uuid.UUID, dict[str, Overlay]] = {}
    for c in _active(session, kind, list(by_id)):
        record = by_id[c.record_id]
        result.setdefault(c.record_id, {})[c.field] = Overlay(c, as_text(getattr(record, c.field)))
    return result


def effective_values(*, session: Session, kind: str, records: list,
                     overlay: dict[uuid.UUID, dict[str, Overlay]] | None = None
                     ) -> dict[uuid.UUID, dict]:
    """Every correctable field of *records* with corrections applied; pass the *overlay* of
    the same records when it is already loaded."""
    over = overlays(session=session, kind=kind, records=records) if overlay is None else overlay
    fields = CORRECTABLE.get(kind, {})
    result = {}
    for record in records:
        values = {f: as_text(getattr(record, f)) for f in fields}
        values.update({f: o.correction.value for f, o in over.get(record.record_id, {}).items()})
        result[record.record_id] = values
    return result


def _audit(session: Session, *, user: User, action: str, kind: str, record, detail: dict) -> None:
    session.add(AuditLog(dealer_id=record.dealer_id, actor_user_id=user.id,
                         actor=user.display_name or user.username, action=action,
                         target=f"{kind}:{record.record_id}", detail=detail))


def correct(*, session: Session, kind: str, record, field: str, value: str,
            user: User) -> RecordCorrection:
    """Record a manager's value for *field*, replacing an earlier correction of it (audited)."""
    check = CORRECTABLE.get(kind, {}).get(field)
    if check is None:
        raise CorrectionError(N_("This field cannot be corrected in the portal."))
    value = check(value)
    synced = as_text(getattr(record, field))
    previous = overlays(session=session, kind=kind, records=[record]).get(record.record_id, {})
    before = previous[field].correction.value if field in previous else synced
    if field in previous:
        previous[field].correction.status = "withdrawn"
    correction = RecordCorrection(
        dealer_id=record.dealer_id, kind=kind, record_id=record.record_id, field=field,
        value=value, original=synced, based_on_version=record.version,
        by=user.display_name or user.username, by_user_id=user.id)
    session.add(correction)
    _audit(session, user=user, action="record.corrected", kind=kind, record=record,
           detail={"field": field, "before": before, "after": value, "version": record.version})
    return correction


def annotate(*, session: Session, kind: str, record, text: str, user: User) -> RecordNote:
    """Attach a manager's note to a synced record (audited)."""
    text = _text(2000)(text)
    note = RecordNote(dealer_id=record.dealer_id, kind=kind, record_id=record.record_id,
                      text=text, by=user.display_name or user.username, by_user_id=user.id)
    session.add(note)
    _audit(session, user=user, action="record.annotated", kind=kind, record=record,
           detail={"before": None, "after": text})
    return note


def notes(*, session: Session, kind: str, record_ids: list) -> dict[uuid.UUID, list[RecordNote]]:
    """Annotations of the records, newest first."""
    if not record_ids:
        return {}
    result: dict[uuid.UUID, list[RecordNote]] = {}
    for note in session.exec(select(RecordNote).where(
            RecordNote.kind == kind, RecordNote.record_id.in_(record_ids))
            .order_by(RecordNote.at.desc())):
        result.setdefault(note.record_id, []).append(note)
    return result


def resolve_conflict(*, session: Session, correction: RecordCorrection, record, keep: bool,
                     user: User) -> None:
    """Keep the correction (re-based on the synced version) or accept the synced value."""
    synced = as_text(getattr(record, correction.field))
    if keep:
        correction.original, correction.based_on_version = synced, record.version
        correction.status, correction.conflict_value = "active", None
    else:
        correction.status = "withdrawn"
    _audit(session, user=user, action="record.corrected", kind=correction.kind, record=record,
           detail={"field": correction.field, "resolution": "kept" if keep else "accepted_sync",
                   "before": correction.value, "after": correction.value if keep else synced})


def flag_conflicts(*, session: Session) -> int:
    """Mark active corrections whose field a newer synced version changed; return how many.

    Runs as a scheduled job (and may be called after ingest); the page also detects conflicts on
    display, so a conflict shows even before this runs.
    """
    flagged = 0
    for kind, model in MODELS.items():
        rows = session.exec(
            select(RecordCorrection, model)
            .join(model, (model.dealer_id == RecordCorrection.dealer_id)
                  & (model.record_id == RecordCorrection.record_id))
            .where(RecordCorrection.kind == kind, RecordCorrection.status == "active",
                   model.version > RecordCorrection.based_on_version)).all()
        for correction, record in rows:
            synced = as_text(getattr(record, correction.field))
            if synced != correction.original:
                correction.status, correction.conflict_value = "conflict", synced
                session.add(AuditLog(dealer_id=record.dealer_id, actor="system",
                                     action="record.correction_conflict",
                                     target=f"{kind}:{record.record_id}",
                                     detail={"field": correction.field, "synced": synced,
                                             "corrected": correction.value}))
                flagged += 1
    return flagged


def conflicts(*, session: Session) -> list[RecordCorrection]:
    """Corrections waiting for a manager's review, oldest first."""
    return list(session.exec(select(RecordCorrection)
                             .where(RecordCorrection.status == "conflict")
                             .order_by(RecordCorrection.at)))
