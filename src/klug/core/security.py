"""Cryptographic building blocks: passwords, tokens, CSRF, TOTP, secret sealing.

Everything here is a thin layer over well-kept libraries (argon2-cffi, pyotp,
cryptography); see docs/adr/0003-identity.md for the choices.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# OWASP's 2023 recommendation for Argon2id: m=19 MiB, t=2, p=1. argon2-cffi's defaults
# (RFC 9106 low-memory profile: m=64 MiB, t=3, p=4) are stronger; we keep them.
_hasher = PasswordHasher()

# Verified against when an e-mail is unknown, so that a failed login takes as long
# for a missing account as for a wrong password (no account enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
TOTP_INTERVAL_S = 30


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """What we store for a high-entropy token: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_digest(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token_for(secret: bytes, cookie_value: str) -> str:
    """The form token that belongs to a CSRF cookie (signed double-submit)."""
    return keyed_digest(secret, "csrf", cookie_value)[:48]


def csrf_token_valid(secret: bytes, cookie_value: str | None, token: str | None) -> bool:
    if not cookie_value or not token:
        return False
    return hmac.compare_digest(csrf_token_for(secret, cookie_value), token)


class SecretBox:
    """Seals small secrets at rest (TOTP seeds) with a key derived from KLUG_SECRET_KEY."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"klug-secret-box").derive(
            secret
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, *, account_name: str, issuer: str = "klug Kaiserslautern") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def totp_code(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).at(int(at if at is not None else time.time()))


def verify_totp(
    secret: str, code: str, *, last_step: int | None, at: float | None = None
) -> int | None:
    """Check a 6-digit code, allowing one step of clock drift either way (RFC 6238 §5.2).

    Returns the accepted time step, or None. A step at or before ``last_step`` is
    refused, so an observed code cannot be replayed.
    """
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    now = int(at if at is not None else time.time())
    totp = pyotp.TOTP(secret)
    current = now // TOTP_INTERVAL_S
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * TOTP_INTERVAL_S), code):
            return step
    return None
