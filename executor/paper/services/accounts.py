"""Paper accounts, their web logins (password, then TOTP) and API keys."""

import hmac
import logging
import re
import secrets
import string
from datetime import timedelta
from decimal import Decimal

import pyotp
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from executor import crypto
from executor.paper import selectors
from executor.paper.errors import LoginFailed, PaperInvalid
from executor.paper.models import (
    FaultKind,
    PaperAccount,
    PaperApiKey,
    PaperBalance,
    PaperBinanceKey,
    PaperFault,
    PaperPosition,
    PaperSession,
)

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,50}$")
ASSET_RE = re.compile(r"^[A-Z0-9]{1,10}$")
SESSION_LIFETIME = timedelta(hours=12)
KEY_ALPHABET = string.ascii_letters + string.digits
TOTP_REUSED = "This verification code was already used; wait for the next one (at most 30 seconds)."
# Checks a password against this when the username is unknown, so both take the same time.
_DUMMY_HASH = make_password("paper-exchange-no-such-user")


def paper_account_create(
    *, username: str, password: str, balances: dict[str, Decimal] | None = None
) -> tuple[PaperAccount, str]:
    """A new account with starting balances; returns it and its API key (shown only this once)."""
    if not USERNAME_RE.match(username):
        raise PaperInvalid("3 to 50 letters, digits, '.', '_' or '-'", field="username")
    if len(password) < 8:
        raise PaperInvalid("at least 8 characters", field="password")
    balances = {asset.upper(): amount for asset, amount in (balances or {}).items()}
    for asset, amount in balances.items():
        if not ASSET_RE.match(asset) or not amount.is_finite() or amount < 0:
            raise PaperInvalid(f"{asset}={amount}: need ASSET=non-negative amount", field="balance")
    if PaperAccount.objects.filter(username=username).exists():
        raise PaperInvalid(f"{username} is taken", field="username")

    instruments = list(selectors.instrument_list())
    assets = {asset for i in instruments for asset in (i.base_asset, i.quote_asset)} | set(balances)
    with transaction.atomic():
        account = PaperAccount.objects.create(
            username=username,
            password=make_password(password),
            totp_secret_encrypted=PaperAccount.encrypt_totp_secret(pyotp.random_base32()),
        )
        PaperBalance.objects.bulk_create(
            PaperBalance(account=account, asset=asset, free=balances.get(asset, Decimal(0))) for asset in sorted(assets)
        )
        # A deposited base asset is a position entered at today's mark, in its first symbol.
        placed: set[str] = set()
        for instrument in instruments:
            amount = balances.get(instrument.base_asset)
            if amount and instrument.base_asset not in placed:
                placed.add(instrument.base_asset)
                price = selectors.mark_price(instrument=instrument).price
                PaperPosition.objects.create(account=account, symbol=instrument.symbol, qty=amount, avg_price=price)
        key = paper_api_key_create(account=account, name="default")
    logger.info("paper account %s created (id %s)", username, account.pk)
    return account, key


def paper_api_key_create(*, account: PaperAccount, name: str) -> str:
    _, key = PaperApiKey.objects.create_key(account=account, name=name[:50])
    return key


def paper_binance_key_create(*, account: PaperAccount, name: str = "") -> tuple[PaperBinanceKey, str, str]:
    """A Binance-style API key and secret (64 letters and digits each, like Binance's); returns the
    row, the key and the secret. Neither is stored in clear: the key as its SHA-256, the secret
    encrypted; show them to the user this once."""
    api_key = "".join(secrets.choice(KEY_ALPHABET) for _ in range(64))
    secret = "".join(secrets.choice(KEY_ALPHABET) for _ in range(64))
    row = PaperBinanceKey.objects.create(
        account=account,
        name=name[:50],
        key_hash=selectors.binance_key_hash(api_key),
        key_prefix=api_key[:8],
        secret_encrypted=crypto.encrypt({"secret": secret}),
    )
    logger.info("paper Binance API key %s… made for %s", row.key_prefix, account.username)
    return row, api_key, secret


def paper_binance_key_revoke(*, key: PaperBinanceKey) -> None:
    PaperBinanceKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    logger.info("paper Binance API key %s… revoked", key.key_prefix)


def paper_secrets_rotate_key() -> int:
    """Re-encrypt every TOTP seed and Binance secret with the newest CREDENTIALS_KEYS key; returns how many."""
    count = 0
    with transaction.atomic():
        for account in PaperAccount.objects.select_for_update().only("pk", "totp_secret_encrypted"):
            PaperAccount.objects.filter(pk=account.pk).update(
                totp_secret_encrypted=crypto.rotate(account.totp_secret_encrypted)
            )
            count += 1
        for key in PaperBinanceKey.objects.select_for_update().only("pk", "secret_encrypted"):
            PaperBinanceKey.objects.filter(pk=key.pk).update(secret_encrypted=crypto.rotate(key.secret_encrypted))
            count += 1
    return count


def paper_login_check_password(*, username: str, password: str) -> PaperAccount:
    """The first login step. The message never says which of the two was wrong."""
    account = PaperAccount.objects.filter(username=username, is_active=True).first()
    if account is None:
        check_password(password, _DUMMY_HASH)
        raise LoginFailed("Wrong username or password.")
    if not check_password(password, account.password):
        raise LoginFailed("Wrong username or password.")
    return account


def paper_login_complete(*, account: PaperAccount, code: str) -> tuple[PaperSession, str]:
    """The second step: a valid TOTP code opens a session; returns it and its cookie token.

    Each code is good once: the step it belongs to is remembered, and a code of that step or an
    earlier one is refused (a conditional UPDATE, so two requests racing with one code open one
    session).
    """
    code = code.strip().replace(" ", "")
    step = totp_step_of(account=account, code=code)
    if step is None:
        logger.info("paper login of %s refused: bad TOTP code", account.username)
        raise LoginFailed("The verification code is wrong or has expired; enter the current one.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        fresh = PaperAccount.objects.filter(pk=account.pk).filter(
            Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step)
        )
        if not fresh.update(totp_last_step=step):
            logger.info("paper login of %s refused: TOTP code already used", account.username)
            raise LoginFailed(TOTP_REUSED)
        session = PaperSession.objects.create(
            account=account, token_hash=selectors.session_token_hash(token), expires_at=now + SESSION_LIFETIME
        )
        PaperAccount.objects.filter(pk=account.pk).update(last_login_at=now)
        # session_expired is a one-shot: a successful login ends it.
        PaperFault.objects.filter(account=account, kind=FaultKind.SESSION_EXPIRED, is_active=True).update(
            is_active=False, fired_count=1
        )
    logger.info("paper login of %s: session %s", account.username, session.pk)
    return session, token


def totp_step_of(*, account: PaperAccount, code: str) -> int | None:
    """The time step a valid code belongs to, or None. The previous and next 30-second code are
    accepted too, for clock drift."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(account.totp_secret)
    now = timezone.now()
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return totp.timecode(now) + offset
    return None


def paper_logout(*, session: PaperSession) -> None:
    PaperSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def paper_sessions_revoke(*, account: PaperAccount) -> int:
    return PaperSession.objects.filter(account=account, revoked_at__isnull=True).update(revoked_at=timezone.now())
