"""The SECRET_KEY of a local run: generated once, kept in the git-ignored `.secret_key`.

Shared by the settings (make run, DEBUG on) and deploy/serve.py (make serve), so both
sign and encrypt with the same key on one checkout. Imports nothing of Django.
"""

from __future__ import annotations

import secrets
from pathlib import Path

KEY_FILE = Path(__file__).resolve().parent.parent / ".secret_key"


def local_secret_key() -> str:
    if not KEY_FILE.exists():
        KEY_FILE.write_text(secrets.token_urlsafe(50))
        KEY_FILE.chmod(0o600)
    return KEY_FILE.read_text().strip()
