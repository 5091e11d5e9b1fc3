"""Work done on a thread beside the caller's own: a database read on a connection of its own,
or numpy work (which lets go of the GIL in its array loops).

A read spends most of its time in PostgreSQL, and a metric over whole arrays mostly in numpy's
loops: either, started beside the caller's work, costs the caller little more than the wait at
the end on a machine with a second core. A read goes on a thread only on PostgreSQL and outside
a transaction: a second connection does not see what the caller's open transaction wrote
(tests' ``django_db``), so there it runs in place, when its result is asked for.
"""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connection

T = TypeVar("T")


class Beside(Generic[T]):
    """``fn()`` started now; ``result()`` waits for it and returns it (or raises its error)."""

    def __init__(
        self, fn: Callable[[], T], *, name: str, reads_database: bool = True, on_thread: bool = True
    ) -> None:
        """``on_thread=False``: run in place when the result is asked for (the caller's choice,
        e.g. when side-by-side work would hold too much memory at once)."""
        self._fn = fn
        self._reads_database = reads_database
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        in_place = reads_database and (connection.vendor != "postgresql" or connection.in_atomic_block)
        if on_thread and not in_place:
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread by result())
            self._error = exc
        finally:
            if self._reads_database:
                connection.close()  # this thread's own connection

    def result(self) -> T:
        if self._thread is None:
            return self._fn()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set by _run when no error
