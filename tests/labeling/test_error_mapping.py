"""Only a lost database connection is a 503 (retry); other database errors are not dressed up as one."""

import pytest
from django.db import InterfaceError, OperationalError

from core.errors import DatabaseUnavailable, database_failure

pytestmark = pytest.mark.django_db


class _Cause(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _with_state(state: str) -> OperationalError:
    exc = OperationalError("from the driver")
    exc.__cause__ = _Cause(state)
    return exc


def test_only_a_lost_connection_is_database_unavailable():
    assert database_failure(OperationalError("database is locked")) is None
    assert database_failure(OperationalError("malformed JSON")) is None
    assert database_failure(_with_state("57014")) is None  # statement timeout
    assert isinstance(database_failure(_with_state("57P01")), DatabaseUnavailable)  # admin shutdown
    assert isinstance(database_failure(_with_state("08006")), DatabaseUnavailable)  # connection failure
    assert isinstance(database_failure(InterfaceError("connection already closed")), DatabaseUnavailable)
