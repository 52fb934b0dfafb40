"""Security primitives: password hashes, signed tokens, API keys, secrets at rest, TOTP.

Nothing here knows users or accounts; the identity context builds on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist costs the same as a real check,
    so response time does not reveal which e-mail addresses are registered. Made at the
    first sign-in, not at import: hashing is slow on purpose."""
    return _hasher.hash(secrets.token_urlsafe(16))


TOKEN_ALGORITHM = "HS256"  # noqa: S105 - an algorithm name, not a secret
API_KEY_PREFIX = "mk"


class TokenError(Exception):
    """A token that is malformed, tampered with, expired or meant for someone else."""


# --- passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-time: an unknown user (``None``) costs as much as a wrong password."""
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# --- signed tokens (JWT) --------------------------------------------------------------------


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    audience: str
    token_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    extra: dict[str, Any]


def issue_token(
    *,
    secret: str,
    subject: str,
    audience: str,
    ttl: dt.timedelta,
    now: dt.datetime | None = None,
    **extra: Any,
) -> str:
    issued = now or dt.datetime.now(dt.UTC)
    claims = {
        "sub": subject,
        "aud": audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
        **extra,
    }
    return jwt.encode(claims, secret, algorithm=TOKEN_ALGORITHM)


class _VerifiedTokens:
    """Tokens whose signature and claims were already checked, so a client's next request
    with the same token skips the HMAC and the claim parsing. Only successes are kept,
    keyed by token, secret and audience; expiry is checked again on every hit. Bounded:
    the oldest entries go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._claims: dict[tuple[str, str, str], TokenClaims] = {}

    def get(self, key: tuple[str, str, str]) -> TokenClaims | None:
        claims = self._claims.get(key)
        if claims is not None and claims.expires_at <= dt.datetime.now(dt.UTC):
            self._claims.pop(key, None)
            return None
        return claims

    def put(self, key: tuple[str, str, str], claims: TokenClaims) -> None:
        if len(self._claims) >= self.size:
            self._claims.pop(next(iter(self._claims)), None)
        self._claims[key] = claims


_verified_tokens = _VerifiedTokens(size=4096)


def read_token(token: str, *, secret: str, audience: str) -> TokenClaims:
    key = (token, secret, audience)
    cached = _verified_tokens.get(key)
    if cached is not None:
        return cached
    claims = _decode_token(token, secret=secret, audience=audience)
    _verified_tokens.put(key, claims)
    return claims


def _decode_token(token: str, *, secret: str, audience: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[TOKEN_ALGORITHM],
            audience=audience,
            options={"require": ["sub", "aud", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("the token has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenError("the token is not meant for this service") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("the token is not valid") from exc
    known = {"sub", "aud", "iat", "exp", "jti"}
    return TokenClaims(
        subject=str(claims["sub"]),
        audience=audience,
        token_id=str(claims["jti"]),
        issued_at=dt.datetime.fromtimestamp(claims["iat"], dt.UTC),
        expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
        extra={k: v for k, v in claims.items() if k not in known},
    )


# --- opaque secrets: API keys, refresh tokens, one-time links ---------------------------------


def opaque_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret: what is stored, never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


@dataclass(frozen=True)
class NewApiKey:
    key: str  # shown once, never stored
    prefix: str  # stored and shown, identifies the key
    key_hash: str


def new_api_key() -> NewApiKey:
    prefix = f"{API_KEY_PREFIX}_{secrets.token_hex(4)}"
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key=key, prefix=prefix, key_hash=digest(key))


def api_key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 8:
        return None
    return f"{parts[0]}_{parts[1]}"


# --- secrets at rest ------------------------------------------------------------------------


class SecretBox:
    """Encrypts with the first key, decrypts with any: keys rotate without downtime."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("the secret cannot be decrypted with the configured keys") from exc

    def rotate(self, ciphertext: str) -> str:
        """The same secret, re-encrypted with the current first key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("the secret cannot be decrypted with the configured keys") from exc


# --- TOTP (staff MFA) -----------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def verify_totp(secret: str, code: str, *, at: dt.datetime | None = None) -> bool:
    """Accepts the current 30-second step and the one on each side (clock drift)."""
    if not code.isdigit() or len(code) != 6:
        return False
    return pyotp.TOTP(secret).verify(code, for_time=at, valid_window=1)


def totp_code(secret: str, *, at: dt.datetime | None = None) -> str:
    return pyotp.TOTP(secret).at(at or dt.datetime.now(dt.UTC))
