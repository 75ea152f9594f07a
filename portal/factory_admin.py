"""HQ's page for the factory system's feed tokens: create, rotate, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from common.enums import Role
from common.i18n import N_
from portal import access, db, navigation
from portal.auth import roles_required
from portal.models import AuditLog
from portal.pagination import parse_page
from portal.services import factory as service

bp = Blueprint("factory_admin", __name__)
access.protect(bp, access.Access.hq)
navigation.register("factory_admin.tokens", N_("Factory feed"), roles={Role.hq}, order=61)


def _page(new_token: str | None = None, status: int = 200):
    tokens = service.list_tokens(session=db.session())
    page = parse_page(request.args.get("page"))
    per_page = 20
    pages = max(1, -(-len(tokens) // per_page))
    return render_template("orders/factory_tokens.html", tokens=tokens[(page - 1) * per_page:
                                                                        page * per_page],
                           page=page, pages=pages, new_token=new_token), status


def _audit(action: str, target: str) -> None:
    db.session().add(AuditLog(actor_user_id=current_user.id, actor=current_user.username,
                              action=action, target=target, detail={}))


@bp.get("/factory/tokens")
@roles_required(Role.hq)
def tokens():
    """List the factory tokens."""
    return _page()


@bp.post("/factory/tokens")
@roles_required(Role.hq)
def create():
    """Issue a token; its value is shown once, on this response only."""
    name = request.form.get("name", "").strip()
    if not name:
        flash(_("Give the token a name, e.g. the factory system that will use it."), "error")
        return redirect(url_for("factory_admin.tokens"), 303)
    token, raw = service.create_token(session=db.session(), name=name,
                                      actor=current_user.username)
    _audit("factory_token.create", f"factory token {token.id} {token.name}")
    db.session().commit()
    return _page(new_token=raw, status=201)


@bp.post("/factory/tokens/<int:token_id>/rotate")
@roles_required(Role.hq)
def rotate(token_id: int):
    """Revoke a token and issue its successor."""
    rotated = service.rotate_token(session=db.session(), token_id=token_id,
                                   actor=current_user.username) or abort(404)
    _audit("factory_token.rotate", f"factory token {token_id} -> {rotated[0].id}")
    db.session().commit()
    return _page(new_token=rotated[1])


@bp.post("/factory/tokens/<int:token_id>/revoke")
@roles_required(Role.hq)
def revoke(token_id: int):
    """Revoke a token: the factory system using it is refused from now on."""
    service.revoke_token(session=db.session(), token_id=token_id) or abort(404)
    _audit("factory_token.revoke", f"factory token {token_id}")
    db.session().commit()
    flash(_("Token revoked."), "info")
    return redirect(url_for("factory_admin.tokens"), 303)
