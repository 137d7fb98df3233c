"""Exchange credentials are encrypted at rest with MultiFernet.

CREDENTIALS_KEYS holds one or more Fernet keys, comma separated, newest first: new values are
encrypted with the first, and any of them decrypts. To rotate, put a new key in front, run
`manage.py rotate_credentials_key`, then drop the old key.
"""

import json
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsUnreadable(Exception):
    """Stored secrets could not be decrypted with any configured key."""


def _dev_key() -> str:
    # DEBUG only, like the dev SECRET_KEY: made once per checkout in VAR_DIR, never in git.
    path = settings.VAR_DIR / "credentials-key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return path.read_text().strip()


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.CREDENTIALS_KEYS if key.strip()]
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured("CREDENTIALS_KEYS is required when DEBUG is off (see .env.example).")
        keys = [_dev_key()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"CREDENTIALS_KEYS holds a key that is not a Fernet key: {exc}") from None


def reset_keys() -> None:
    """Forget the cached keys (after the settings change, e.g. in tests)."""
    _fernet.cache_clear()


def encrypt(values: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsUnreadable("no configured CREDENTIALS_KEYS key decrypts these credentials") from None


def rotate(token: str) -> str:
    """Re-encrypt with the newest key."""
    return _fernet().rotate(token.encode()).decode() if token else token


def mask(value: str) -> str:
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) > 8 else "••••"
