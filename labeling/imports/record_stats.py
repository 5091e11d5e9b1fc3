"""Input-quality figures of imported records, gathered while the rows stream in."""

import json
import math
from collections.abc import Iterable

from labeling.imports.records import flat_fields


class RecordStats:
    """Input-quality figures of records: missing values, distinct values, numeric ranges.

    Per column (pair columns as ``left.name``): ``missing`` (null or empty), ``distinct`` (exact
    up to 1,000, then ``">1000"``), and ``min`` / ``max`` when every non-missing value is a number.
    Fed row by row (``add``) or a column at a time (``add_column``, for Arrow batches).
    """

    MAX_DISTINCT = 1000

    def __init__(self):
        self.rows = 0
        self.missing: dict[str, int] = {}
        self.distinct: dict[str, set] = {}
        self.numeric: dict[str, bool] = {}
        self.ranges: dict[str, list[float]] = {}

    def add(self, data: dict) -> dict:
        """Count one row; returns its own figures ``{"missing": n, "fields": n}``."""
        self.rows += 1
        missing = fields = 0
        distinct, numeric, cap = self.distinct, self.numeric, self.MAX_DISTINCT
        for key, value in flat_fields(data):
            fields += 1
            if value is None or value == "":
                self.missing[key] = self.missing.get(key, 0) + 1
                missing += 1
                continue
            seen = distinct.get(key)
            if seen is None:
                seen = distinct[key] = set()
            if len(seen) <= cap:
                seen.add(value if type(value) is str else json.dumps(value, sort_keys=True, default=str))
            if numeric.get(key, True):
                self._number(key, value)
        return {"missing": missing, "fields": fields}

    def _number(self, key: str, value) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.numeric[key] = False
            return
        try:
            number = float(value)
        except ValueError:
            self.numeric[key] = False
            return
        if not math.isfinite(number):
            self.numeric[key] = False
            return
        self.numeric[key] = True
        low_high = self.ranges.get(key)
        if low_high is None:
            self.ranges[key] = [number, number]
        elif number < low_high[0]:
            low_high[0] = number
        elif number > low_high[1]:
            low_high[1] = number

    def add_column(
        self, key: str, *, missing: int, distinct: Iterable[str], low_high, has_values: bool
    ) -> None:
        """Figures of one column of a batch; ``low_high`` is (min, max), or None if not numeric."""
        if missing:
            self.missing[key] = self.missing.get(key, 0) + missing
        if not has_values:
            return
        seen = self.distinct.setdefault(key, set())
        if len(seen) <= self.MAX_DISTINCT:
            for value in distinct:
                seen.add(value)
                if len(seen) > self.MAX_DISTINCT:
                    break
        if low_high is None:
            self.numeric[key] = False
        elif self.numeric.get(key, True):
            self.numeric[key] = True
            current = self.ranges.get(key)
            self.ranges[key] = (
                list(low_high)
                if current is None
                else [min(current[0], low_high[0]), max(current[1], low_high[1])]
            )

    def summary(self) -> dict:
        columns = sorted(set(self.distinct) | set(self.missing))
        out = {}
        for c in columns:
            n_distinct = len(self.distinct.get(c, ()))
            entry: dict[str, int | str | float] = {
                "missing": self.missing.get(c, 0),
                "distinct": n_distinct if n_distinct <= self.MAX_DISTINCT else f">{self.MAX_DISTINCT}",
            }
            if self.numeric.get(c) and c in self.ranges:
                entry["min"], entry["max"] = self.ranges[c]
            out[c] = entry
        return {"rows": self.rows, "columns": out}
