import pytest

from signals.models import Signal

pytestmark = pytest.mark.django_db


def test_a_posted_signal_is_pending_with_its_fields(strategy):
    response = strategy.post_signal(symbol="eth-usdt", suggest_price="3200.5", suggest_qty="2")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "PENDING"
    assert body["symbol"] == "ETH/USDT"
    signal = Signal.objects.get(pk=body["id"])
    assert str(signal.suggest_price.normalize()) == "3200.5"
    assert signal.strategy_name == "mean_reversion_v1"
    assert response["Idempotent-Replayed"] == "false"


def test_a_null_suggest_price_means_market(strategy):
    response = strategy.post_signal(suggest_price=None)
    assert response.status_code == 201
    assert response.json()["suggest_price"] is None


def test_a_new_signal_is_pushed_live_after_commit(strategy, sent_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = strategy.post_signal()
    assert sent_events == [("signals", "signal_created", response.json())]


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"symbol": "BTCUSDT"}, "symbol", "BASE/QUOTE"),
        ({"side": "HOLD"}, "side", "not a valid choice"),
        ({"suggest_qty": "0"}, "suggest_qty", "greater than 0"),
        ({"suggest_qty": "-1"}, "suggest_qty", "greater than 0"),
        ({"suggest_qty": "abc"}, "suggest_qty", "valid number"),
        ({"suggest_qty": "1e400"}, "suggest_qty", ""),
        ({"suggest_price": "0"}, "suggest_price", "greater than 0"),
        ({"suggest_price": "1.00000000001"}, "suggest_price", "decimal places"),
        ({"strategy_name": ""}, "strategy_name", "blank"),
        ({"strategy_name": "x" * 101}, "strategy_name", "100"),
    ],
)
def test_bad_input_gets_400_naming_the_field_and_reason(strategy, overrides, field, reason):
    response = strategy.post_signal(**overrides)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert reason in " ".join(body["fields"][field])
    assert not Signal.objects.exists()


def test_a_body_that_is_not_json_gets_400(strategy):
    response = strategy.client.post("/api/signals", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_list_body_gets_400(strategy):
    response = strategy.client.post("/api/signals", [1, 2], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["fields"]


def test_a_retry_with_the_same_key_and_body_returns_the_original_signal(strategy):
    first = strategy.post_signal(idempotency_key="sig-001")
    retry = strategy.post_signal(idempotency_key="sig-001")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Signal.objects.count() == 1


def test_an_equal_body_written_differently_is_the_same_request(strategy):
    first = strategy.post_signal(idempotency_key="sig-002", suggest_qty="0.5", symbol="BTC/USDT")
    retry = strategy.post_signal(idempotency_key="sig-002", suggest_qty="0.50", symbol="btc-usdt")
    assert retry.json()["id"] == first.json()["id"]


def test_the_same_key_with_a_different_body_gets_422(strategy):
    strategy.post_signal(idempotency_key="sig-003", suggest_qty="0.5")
    response = strategy.post_signal(idempotency_key="sig-003", suggest_qty="0.6")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in body["fields"]
    assert Signal.objects.count() == 1


def test_client_signal_id_in_the_body_works_like_the_header(strategy):
    first = strategy.post_signal(client_signal_id="abc")
    retry = strategy.post_signal(client_signal_id="abc")
    assert retry.json()["id"] == first.json()["id"]
    assert first.json()["client_signal_id"] == "abc"


def test_header_and_body_keys_that_differ_get_400(strategy):
    response = strategy.post_signal(idempotency_key="a", client_signal_id="b")
    assert response.status_code == 400
    assert "client_signal_id" in response.json()["fields"]


def test_two_strategies_may_use_the_same_key_independently(strategy, other_strategy):
    one = strategy.post_signal(idempotency_key="same")
    two = other_strategy.post_signal(idempotency_key="same", suggest_qty="3")
    assert one.json()["id"] != two.json()["id"]


def test_signals_without_a_key_are_never_deduplicated(strategy):
    strategy.post_signal()
    strategy.post_signal()
    assert Signal.objects.count() == 2
