"""State that every web node must see alike: caps on actions, throttles, short-lived counters.

It lives in Django's cache, which is Redis whenever REDIS_URL is set (config/settings/base.py),
so a cap counted on one gunicorn instance holds on all of them. Without REDIS_URL (`make run`,
one process) the cache is in process memory, which is then the whole truth.

When Redis is down each helper fails in the direction that is safe for what it guards, logs a
warning and answers at once (the client's socket timeouts are short):
- a cap (`cap_reached`) counts as reached: nothing capped is done (no reset mail is sent);
- a throttle (`due_once_per`) counts as due: the idempotent work it spaces out runs anyway;
- a cached figure (`cached`) is computed from the database.
"""

import logging
from collections.abc import Callable
from typing import TypeVar, cast

from django.core.cache import cache

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _cache_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def cap_reached(*, key: str, cap: int, window_seconds: int) -> bool:
    """Count one more action under ``key``; True when this one is past ``cap`` in the window.

    The window starts with the first action (a fixed window, as the reset-mail caps need).
    """
    try:
        cache.add(key, 0, timeout=window_seconds)
        try:
            return cache.incr(key) > cap
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window_seconds)
            return False
    except _cache_errors():
        logger.warning("shared cache unreachable: cap %s counted as reached", key.split(":")[0])
        return True


def due_once_per(*, key: str, seconds: int) -> bool:
    """True for the first caller in ``seconds`` across all processes (an atomic add)."""
    if seconds <= 0:
        return True
    try:
        return bool(cache.add(key, 1, timeout=seconds))
    except _cache_errors():
        logger.warning("shared cache unreachable: %s runs unthrottled", key.split(":")[0])
        return True


def cached(*, key: str, compute: Callable[[], T], seconds: int) -> T:
    """``compute()``'s value, shared by all processes for ``seconds``."""
    try:
        return cast(T, cache.get_or_set(key, compute, seconds))
    except _cache_errors():
        logger.warning("shared cache unreachable: %s computed afresh", key.split(":")[0])
        return compute()
