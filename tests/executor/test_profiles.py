"""Exchange profiles are checked when loaded: a broken one names its file and key."""

import pytest

from executor.browser.profile import BUILTIN_DIR, ProfileError, expand_env, load_profile, parse_profile, render

GOOD = (BUILTIN_DIR / "paper.yaml").read_text()


def test_the_shipped_paper_profile_loads():
    profile = load_profile("paper")
    assert profile.venue_symbol("BTC/USDT") == "BTC-USDT"
    assert sum(step.submit for step in profile.place_order) == 1


def test_a_profile_in_a_configured_folder_is_found_first(settings, tmp_path):
    (tmp_path / "paper.yaml").write_text(GOOD.replace("retries: 1", "retries: 3"))
    settings.EXCHANGE_PROFILE_DIRS = [str(tmp_path)]
    assert load_profile("paper").retries == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("submit: true", "submit: false"), "exactly one step"),
        (('- click: "#place-order"', '- tap: "#place-order"'), "unknown action 'tap'"),
        (("find_order:", "find_orders:"), "find_order"),
        (("goto: {url: trade, reuse: true}", "goto: {url: nowhere}"), "not in urls"),
    ],
)
def test_a_broken_profile_is_refused_with_the_key_at_fault(change, message):
    with pytest.raises(ProfileError, match=message):
        parse_profile(GOOD.replace(*change), source="broken.yaml")


def test_an_unknown_profile_says_where_it_looked():
    with pytest.raises(ProfileError, match="no exchange profile named 'nope'"):
        load_profile("nope")


def test_placeholders_must_have_values():
    assert (
        render("{base_url}/trade/{symbol}", {"base_url": "http://x", "symbol": "BTC-USDT"}) == "http://x/trade/BTC-USDT"
    )
    with pytest.raises(ProfileError, match="symbol"):
        render("{base_url}/trade/{symbol}", {"base_url": "http://x"})


def test_values_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("VENUE_URL", "https://venue.example")
    assert expand_env("${VENUE_URL:-http://default}") == "https://venue.example"
    monkeypatch.delenv("VENUE_URL")
    assert expand_env("${VENUE_URL:-http://default}") == "http://default"
