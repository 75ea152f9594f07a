"""Business logic as plain functions taking a session; no Flask imports here."""
