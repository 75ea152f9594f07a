"""Alembic environment and versions of the portal database."""
