"""Security primitives: each refusal path, not only the happy one."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from markettina.kernel import security

SECRET = "s" * 32
AUD = "markettina-api"


class TestPasswords:
    def test_hash_verifies_only_the_right_password(self) -> None:
        stored = security.hash_password("correct horse")
        assert stored.startswith("$argon2")
        assert security.verify_password("correct horse", stored)
        assert not security.verify_password("wrong horse", stored)

    def test_unknown_user_and_garbage_hashes_fail_quietly(self) -> None:
        assert not security.verify_password("anything", None)
        assert not security.verify_password("anything", "not-a-hash")


class TestTokens:
    def test_round_trip_keeps_subject_and_extra_claims(self) -> None:
        token = security.issue_token(
            secret=SECRET, subject="42", audience=AUD, ttl=dt.timedelta(minutes=5), acc="a1"
        )
        claims = security.read_token(token, secret=SECRET, audience=AUD)
        assert claims.subject == "42" and claims.extra == {"acc": "a1"}

    def test_expired_token_is_refused(self) -> None:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        token = security.issue_token(
            secret=SECRET, subject="1", audience=AUD, ttl=dt.timedelta(minutes=5), now=past
        )
        with pytest.raises(security.TokenError, match="expired"):
            security.read_token(token, secret=SECRET, audience=AUD)

    def test_tampered_token_is_refused(self) -> None:
        token = security.issue_token(
            secret=SECRET, subject="1", audience=AUD, ttl=dt.timedelta(minutes=5)
        )
        header, _payload, signature = token.split(".")
        forged = jwt.encode({"sub": "2", "aud": AUD}, "another-secret-of-32-characters!!")
        with pytest.raises(security.TokenError, match="not valid"):
            security.read_token(f"{header}.{forged.split('.')[1]}.{signature}", secret=SECRET,
                                audience=AUD)  # fmt: skip
        with pytest.raises(security.TokenError):
            security.read_token(token, secret="t" * 32, audience=AUD)

    def test_wrong_audience_is_refused(self) -> None:
        token = security.issue_token(
            secret=SECRET, subject="1", audience="markettina-staff", ttl=dt.timedelta(minutes=5)
        )
        with pytest.raises(security.TokenError, match="not meant"):
            security.read_token(token, secret=SECRET, audience=AUD)

    def test_unsigned_token_is_refused(self) -> None:
        unsigned = jwt.encode(
            {"sub": "1", "aud": AUD, "exp": 9999999999, "iat": 1, "jti": "x"}, None, "none"
        )
        with pytest.raises(security.TokenError):
            security.read_token(unsigned, secret=SECRET, audience=AUD)


class TestApiKeys:
    def test_key_is_shown_once_and_stored_as_digest(self) -> None:
        created = security.new_api_key()
        assert created.key.startswith(created.prefix + "_")
        assert security.api_key_prefix(created.key) == created.prefix
        assert created.key not in created.key_hash
        assert security.same_digest(created.key, created.key_hash)
        assert not security.same_digest(created.key + "x", created.key_hash)

    @pytest.mark.parametrize("key", ["", "mk", "mk_short_x", "xx_12345678_abc", "no-underscores"])
    def test_malformed_keys_have_no_prefix(self, key: str) -> None:
        assert security.api_key_prefix(key) is None


class TestSecretBox:
    def test_rotation_keeps_old_secrets_readable(self) -> None:
        old_key, new_key = security.SecretBox.new_key(), security.SecretBox.new_key()
        old_box = security.SecretBox([old_key])
        stored = old_box.encrypt("oauth-token")
        rotated_box = security.SecretBox([new_key, old_key])
        assert rotated_box.decrypt(stored) == "oauth-token"
        rotated = rotated_box.rotate(stored)
        assert security.SecretBox([new_key]).decrypt(rotated) == "oauth-token"
        with pytest.raises(ValueError, match="cannot be decrypted"):
            security.SecretBox([new_key]).decrypt(stored)

    def test_needs_a_key(self) -> None:
        with pytest.raises(ValueError):
            security.SecretBox([])


class TestTotp:
    def test_current_and_adjacent_codes_pass_others_fail(self) -> None:
        secret = security.new_totp_secret()
        now = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)
        assert security.verify_totp(secret, security.totp_code(secret, at=now), at=now)
        previous = security.totp_code(secret, at=now - dt.timedelta(seconds=30))
        assert security.verify_totp(secret, previous, at=now)
        stale = security.totp_code(secret, at=now - dt.timedelta(minutes=5))
        assert not security.verify_totp(secret, stale, at=now)
        assert not security.verify_totp(secret, "12345", at=now)
        assert not security.verify_totp(secret, "abcdef", at=now)
