"""Log in, reset and change a password: no account enumeration, no open redirect, tokens revoked."""

import re

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client):
    UserFactory(email="sme@example.org")
    known = client.post("/password-reset/", {"email": "sme@example.org"}, follow=True)
    unknown = client.post("/password-reset/", {"email": "nobody@example.org"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [("/password-reset/sent/", 302)]
    assert _without_csrf(known.content.decode()) == _without_csrf(unknown.content.decode())
    assert [m.to for m in mail.outbox] == [["sme@example.org"]]  # only the real account gets mail


def test_password_reset_link_sets_a_new_password_once_and_revokes_tokens(client):
    user = UserFactory(email="sme@example.org")
    token = Token.objects.create(user=user)
    client.post("/password-reset/", {"email": "sme@example.org"})
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Set a new password" in form.content.decode()
    new = "a-brand-new-Passphrase-42"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    user.refresh_from_db()
    assert user.check_password(new)
    assert not Token.objects.filter(pk=token.pk).exists()
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_login_never_redirects_to_another_host(client):
    user = UserFactory()
    user.set_password("correct-horse-battery")
    user.save()
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil.example"]:
        client.logout()
        response = client.post(
            "/login/", {"username": user.username, "password": "correct-horse-battery", "next": target}
        )
        assert response.status_code == 302
        assert response["Location"] == "/", target  # the default page, never the given host
    client.logout()
    inside = client.post(
        "/login/", {"username": user.username, "password": "correct-horse-battery", "next": "/projects/"}
    )
    assert inside["Location"] == "/projects/"


def test_password_change_needs_the_old_password_and_revokes_tokens(client):
    user = UserFactory()
    user.set_password("correct-horse-battery")
    user.save()
    token = Token.objects.create(user=user)
    client.force_login(user)
    wrong = client.post(
        "/password-change/",
        {"old_password": "guess", "new_password1": "Another-pass-77", "new_password2": "Another-pass-77"},
    )
    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()
    assert Token.objects.filter(pk=token.pk).exists()
    changed = client.post(
        "/password-change/",
        {
            "old_password": "correct-horse-battery",
            "new_password1": "Another-pass-77",
            "new_password2": "Another-pass-77",
        },
    )
    assert changed.status_code == 302 and changed["Location"] == "/password-change/done/"
    assert not Token.objects.filter(pk=token.pk).exists()
    assert client.get("/password-change/done/").status_code == 200  # this session stays logged in


def test_password_reset_mails_are_capped_without_saying_so(client):
    UserFactory(email="sme@example.org")
    pages = [client.post("/password-reset/", {"email": "SME@example.org"}, follow=True) for _ in range(5)]
    assert {page.redirect_chain[-1][0] for page in pages} == {"/password-reset/sent/"}
    assert len({_without_csrf(page.content.decode()) for page in pages}) == 1  # the same page each time
    assert len(mail.outbox) == 3  # RESET_MAILS_PER_HOUR, then nothing until the hour is over


def test_password_reset_caps_are_shared_by_every_process_when_redis_is_set(settings):
    """gunicorn runs several workers: a cap kept per process let each worker send its own three."""
    import os
    import subprocess
    import sys
    import uuid

    from django.core.cache import cache

    from core.accounts.passwords import _over_cap

    key = f"password-reset:email:test-{uuid.uuid4().hex}"
    code = (
        "import django; django.setup(); from core.accounts.passwords import _over_cap; "
        f"print([_over_cap({key!r}, 3) for _ in range(3)])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "shared-cap-test",
        "REDIS_URL": settings.REDIS_URL,
    }
    command = [sys.executable, "-c", code]
    another = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert another.stdout.strip().splitlines()[-1] == "[False, False, False]"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "concord",
        }
    }
    try:
        assert _over_cap(key, 3)  # this process sees the other's three
    finally:
        cache.delete(key)
