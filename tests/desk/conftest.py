import shutil

import pytest
from django.test import Client
from playwright.sync_api import sync_playwright

from desk.livedesk import LiveDesk, launch_chromium


@pytest.fixture
def page_for(db):
    """A browser-like client logged in as `user` (a session, as the desk pages use)."""

    def make(user=None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def htmx():
    return {"HTTP_HX_REQUEST": "true"}


# One live desk and one Chromium per browser test module (module scope: each module gets its own).
@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    if not shutil.which("chromium"):
        pytest.fail("Chromium is needed for the desk's browser tests (apt-get install chromium; .ci/run does)")
    with LiveDesk(tmp_path_factory.mktemp("live-desk")) as running:
        yield running


@pytest.fixture(scope="module")
def browser(desk):
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
