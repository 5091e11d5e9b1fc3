"""Shared state with Redis down: each helper fails the safe way, at once."""

import time

import pytest
from django.core import mail

from core.shared_state import cached, cap_reached, due_once_per
from tests.objectstore import free_port


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_cache(settings):
    """The Redis cache as base settings configure it with REDIS_URL (the test settings keep a
    process-local cache: clearing a Redis cache between tests would flush the broker's keys)."""
    import uuid

    prefix = f"concord-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_caps_throttles_and_counters_are_shared_through_redis(db, redis_cache):
    from django.core.cache import caches

    assert caches["default"].__class__.__name__ == "RedisCache"
    assert [cap_reached(key="t:cap", cap=2, window_seconds=60) for _ in range(3)] == [False, False, True]
    assert [due_once_per(key="t:every", seconds=60) for _ in range(2)] == [True, False]
    assert cached(key="t:n", compute=lambda: 7, seconds=60) == 7
    assert cached(key="t:n", compute=lambda: 8, seconds=60) == 7


def test_with_redis_down_a_cap_counts_as_reached_a_throttle_as_due_a_figure_as_computed(redis_down):
    started = time.monotonic()
    assert cap_reached(key="t:cap", cap=100, window_seconds=60) is True
    assert due_once_per(key="t:every", seconds=60) is True
    assert cached(key="t:n", compute=lambda: 8, seconds=60) == 8
    assert time.monotonic() - started < 5


def test_with_redis_down_a_reset_request_sends_no_mail_and_looks_the_same(redis_down, user, client):
    user.email = "someone@example.org"
    user.save()
    response = client.post("/password-reset/", {"email": "someone@example.org"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []


def test_with_redis_down_labeling_goes_on(redis_down, project, user):
    from labeling.models import ProjectMembership, Role
    from tests.factories import ItemFactory
    from tests.helpers import client_for

    ProjectMembership.objects.create(project=project, user=user, role=Role.LABELER)
    ItemFactory(project=project)
    client = client_for(user)
    item = client.get(f"/api/projects/{project.id}/next/")
    assert item.status_code == 200
    answer = client.post(f"/api/items/{item.json()['id']}/annotations/", {"value": "dent"}, format="json")
    assert answer.status_code == 201, answer.json()
