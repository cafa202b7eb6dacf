from functools import partial

import pytest


@pytest.fixture
def tight_rates(settings):
    """Three requests a minute for each kind of caller."""
    rates = {"device": "3/min", "user": "3/min", "anon": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # The throttle classes keep a class-level copy of the rates (tests/security/test_throttles.py).
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    yield rates
    SimpleRateThrottle.THROTTLE_RATES = original
    api_settings.reload()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the block left for after the commit."""
    return partial(django_capture_on_commit_callbacks, execute=True)
