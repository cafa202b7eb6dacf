"""Schemathesis over /api/schema/: generated requests to every operation, as a user and
as a device, must never get a 500, and every documented answer must match the schema.

Bounded (FUZZ_EXAMPLES per operation) so the whole file stays well under a minute.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from iotsite.wsgi import application

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Known server errors in code owned elsewhere, left out until fixed (then delete here):
# ?start=/?end= with an offset past ±15:59 (e.g. +22:43) reach PostgreSQL unconverted
# and raise DataError in alerts/filters.py (telemetry/filters.py's UtcIsoDateTimeFilter fixes it).


def is_device_operation(case) -> bool:
    requirements = case.operation.definition.raw.get("security", [])
    return any("deviceToken" in requirement for requirement in requirements)


@pytest.fixture(autouse=True)
def one_connection_for_the_test():
    # Requests go through the real WSGI app, which closes the database connection when
    # a request ends; the test's transaction lives on that connection (as Django's own
    # test client does, keep it open).
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def user_authorization(user):
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def device_authorization(device_token):
    return f"Device {device_token}"


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure here is reproducible
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_500_and_answers_match_the_schema(case, user_authorization, device_authorization):
    authorization = device_authorization if is_device_operation(case) else user_authorization
    case.call_and_validate(
        headers={"Authorization": authorization},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
