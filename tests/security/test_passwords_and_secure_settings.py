import os
import subprocess
import sys
from pathlib import Path

import pytest

from iotsite import settings as project_settings

ROOT = Path(__file__).resolve().parents[2]


def test_argon2_hashes_new_passwords():
    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_a_stored_password_is_an_argon2_hash(settings, django_user_model):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # undo the fast test hasher
    user = django_user_model.objects.create_user(username="carol", password="a-long-pass-phrase")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a-long-pass-phrase")


def production_env() -> dict[str, str]:
    """deploy/env.example, as a production server would read it, with a local database."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "iotsite.settings"}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    env["SECRET_KEY"] = "k3y-" + "Zq8vX2pL" * 8  # the example's placeholder is refused on purpose
    env["DATABASE_URL"] = "sqlite:///:memory:"
    env["REDIS_URL"] = ""
    return env


@pytest.mark.processes  # manage.py check --deploy
def test_the_deploy_check_is_clean_with_the_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Not a warning of any kind: Django's deployment checks, nor drf_spectacular's.
    assert "no issues" in output, output


@pytest.mark.processes  # a Python that loads the settings
def test_cookies_are_secure_and_hsts_is_on_when_debug_is_off():
    code = (
        "from django.conf import settings as s;"
        " print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "True", "31536000"], result.stderr
