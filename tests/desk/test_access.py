"""Roles are enforced on the server for every desk page and action, not only by hidden buttons."""

import pytest

from orders.models import Order
from signals.models import Signal

pytestmark = pytest.mark.django_db

PAGES = ["/", "/signals/", "/signals/rows/", "/orders/", "/orders/rows/"]


def signal_pages(signal_id: int) -> list[str]:
    return [f"/signals/{signal_id}/", f"/signals/{signal_id}/row/"]


def order_pages(order_id: int) -> list[str]:
    return [f"/orders/{order_id}/", f"/orders/{order_id}/row/"]


def actions(signal_id: int) -> list[tuple[str, str]]:
    return [
        ("post", f"/signals/{signal_id}/accept/"),
        ("get", f"/signals/{signal_id}/reject/"),
        ("post", f"/signals/{signal_id}/reject/"),
        ("get", f"/signals/{signal_id}/order/"),
        ("get", f"/signals/{signal_id}/order/preview/?qty=1&order_type=LIMIT&price=1"),
        ("post", f"/signals/{signal_id}/order/confirm/"),
    ]


def test_an_anonymous_user_is_sent_to_login_from_every_page(page_for, make_signal, make_order):
    signal = make_signal()
    order = make_order(signal)
    client = page_for(None)
    for path in PAGES + signal_pages(signal.pk) + order_pages(order.pk):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next="), path
    for method, path in actions(signal.pk):
        response = getattr(client, method)(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_an_anonymous_htmx_request_is_told_to_go_to_login(page_for, make_signal, htmx):
    signal = make_signal()
    response = page_for(None).get(f"/signals/{signal.pk}/row/", **htmx)
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/login/"


def test_a_viewer_sees_the_pages_without_action_buttons(page_for, viewer, make_signal, make_order):
    signal = make_signal(reason="z-score below -2")
    make_order(make_signal(status="ACCEPTED"), status="FAILED", error_code="REJECTED")
    client = page_for(viewer)
    page = client.get("/signals/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="signal-{signal.pk}"' in html and "z-score below -2" in html
    assert 'data-action="accept"' not in html and 'data-action="order"' not in html
    assert 'data-action="reject"' not in html
    assert client.get("/orders/").status_code == 200
    detail = client.get(f"/signals/{signal.pk}/").content.decode()
    assert "order-form" not in detail and "Reject" not in detail


def test_a_viewer_gets_403_from_every_action_and_nothing_changes(page_for, viewer, make_signal):
    signal = make_signal()
    client = page_for(viewer)
    for method, path in actions(signal.pk):
        data = {"reason": "no", "qty": "1", "order_type": "MARKET", "nonce": "x"} if method == "post" else None
        response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
        assert response.status_code == 403, path
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"
    assert not Order.objects.exists()


def test_a_user_without_a_desk_role_gets_403_from_the_pages(page_for, outsider, make_signal):
    signal = make_signal()
    client = page_for(outsider)
    for path in PAGES[1:] + signal_pages(signal.pk):
        assert client.get(path).status_code == 403, path
    # The home page has nothing of the desk: it sends a user without a desk role to copy trading.
    assert client.get("/").url == "/follow/"
    # The refusal is a page of the desk's own, saying why, not the server's bare 403.
    page = client.get("/signals/").content.decode()
    assert 'data-testid="forbidden"' in page and "the viewer role is required" in page


def test_a_trader_sees_the_action_buttons(page_for, trader, make_signal):
    signal = make_signal()
    html = page_for(trader).get("/signals/").content.decode()
    row = html[html.index(f'id="signal-{signal.pk}"') :]
    for action in ("accept", "reject", "order"):
        assert f'data-action="{action}"' in row


def test_actions_refuse_get_where_they_need_post(page_for, trader, make_signal):
    signal = make_signal()
    client = page_for(trader)
    assert client.get(f"/signals/{signal.pk}/accept/").status_code == 405
    assert client.get(f"/signals/{signal.pk}/order/confirm/").status_code == 405
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"


def test_admin_is_for_admins_only(page_for, trader, desk_admin):
    assert page_for(trader).get("/admin/").status_code == 302  # not staff: admin's own login
    assert page_for(desk_admin).get("/admin/").status_code == 200


def test_the_admin_group_opens_django_admin_with_every_permission(page_for, trader, desk_admin):
    """A user an admin put in the admin group (no is_staff, no superuser) is a full admin."""
    from django.contrib.auth.models import Group

    trader.groups.set([Group.objects.get(name="admin")])
    assert not trader.is_staff and not trader.is_superuser
    client = page_for(trader)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/orders/risklimit/add/").status_code == 200
    body = {"symbol": "sol-usdt", "max_order_qty": "3", "max_daily_qty": "", "max_daily_notional": ""}
    assert client.post("/admin/orders/risklimit/add/", body).status_code == 302
    assert client.get("/admin/auth/user/").status_code == 200
    assert 'href="/admin/"' in client.get("/signals/").content.decode()  # the header links to it


def test_only_the_admin_role_opens_django_admin_whatever_is_staff_says(page_for, trader, viewer):
    trader.is_staff = True
    trader.save()
    for user in (trader, viewer):
        client = page_for(user)
        assert client.get("/admin/").status_code == 302, user
        assert client.get("/admin/orders/risklimit/").status_code == 302, user
        assert 'href="/admin/"' not in client.get("/signals/").content.decode()


def test_admin_login_page_lets_in_the_admin_role_only(trader):
    from django.contrib.auth.models import Group
    from django.test import Client

    trader.set_password("pw-for-admin-login")
    trader.is_staff = True
    trader.save()
    refused = Client().post("/admin/login/", {"username": trader.username, "password": "pw-for-admin-login"})
    assert refused.status_code == 200 and "correct username and password" in refused.content.decode()

    trader.is_staff = False
    trader.save()
    trader.groups.set([Group.objects.get(name="admin")])
    client = Client()
    answer = client.post("/admin/login/?next=/admin/", {"username": trader.username, "password": "pw-for-admin-login"})
    assert answer.status_code == 302 and answer.url == "/admin/"
    assert client.get("/admin/").status_code == 200
