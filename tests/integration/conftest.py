"""Fixtures of the integration suites, each feature's factories imported from its own module."""

from tests.integration.sync_factories import make_agent, push  # noqa: F401
