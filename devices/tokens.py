"""Device tokens: random secrets that a database dump alone cannot reveal.

The database keeps an HMAC of each token for lookup, and a copy encrypted with a key
derived from SECRET_KEY so that the owner can show the QR code again later. Both keys
come from SECRET_KEY: changing it invalidates every device token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

TOKEN_PREFIX = "iotd_"
TOKEN_RANDOM_BYTES = 32  # 256 bits, well past the 160 the design asks for
TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # token_urlsafe(32) is 43 characters
HINT_LENGTH = len(TOKEN_PREFIX) + 4


@lru_cache(maxsize=4)
def _derived_key(secret_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())


def _lookup_key() -> bytes:
    return _derived_key(settings.SECRET_KEY, b"iotsite device token lookup")


TOKEN_COPY_PURPOSE = b"iotsite device token copy"


def _fernet(purpose: bytes = TOKEN_COPY_PURPOSE) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived_key(settings.SECRET_KEY, purpose)))


def secret_encrypt(plain: str, *, purpose: bytes) -> str:
    """Another secret the server must read back (a bridge broker's password), encrypted
    as token copies are, under a key of its own purpose."""
    return _fernet(purpose).encrypt(plain.encode()).decode()


def secret_decrypt(ciphertext: str, *, purpose: bytes) -> str | None:
    """The secret, or None when it was encrypted under another SECRET_KEY."""
    try:
        return _fernet(purpose).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return None


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)


def token_is_well_formed(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and token.startswith(TOKEN_PREFIX) and token.isascii()


def token_digest(token: str) -> str:
    return hmac.new(_lookup_key(), token.encode(), hashlib.sha256).hexdigest()


def token_encrypt(token: str) -> str:
    return secret_encrypt(token, purpose=TOKEN_COPY_PURPOSE)


def token_decrypt(ciphertext: str) -> str | None:
    """The token, or None when it was encrypted under another SECRET_KEY."""
    return secret_decrypt(ciphertext, purpose=TOKEN_COPY_PURPOSE)


def token_hint(token: str) -> str:
    """Enough of the token to tell two apart in a list, far too little to use."""
    return token[:HINT_LENGTH] + "…"
