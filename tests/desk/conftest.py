import pytest
from django.test import Client


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
