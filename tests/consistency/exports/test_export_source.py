"""Which database an export reads, for each state of the replica (consistency/exports/source.py);
tests/test_read_replica.py runs the same against a real primary and standby."""

import pytest

from consistency.exports.source import source_verdict


def _verdict(standby=True, caught_up=False, age=None, max_lag=0.0, waited_out=False):
    return source_verdict(
        standby=standby, caught_up=caught_up, age=age, max_lag=max_lag, waited_out=waited_out
    )


def test_a_caught_up_standby_is_read_with_no_lag():
    source = _verdict(caught_up=True, age=120.0)  # an idle primary: old last commit, nothing missing
    assert source is not None and source.from_replica and source.lag_seconds == 0.0
    assert source.as_dict() == {"read_from": "replica", "replica_lag_seconds": 0.0, "replica_skipped": None}


def test_a_standby_behind_is_waited_for_then_left_for_the_primary():
    assert _verdict(age=0.2) is None  # look again
    source = _verdict(age=0.2, waited_out=True)
    assert source is not None and not source.from_replica and source.skipped == "behind"


@pytest.mark.parametrize(("age", "read"), [(4.9, True), (5.1, False), (None, False)])
def test_a_tolerated_lag_reads_the_standby_behind(age, read):
    source = _verdict(age=age, max_lag=5.0, waited_out=True)
    assert source is not None and source.from_replica is read
    if read:
        assert source.lag_seconds == age


def test_a_server_out_of_recovery_is_never_read_as_the_replica():
    source = _verdict(standby=False, caught_up=True)
    assert source is not None and not source.from_replica and source.skipped == "not_a_standby"
