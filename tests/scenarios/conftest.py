"""Scenario tests drive the web pages, the API and the command line together."""

from tests.api.conftest import token_for  # noqa: F401 - the API fixture, shared here
