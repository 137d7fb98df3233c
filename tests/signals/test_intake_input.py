"""The intake's input serializer binds shallow copies of its declared fields (signals/api.py):
each request's validation stands on its own, and the class's own fields are never bound."""

import pytest

from signals.api import SignalListCreateApi
from signals.models import Signal

pytestmark = pytest.mark.django_db

Input = SignalListCreateApi.SignalCreateInput


def test_a_refused_signal_does_not_change_how_the_next_one_is_validated(strategy):
    refused = strategy.post_signal("bad", symbol="not a symbol", suggest_qty="-1", side="SIDEWAYS")
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"symbol", "suggest_qty", "side"}
    assert strategy.post_signal("good").status_code == 201
    assert Signal.objects.get().symbol == "BTC/USDT"


def test_each_serializer_gets_its_own_bound_fields_and_the_declared_ones_stay_unbound():
    first, second = Input(data={}), Input(data={})
    assert first.fields["symbol"] is not second.fields["symbol"]
    assert first.fields["symbol"].parent is first and second.fields["symbol"].parent is second
    assert all(field.parent is None for field in Input._declared_fields.values())
    assert not first.is_valid() and second.fields["symbol"].source == "symbol"
