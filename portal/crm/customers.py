"""Customers and vehicles: lists, customer 360 and vehicle 360."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import login_required

from common.enums import CustomerType
from common.i18n import N_
from portal import access, db, navigation
from portal.auth import current_scope
from portal.crm.views import csv_of, page_of, render_list
from portal.services import crm_corrections as corrections
from portal.services import crm_customers as service

bp = Blueprint("customers", __name__, url_prefix="/customers")
access.protect(bp, access.Access.dealer)
navigation.register("customers.index", N_("Customers"), order=30)


@bp.get("/")
@login_required
def index():
    """List customers (sales grouped by phone) with search and filters."""
    filters = service.CustomerFilters.from_args(request.args)
    total = service.count_customers(session=db.session(), filters=filters)
    page = page_of(service.customers_query(filters), total=total)
    return render_list("crm/customers.html", page=page, filters=filters,
                       customer_types=list(CustomerType))


@bp.get("/export.csv")
@login_required
def export():
    """Download the filtered customers as CSV."""
    stmt = service.customers_query(service.CustomerFilters.from_args(request.args))
    return csv_of("customers.csv", ["phone", "name", "vehicles", "last_sale", "customer_type"],
                  stmt, tuple)


@bp.get("/vehicles")
@login_required
def vehicles():
    """List vehicles sold, with search and filters; a VIN typed in full opens its 360."""
    filters = service.VehicleFilters.from_args(request.args)
    page = page_of(service.vehicles_query(filters))
    return render_list("crm/vehicles.html", page=page, filters=filters)


@bp.get("/vehicles/export.csv")
@login_required
def vehicles_export():
    """Download the filtered vehicles as CSV."""
    stmt = service.vehicles_query(service.VehicleFilters.from_args(request.args))
    header = ["vin", "brand", "model", "model_year", "sale_date", "customer_name",
              "customer_phone", "salesperson", "deal_number"]
    return csv_of("vehicles.csv", header, stmt, lambda s: [getattr(s, f) for f in header])


@bp.get("/vehicles/<vin>")
@login_required
def vehicle(vin: str):
    """Vehicle 360: the sale and every repair visible to the user, in time order."""
    session = db.session()
    view = service.vehicle_360(session=session, vin=vin)
    if view is None:
        abort(404)
    own_repairs = [r.order for r in view.repairs if current_scope().allows(r.order.dealer_id)]
    return render_template(
        "crm/vehicle.html", view=view, own_repairs={r.record_id for r in own_repairs},
        sale_overlay=corrections.overlays(session=session, kind="sale",
                                          records=[s for s, _ in view.sales]),
        repair_overlay=corrections.overlays(session=session, kind="repair_order",
                                            records=own_repairs),
        fields=corrections.CORRECTABLE, field_labels=corrections.FIELD_LABELS)


@bp.get("/vehicles/lookup")
@login_required
def vin_lookup():
    """Open the vehicle 360 of the VIN typed in the lookup box."""
    vin = request.args.get("vin", "").strip().upper()
    if not vin:
        return redirect(url_for(".vehicles"))
    return redirect(url_for(".vehicle", vin=vin))


@bp.get("/<phone>")
@login_required
def customer(phone: str):
    """Customer 360: vehicles, leads, contacts, complaints and surveys of one customer."""
    session = db.session()
    view = service.customer_360(session=session, phone=phone)
    if view is None:
        abort(404)
    return render_template(
        "crm/customer.html", view=view,
        sale_overlay=corrections.overlays(session=session, kind="sale", records=view.sales),
        notes=corrections.notes(session=session, kind="sale",
                                record_ids=[s.record_id for s in view.sales]),
        field_labels=corrections.FIELD_LABELS)


@bp.get("/by-sale/<uuid:record_id>")
@login_required
def by_sale(record_id: uuid.UUID):
    """Open the customer 360 of a sale record."""
    phone = service.phone_of_sale(session=db.session(), record_id=record_id)
    if phone is None:
        abort(404)
    return redirect(url_for(".customer", phone=phone))
