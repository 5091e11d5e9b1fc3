"""Shared fixtures. Tests talk to a real PostgreSQL and Redis; if either is unreachable
the run stops at once with a plain message instead of skipping anything."""

import os

import pytest

from tests.objectstore import bucket, s3_endpoint  # noqa: F401 — fixtures: an S3 API and a bucket

# Django-dependent imports stay inside fixtures: the pure metrics tests also run
# without Django (`-p no:django`).


def _service_errors() -> list[str]:
    from django.conf import settings

    errors = []
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        errors.append(f"DATABASE_URL must point at PostgreSQL for the tests (got engine {db['ENGINE']}).")
    else:
        import psycopg

        try:
            psycopg.connect(
                host=db["HOST"] or "localhost",
                port=db["PORT"] or 5432,
                user=db["USER"],
                password=db["PASSWORD"] or None,
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.Error as exc:
            errors.append(f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT']} ({exc}).")
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        errors.append(f"Redis is not reachable at {settings.REDIS_URL} ({exc}).")
    return errors


def pytest_sessionstart(session):
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return  # pure tests run with -p no:django need no services
    errors = _service_errors()
    if errors:
        pytest.exit(
            "The tests need real services:\n  - "
            + "\n  - ".join(errors)
            + "\nStart them, or set DATABASE_URL / REDIS_URL (see README).",
            returncode=3,
        )


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff(db):
    from tests.factories import UserFactory

    return UserFactory(is_staff=True)


@pytest.fixture
def project(db, staff):
    from tests.factories import ProjectFactory

    return ProjectFactory(created_by=staff)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty (process-local) cache: cached figures never leak between tests."""
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        yield
        return
    from django.core.cache import cache

    cache.clear()
    yield
