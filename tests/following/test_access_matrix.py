"""Issue 14 item 1: follow-only users see the copy-trading pages and their own data, nothing of
the desk. Every route of the desk (from the URL resolver: a new route fails the test until it is
classified here) and both desk sockets, for anonymous, a follower, another follower, a master,
a viewer, a trader and an admin.

Personas: `follower` (fred) and `other_follower` (gina) follow `master` (mia); none of the three
has a desk role, as the README's setup (`create_desk_user NAME --role follower`) makes them.
"""

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.test import Client
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from following import services, sync
from following.models import TradeError
from orders.models import Order
from tradedesk import roles

pytestmark = pytest.mark.django_db

FOLLOW_ONLY = ("follower", "other_follower", "master")
STAFF = ("viewer", "trader", "desk_admin")
PERSONAS = ("anonymous", *FOLLOW_ONLY, *STAFF)
REFUSED = {302, 401, 403, 404, 405}  # 302: to the login page; 404: not theirs; 405: not a GET

# Every route, by who may read it. desk: viewers and up. follow: any logged-in user, own data.
# follow_admin: desk admins. public: health probes and the login. own_auth: the paper exchange
# (a venue with its own logins and keys) and Django admin (staff only), tested in their apps.
ROUTES = {
    "public": ["healthz", "readyz", "login/", "logout/", "follow/signup/", "metrics"],
    "own_auth": ["paper/", "admin/"],
    "schema": ["api/schema/", "docs"],
    "follow_admin": ["follow/admin/"],
    "follow": ["api/v1/follow-config/", "follow/"],
}


def _routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route.startswith(("admin/", "paper/")):
                    yield route
                    continue
                yield from walk(pattern.url_patterns, route)
            else:
                yield route

    return sorted(set(walk(get_resolver().url_patterns)))


def category(route: str) -> str:
    for name in ("public", "own_auth", "schema", "follow_admin", "follow"):
        if any(route == p or (p.endswith("/") and route.startswith(p) and name != "public") for p in ROUTES[name]):
            return name
    return "desk"


@pytest.fixture
def world(
    follower, other_follower, master, viewer, trader, desk_admin, master_account, make_account, trade, make_signal
):
    """A desk signal and order, and two followers of mia's account with a copy order each."""
    from orders.models import Order as DeskOrder

    ids = {"signal_id": make_signal().pk}
    desk_order = DeskOrder.objects.create(
        signal_id=ids["signal_id"], symbol="BTC/USDT", side="BUY", order_type="LIMIT", price=Decimal("65000"),
        qty=Decimal("1"), venue="dry_run", created_by=trader, status="SUCCESS",
    )  # fmt: skip
    follows = {}
    for user in (follower, other_follower):
        own = make_account(user)
        follows[user.username] = services.follow_settings_create(
            user=user, master_credential_id=master_account.pk, follower_credential_id=own.pk,
            follow_ratio=Decimal("0.1"),
        )  # fmt: skip
    trade(master_account, "BUY", "1")
    sync.follow_sync_cycle()
    gina = follows["gina_follower"]
    error = services.trade_error_record(settings_id=gina.pk, error_type="REJECTED", message="gina's error")
    return {
        "desk_order": desk_order.pk,
        "gina_order": Order.objects.get(follow_settings=gina).pk,
        "gina_follow": gina.pk,
        "gina_error": error.pk,
        "signal": ids["signal_id"],
        "master_account": master_account.pk,
        "users": {
            "follower": follower, "other_follower": other_follower, "master": master,
            "viewer": viewer, "trader": trader, "desk_admin": desk_admin,
        },
    }  # fmt: skip


def _path(route: str, world: dict, *, order: str = "desk_order") -> str:
    values = {
        "<int:signal_id>": world["signal"],
        "<int:order_id>": world[order],
        "<int:settings_id>": world["gina_follow"],
        "<int:error_id>": world["gina_error"],
        "<int:credential_id>": world["master_account"],
    }
    path = "/" + route
    for token, value in values.items():
        path = path.replace(token, str(value))
    assert "<" not in path, f"{route}: give the matrix a value for its parameter"
    return path


def _client(world: dict, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    return client


def test_every_route_is_classified_and_the_follow_only_personas_have_no_desk_role(world):
    routes = _routes()
    assert len(routes) > 60  # the resolver was walked
    assert {category(r) for r in routes} == {"public", "own_auth", "schema", "follow_admin", "follow", "desk"}
    for persona in FOLLOW_ONLY:
        assert roles.role_of(world["users"][persona]) is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_desk_routes_answer_only_desk_staff(world, persona):
    client = _client(world, persona)
    desk = [route for route in _routes() if category(route) == "desk"]
    answers = {}
    for route in desk:
        for order in ("desk_order", "gina_order"):
            path = _path(route, world, order=order)
            answers[path] = client.get(path, HTTP_ACCEPT="application/json").status_code
    if persona == "anonymous" or persona in FOLLOW_ONLY:
        leaked = {path: code for path, code in answers.items() if code not in REFUSED}
        assert not leaked, f"{persona} reads desk routes: {leaked}"
        if persona != "anonymous":
            assert answers["/api/orders"] == 403 and answers[f"/api/orders/{world['gina_order']}"] == 403
            assert answers["/signals/"] == 403 and answers["/orders/"] == 403
    else:
        # Staff read the desk's lists and details (GET); the action routes are POST-only.
        for path in ("/signals/", "/orders/", "/api/orders", "/api/signals", f"/api/orders/{world['desk_order']}"):
            assert answers[path] == 200, (persona, path, answers[path])
        assert not {path: code for path, code in answers.items() if code >= 500}


@pytest.mark.parametrize("persona", PERSONAS)
def test_follow_routes_answer_any_login_with_its_own_data_only(world, persona):
    client = _client(world, persona)
    own = client.get("/api/v1/follow-config/settings")
    page = client.get("/follow/")
    gina = world["gina_follow"]
    if persona == "anonymous":
        assert own.status_code in (401, 403) and page.status_code == 302
        for route in _routes():
            if category(route) in ("follow", "follow_admin"):
                assert client.get(_path(route, world)).status_code in REFUSED, route
        return
    assert page.status_code == 200
    expected = 200 if persona in ("follower", "other_follower") else 404  # only followers have follows
    assert own.status_code == expected
    # gina's follow, error and orders are hers alone.
    theirs = (
        client.get(f"/api/v1/follow-config/follows/{gina}"),
        client.get(f"/api/v1/follow-config/follows/{gina}/status"),
        client.post(f"/api/v1/follow-config/errors/{world['gina_error']}/resolve"),
    )
    if persona == "other_follower":
        assert [r.status_code for r in theirs[:2]] == [200, 200]
    else:
        assert [r.status_code for r in theirs] == [404, 404, 404], persona
        assert TradeError.objects.get(pk=world["gina_error"]).is_resolved is False
    errors = client.get("/api/v1/follow-config/errors").json()
    assert all(row["user_id"] == world["users"][persona].pk for row in errors)
    admin_page = client.get("/follow/admin/")
    assert admin_page.status_code == (200 if persona == "desk_admin" else 403)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_schema_shows_a_follow_only_user_only_the_follow_config_api(world, persona):
    response = _client(world, persona).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    if persona == "anonymous":
        assert response.status_code in (401, 403)
        return
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    follow = {path for path in paths if path.startswith("/api/v1/follow-config/")}
    assert "/api/v1/follow-config/follows" in follow
    if persona in FOLLOW_ONLY:
        assert paths == follow, sorted(paths - follow)
    else:
        assert "/api/orders" in paths and "/api/signals" in paths


def test_the_readme_setup_makes_follow_only_users(db):
    from django.contrib.auth.models import User

    call_command("create_desk_user", "fred", "--role", "follower", "--password", "fred-long-passphrase")
    fred = User.objects.get(username="fred")
    assert roles.role_of(fred) is None and fred.has_usable_password() and not fred.is_staff
    call_command("create_desk_user", "vera", "--role", "viewer")
    call_command("create_desk_user", "vera", "--role", "follower")  # a viewer made follow-only
    assert roles.role_of(User.objects.get(username="vera")) is None


async def _connects(user, path: str) -> bool:
    from django.conf import settings

    from tests.desk.test_live_sockets import login_session

    session = await database_sync_to_async(login_session)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie)]
    from tradedesk.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", ["follower", "master", "viewer", "trader", "desk_admin"])
@pytest.mark.parametrize("path", ["/ws/signals", "/ws/orders"])
async def test_the_desk_sockets_refuse_follow_only_users(persona, path, request):
    fixture = {"follower": "follower", "master": "master"}.get(persona, persona)
    user = await database_sync_to_async(request.getfixturevalue)(fixture)
    assert await _connects(user, path) is (persona in STAFF)
