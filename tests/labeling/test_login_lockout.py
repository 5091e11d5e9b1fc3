"""Login lockout: one username from one client address. Behind a proxy every request arrives
from the proxy's address; five wrong guesses by anyone used to lock the whole site for an hour."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def people(db):
    return UserFactory(username="ana", password=PASSWORD), UserFactory(username="bob", password=PASSWORD)


def _login(username, password, *, forwarded=None, remote=PROXY):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post("/login/", {"username": username, "password": password}, **headers)


def _signed_in(response) -> bool:
    return response.status_code == 302 and "/login/" not in response["Location"]


def _lock(settings, username, **where):
    codes = [_login(username, "wrong", **where).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert codes == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]


def test_behind_one_proxy_a_lockout_holds_for_that_username_and_client_only(settings, people):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.AXES_IPWARE_PROXY_COUNT = 0  # TRUSTED_PROXY_COUNT=1, as config/settings/base.py maps it
    _lock(settings, "ana", forwarded="203.0.113.5")
    assert _login("ana", PASSWORD, forwarded="203.0.113.5").status_code == 429
    assert _signed_in(_login("ana", PASSWORD, forwarded="198.51.100.7"))  # ana elsewhere
    assert _signed_in(_login("bob", PASSWORD, forwarded="203.0.113.5"))  # bob at the same address
    # A client can't choose the address it is counted under: the proxy appends the real one.
    assert _login("ana", PASSWORD, forwarded="198.51.100.7, 203.0.113.5").status_code == 429
    _lock(settings, "bob", forwarded="203.0.113.5, 198.51.100.99")
    assert _login("bob", PASSWORD, forwarded="198.51.100.99").status_code == 429
    assert _signed_in(_login("bob", PASSWORD, forwarded="203.0.113.5"))


def test_without_a_trusted_proxy_the_header_is_ignored(settings, people):
    assert settings.TRUSTED_PROXY_COUNT == 0 and settings.AXES_IPWARE_META_PRECEDENCE_ORDER == ["REMOTE_ADDR"]
    for i in range(settings.AXES_FAILURE_LIMIT):  # a new forged address each time: still one client
        _login("ana", "wrong", forwarded=f"192.0.2.{i}", remote="198.51.100.1")
    assert _login("ana", PASSWORD, forwarded="192.0.2.200", remote="198.51.100.1").status_code == 429
    assert _signed_in(_login("ana", PASSWORD, remote="198.51.100.2"))


def test_trusted_proxy_count_maps_to_axes_client_address_settings(settings):
    from config.settings.base import client_address_settings

    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert client_address_settings(0) == {
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ["REMOTE_ADDR"],
        "AXES_IPWARE_PROXY_COUNT": None,
    }
    assert client_address_settings(2) == {
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
        "AXES_IPWARE_PROXY_COUNT": 1,
    }


def test_behind_two_proxies_the_second_address_from_the_right_is_the_client(settings, people):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.AXES_IPWARE_PROXY_COUNT = 1  # TRUSTED_PROXY_COUNT=2: client, then the first proxy
    _lock(settings, "ana", forwarded="192.0.2.1, 203.0.113.5, 10.0.0.1")
    assert _login("ana", PASSWORD, forwarded="203.0.113.5, 10.0.0.1").status_code == 429
    assert _signed_in(_login("ana", PASSWORD, forwarded="203.0.113.6, 10.0.0.1"))
