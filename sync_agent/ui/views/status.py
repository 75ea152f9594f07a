"""Status at a glance, "sync now", enrolment and the language switch."""

from __future__ import annotations

import platform
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext

from common.i18n import LOCALES, N_
from sync_agent.client import Client, EnrollmentError, SyncError, TransientError
from sync_agent.ui.i18n import LOCALE_META
from sync_agent.ui.views import agent, page

bp = Blueprint("status", __name__)
ENROL_TIMEOUT = (5.0, 20.0)


@bp.get("/")
def index():
    """Show the status, live; a new agent starts with enrolment."""
    if agent().store.identity() is None:
        return redirect(url_for("status.enrol"))
    return page("status.html", "status", **status_context())


@bp.get("/status")
def status():
    """The status block alone, polled every 2 seconds."""
    return page("status.html", "status", **status_context())


@bp.post("/sync")
def sync_now():
    """Sync now (a person asked): ignore any backoff; the status block shows the progress."""
    if agent().store.identity() is None:
        return redirect(url_for("status.enrol"))
    agent().sync_now()
    return page("status.html", "status", **status_context())


def status_context() -> dict:
    local = agent()
    return {"status": local.coordinator.status(), "progress": local.sync_progress(),
            "mode": local.mode, "state_labels": STATE_LABELS,
            "records": local.store.count_records()}


@bp.route("/enrol", methods=["GET", "POST"])
def enrol():
    """Enrol this agent with the portal's address and a one-time code."""
    form = {"portal": request.form.get("portal", "").strip(),
            "code": request.form.get("code", "").strip()}
    if request.method == "GET":
        identity = agent().store.identity()
        form["portal"] = identity.portal_url if identity else ""
        return page("enrol.html", form=form, errors={})
    errors = _check_enrol_form(form)
    if not errors:
        errors = _enrol(form["portal"], form["code"])
    if errors:
        return page("enrol.html", form=form, errors=errors, http_status=422)
    return redirect(url_for("status.index", welcome=1), 303)


def _check_enrol_form(form: dict) -> dict[str, str]:
    errors = {}
    parts = urlsplit(form["portal"])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors["portal"] = gettext(
            "This is not a web address: write it like https://portal.example.com "
            "(ask your dealer manager for the portal's address).")
    if len(form["code"]) < 4:
        errors["code"] = gettext("Enter the one-time code from the portal "
                                 "(Agents page, “Issue enrolment code”).")
    return errors


def _enrol(portal: str, code: str) -> dict[str, str]:
    client = Client(portal, timeout=ENROL_TIMEOUT)
    try:
        answer = client.enroll(code, agent_name=platform.node())
    except EnrollmentError as error:
        if error.code != "enrollment_invalid":
            return {"portal": _not_a_portal(error)}
        return {"code": _refused(error)}
    except TransientError as error:
        return {"portal": gettext("The portal cannot be reached at this address: check the "
                                  "address and the network, then try again. (%(reason)s)",
                                  reason=error.message)}
    except SyncError as error:
        return {"portal": _not_a_portal(error)}
    finally:
        client.close()
    return _keep_identity(portal, answer)


def _refused(error: EnrollmentError) -> str:
    return gettext("The portal refused this code: it is unknown, already used or expired. Ask "
                   "your dealer manager for a new code. (portal said: %(reason)s)",
                   reason=error.message.split(": ", 1)[-1].split(" Ask ", 1)[0])


def _not_a_portal(error: SyncError) -> str:
    return gettext("Something answers at this address, but it is not the dealer portal "
                   "(HTTP %(status)s). Check the address.", status=error.status or "?")


def _keep_identity(portal: str, answer) -> dict[str, str]:
    local = agent()
    try:
        local.store.enroll(portal_url=portal, agent_id=str(answer.agent_id), token=answer.token,
                           dealer_code=answer.dealer_code, epoch=answer.epoch)
    except ValueError as error:
        return {"portal": str(error)}
    local.coordinator.clear_stop()
    local.coordinator.request_sync()
    return {}


@bp.post("/locale/<code>")
def set_locale(code: str):
    """Switch the window's language (kept in the agent store)."""
    if code not in LOCALES:
        abort(404)
    agent().store.set_meta(**{LOCALE_META: code})
    target = request.form.get("next") or url_for("status.index")
    return redirect(target if target.startswith("/") and not target.startswith("//")
                    else url_for("status.index"), 303)


STATE_LABELS = {"not_enrolled": N_("Not enrolled"), "never_synced": N_("Not synced yet"),
                "online": N_("Online"), "offline": N_("Offline"), "stopped": N_("Stopped")}
