"""Pure rules of the assignment engine (no database): which stream an item comes from,
in which order the open pool is served, and when a lease is live.

The SQL in ``labeling.services.assignments`` implements ``pool_order_key`` with the
``item_open_pool`` index; the tests check both agree.
"""

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PoolItem:
    id: int
    slots_taken: int
    target: int
    is_gold: bool = False


def gold_is_due(*, answered: int, gold_answered: int, gold_rate: float) -> bool:
    """Serve a gold item when the labeler's share of gold would fall below the rate.

    Deterministic, so every labeler sees gold at the same pace: with rate 0.1 the 1st,
    11th, 21st… item is gold (as long as unseen gold items remain).
    """
    if not 0 <= gold_rate <= 1:
        raise ValueError(f"gold_rate must be in [0, 1], got {gold_rate}")
    if gold_rate == 0:
        return False
    return gold_answered < gold_rate * (answered + 1)


def pool_order_key(item: PoolItem) -> tuple[int, int]:
    """Items closest to completion first (so finished items accumulate), then oldest."""
    return (-item.slots_taken, item.id)


def pick_from_pool(
    items: list[PoolItem], *, already_assigned: set[int], locked: AbstractSet[int] = frozenset()
):
    """The item the pool serves next, or None: open, not gold, new to this labeler, not locked."""
    candidates = [
        item
        for item in items
        if not item.is_gold
        and item.slots_taken < item.target
        and item.id not in already_assigned
        and item.id not in locked
    ]
    return min(candidates, key=pool_order_key, default=None)


def lease_expiry(now: datetime, lease_seconds: int) -> datetime:
    return now + timedelta(seconds=lease_seconds)


def lease_is_live(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is not None and expires_at > now
