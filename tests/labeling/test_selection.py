from datetime import UTC, datetime, timedelta

import pytest

from labeling.selection import PoolItem, gold_is_due, lease_expiry, lease_is_live, pick_from_pool


def test_gold_is_served_at_the_configured_rate():
    gold = 0
    pattern = []
    for served in range(30):
        due = gold_is_due(answered=served, gold_answered=gold, gold_rate=0.1)
        pattern.append(due)
        gold += due
    assert gold == 3
    assert [i for i, due in enumerate(pattern) if due] == [0, 10, 20]


def test_no_gold_at_rate_zero_and_bad_rates_refused():
    assert not gold_is_due(answered=0, gold_answered=0, gold_rate=0)
    with pytest.raises(ValueError, match="gold_rate"):
        gold_is_due(answered=0, gold_answered=0, gold_rate=1.5)


def test_pool_serves_fullest_open_item_first_then_oldest():
    items = [
        PoolItem(1, slots_taken=0, target=3),
        PoolItem(2, slots_taken=2, target=3),
        PoolItem(3, slots_taken=2, target=3),
        PoolItem(4, slots_taken=3, target=3),  # complete
        PoolItem(5, slots_taken=1, target=3, is_gold=True),
    ]
    assert pick_from_pool(items, already_assigned=set()).id == 2
    assert pick_from_pool(items, already_assigned={2}).id == 3
    assert pick_from_pool(items, already_assigned={2}, locked={3}).id == 1
    assert pick_from_pool(items, already_assigned={1, 2, 3}) is None


def test_leases():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    expires = lease_expiry(now, 600)
    assert expires == now + timedelta(minutes=10)
    assert lease_is_live(expires, now)
    assert not lease_is_live(expires, expires)
    assert not lease_is_live(None, now)
