from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from iotsite.settings import envbool, envint, envseconds


def test_envseconds_reads_units(monkeypatch):
    monkeypatch.setenv("X_LIFETIME", "12h")
    assert envseconds("X_LIFETIME", timedelta(0)) == timedelta(hours=12)
    monkeypatch.setenv("X_LIFETIME", "90")
    assert envseconds("X_LIFETIME", timedelta(0)) == timedelta(seconds=90)


@pytest.mark.parametrize("helper, raw", [(envbool, "maybe"), (envint, "ten"), (envseconds, "soon")])
def test_helpers_refuse_bad_values(monkeypatch, helper, raw):
    monkeypatch.setenv("X_SETTING", raw)
    with pytest.raises(ImproperlyConfigured, match="X_SETTING"):
        helper("X_SETTING", None)


@pytest.mark.processes  # a Python that loads the settings
def test_secret_key_is_required_without_debug(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "iotsite.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
