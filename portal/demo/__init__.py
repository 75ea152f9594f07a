"""Deterministic demo data: :mod:`generator` makes it, :mod:`seed` writes it to the portal."""
