"""Alerts tests: readings go in through the real ingest service (tests/support/alerts.py)."""

import pytest

from alerts.evaluation import rule_cache_forget

# Re-exported for tests on other branches that still import them from here.
from tests.support.alerts import at, ingest, states  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_rule_cache():
    # Rolled-back test data reuses ids; the rule cache must not outlive a test.
    rule_cache_forget()
    yield
    rule_cache_forget()
