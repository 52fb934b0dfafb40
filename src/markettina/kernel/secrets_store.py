"""Development secrets: generated once, kept beside the embedded data, never in production."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .security import SecretBox, opaque_secret

SECRETS_FILE = "secrets.json"


class MissingSecretError(RuntimeError):
    """Production needs MARKETTINA_SECRET_KEY and MARKETTINA_ENCRYPTION_KEYS set."""


@dataclass(frozen=True)
class ServiceSecrets:
    secret_key: str
    encryption_keys: list[str]

    @property
    def box(self) -> SecretBox:
        return SecretBox(self.encryption_keys)


def resolve_secrets(
    *,
    secret_key: str | None,
    encryption_keys: list[str],
    data_dir: Path,
    production: bool,
) -> ServiceSecrets:
    if secret_key and encryption_keys:
        return ServiceSecrets(secret_key, encryption_keys)
    if production:
        raise MissingSecretError(
            "MARKETTINA_SECRET_KEY and MARKETTINA_ENCRYPTION_KEYS must be set in production"
        )
    stored = _load_or_create(data_dir / SECRETS_FILE)
    return ServiceSecrets(
        secret_key or stored["secret_key"], encryption_keys or [stored["encryption_key"]]
    )


def _load_or_create(path: Path) -> dict[str, str]:
    if path.exists():
        values: dict[str, str] = json.loads(path.read_text())
        return values
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {"secret_key": opaque_secret(48), "encryption_key": SecretBox.new_key()}
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made them a moment ago
        return _load_or_create(path)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(values, handle)
    return values
