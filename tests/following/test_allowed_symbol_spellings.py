"""A follow's allowed symbols are spelled as the desk spells markets (tradedesk.symbols), so
`btc-usdt` allows the BTC/USDT the master trades instead of matching nothing."""

import pytest

from following import sync
from following.models import ErrorType, TradeError
from orders.models import Order
from tradedesk.exceptions import InvalidInput

pytestmark = pytest.mark.django_db


def test_allowed_symbols_in_any_spelling_are_stored_as_the_desk_spells_them(follower, follower_account, follow):
    row = follow(follower, follower_account, "0.1", allowed_symbols=["btc-usdt", "ETH_USDT", "eth/usdt"])
    assert row.allowed_symbols == ["BTC/USDT", "ETH/USDT"]


def test_a_symbol_allowed_as_btc_dash_usdt_is_copied(follower, master_account, follower_account, trade, follow):
    follow(follower, follower_account, "0.1", allowed_symbols=["btc-usdt"])
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    assert not TradeError.objects.filter(error_type=ErrorType.CAP_SYMBOL_NOT_ALLOWED).exists()
    assert Order.objects.filter(symbol="BTC/USDT", follow_settings__isnull=False).count() == 1


def test_an_allowed_symbol_that_is_no_market_is_refused_naming_the_field(follower, follower_account, follow):
    with pytest.raises(InvalidInput) as refused:
        follow(follower, follower_account, "0.1", allowed_symbols=["BTCUSDT"])
    assert refused.value.field == "allowed_symbols"
