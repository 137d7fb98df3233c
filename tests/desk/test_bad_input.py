"""Whatever a person types or a page sends, the desk answers 2xx or 4xx, never a 500."""

import pytest

WEIRD = ["", " ", "abc", "-1", "0", "1e400", "NaN", "Infinity", "9" * 40, "0.00000000001", "1,5", "\x00", "€", "<b>"]


@pytest.mark.parametrize("value", WEIRD)
def test_no_input_makes_a_500(page_for, trader, make_signal, htmx, value):
    signal = make_signal()
    client = page_for(trader)
    client.raise_request_exception = False
    gets = [
        f"/signals/?status={value}&symbol={value}&strategy={value}",
        f"/signals/rows/?symbol={value}",
        f"/signals/{signal.pk}/row/?symbol={value}&status={value}",
        f"/orders/?status={value}&symbol={value}&origin={value}&day_from={value}&day_to={value}",
        f"/orders/rows/?day_from={value}",
        f"/orders/1/row/?day_to={value}&symbol={value}",
        f"/signals/{signal.pk}/order/preview/?qty={value}&price={value}&order_type={value}",
    ]
    for path in gets:
        answer = client.get(path, **htmx)
        assert answer.status_code < 500, (path, answer.status_code)
    for field in ("qty", "price", "order_type", "nonce"):
        body = {"order_type": "LIMIT", "qty": "0.5", "price": "100", "nonce": "n-" + field, field: value}
        answer = client.post(f"/signals/{signal.pk}/order/confirm/", body, **htmx)
        assert answer.status_code < 500, (field, answer.status_code)
    answer = client.post(f"/signals/{signal.pk}/reject/", {"reason": value}, **htmx)
    assert answer.status_code < 500
