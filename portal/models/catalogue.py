"""The vehicle catalogue HQ maintains: brand → model → trim, colours, options and rules.

The catalogue is the same for every dealer, so these tables are not dealer-scoped.
Rules refer to items of the same model by reference strings ``"trim:24L"``,
``"option:leather"``, ``"colour:black"`` so they survive price edits and are easy
to publish to the agents.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel


class Brand(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    sort: int = 0
    active: bool = True


class CarModel(SQLModel, table=True):
    """A series of a brand (君越 LaCrosse, GL8 ...)."""

    __table_args__ = (UniqueConstraint("brand_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", index=True)
    code: str = Field(max_length=30)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    sort: int = 0
    active: bool = True


class _ModelItem(SQLModel):
    """Columns shared by trims, colours and options: a priced, named item of one model."""

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="carmodel.id", index=True)
    code: str = Field(max_length=30)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    price: Decimal = Field(default=Decimal(0), sa_type=Numeric(12, 2))
    sort: int = 0
    active: bool = True


class Trim(_ModelItem, table=True):
    """A trim; its price is the base price of the vehicle."""

    __table_args__ = (UniqueConstraint("model_id", "code"),)


class Colour(_ModelItem, table=True):
    """An exterior colour; the price is the surcharge."""

    __table_args__ = (UniqueConstraint("model_id", "code"),)


class CatalogueOption(_ModelItem, table=True):
    """An option (leather seats, sunroof, navigation ...); the price is the surcharge."""

    __table_args__ = (UniqueConstraint("model_id", "code"),)


class CatalogueRule(SQLModel, table=True):
    """A validity rule between two items of one model.

    ``requires``: subject (an option) needs target (a trim or an option);
    several ``requires trim`` rules of one subject mean "any of these trims".
    ``excludes``: subject and target (two options) cannot be combined.
    ``not_offered``: subject (a colour or option) is not offered on target (a trim).
    """

    __table_args__ = (UniqueConstraint("model_id", "kind", "subject", "target"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="carmodel.id", index=True)
    kind: str = Field(max_length=20)
    subject: str = Field(max_length=40)
    target: str = Field(max_length=40)
    active: bool = True
