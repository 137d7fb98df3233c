"""The price feed: a deterministic random walk per symbol, and a fixed override for tests and demos."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from executor.paper import pricing, selectors
from executor.paper.models import PaperInstrument

pytestmark = pytest.mark.django_db

WALK = {"seed": "paper", "symbol": "BTC-USDT", "start_price": Decimal("65000"), "volatility": Decimal("0.0001")}


def price_at(step: int, **overrides) -> Decimal:
    return pricing.walk_price(**{**WALK, "tick": Decimal("0.01"), **overrides}, step=step)


def test_the_same_seed_and_step_always_give_the_same_price():
    step = pricing.step_at(timezone.now())
    first = price_at(step)
    pricing.walk.cache_clear()
    assert price_at(step) == first
    assert price_at(123_456_789) == price_at(123_456_789)


def test_the_price_moves_from_one_step_to_the_next():
    step = pricing.step_at(timezone.now())
    prices = [price_at(step + offset) for offset in range(20)]
    assert len(set(prices)) > 15
    assert all(abs(b - a) / a < Decimal("0.01") for a, b in zip(prices, prices[1:], strict=False))


def test_another_seed_or_symbol_walks_another_path():
    step = pricing.step_at(timezone.now())
    assert price_at(step, seed="other") != price_at(step)
    assert price_at(step, symbol="ETH-USDT") != price_at(step)


def test_prices_sit_on_the_tick_and_stay_near_the_start_price():
    for step in range(0, 3 * pricing.WINDOW, 9973):
        price = price_at(step)
        assert price % Decimal("0.01") == 0
        assert Decimal("40000") < price < Decimal("100000")


def test_the_step_is_one_second():
    now = timezone.now()
    assert pricing.step_at(now + timedelta(seconds=1)) == pricing.step_at(now) + 1
    assert pricing.step_time(pricing.step_at(now)) <= now


def test_the_mark_follows_the_walk_of_the_instrument():
    instrument = PaperInstrument.objects.get(symbol="BTC-USDT")
    moment = timezone.now()
    mark = selectors.mark_price(instrument=instrument, at=moment)
    assert mark.source == "walk"
    assert mark.price == price_at(pricing.step_at(moment))


def test_the_set_price_command_fixes_the_mark_until_cleared(client):
    out = StringIO()
    call_command("paper_set_price", "BTC-USDT", "65000", stdout=out)
    assert client.get("/paper/api/prices/BTC-USDT").json()["price"] == "65000"
    assert client.get("/paper/api/prices/BTC-USDT").json()["source"] == "override"
    call_command("paper_set_price", "BTC-USDT", "--clear", stdout=out)
    assert client.get("/paper/api/prices/BTC-USDT").json()["source"] == "walk"
    assert "BTC-USDT mark fixed at 65000." in out.getvalue()


@pytest.mark.parametrize(
    "args", [["BTC-USDT", "65000.001"], ["BTC-USDT", "-5"], ["BTC-USDT", "abc"], ["NOPE-USDT", "1"], ["BTC-USDT"]]
)
def test_the_set_price_command_refuses_a_bad_price_or_symbol(args):
    with pytest.raises(CommandError):
        call_command("paper_set_price", *args, stdout=StringIO())
    assert PaperInstrument.objects.get(symbol="BTC-USDT").override_price is None
