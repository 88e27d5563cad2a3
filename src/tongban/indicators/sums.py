"""The aggregate rows of a period, summed in memory from per-period slabs kept in the process.

The dashboard sums the same aggregate rows over and over: a year asked for is twelve month rows and the days of a
partial month at each end, 576 department × district rows each (every municipal department in every district,
the district branches) of 43 counters, and the reform measures page the same periods of 3,600 service rows. SQLite
spent most of a request's time reading and grouping those rows (≈ 20,000 of them for an arbitrary past year on the
dashboard, ≈ 150,000 on the reform page). Here each period's rows (one day, or one month's rollup) are read once
into a *slab* — the rows' keys and a matrix of their counters (numpy) — and kept; a request adds up the slabs it
needs, masked by its filters.

A slab is valid while its period's rows are the same: one query over the ``(grain, period)`` index asks, for every
period of the request, its lowest and highest id (two seeks in the index). The worker rewrites a period by deleting and
inserting its rows (``compute``: never an UPDATE in place), and ids are never reused (``AUTOINCREMENT`` on SQLite,
a sequence on PostgreSQL), so a rewritten period has a new highest id and its slab is read again; every other
period stays cached. ``compute`` also empties this process's slabs when it writes (a rolled-back rewrite may give
ids back on SQLite). Memory is bounded: the least recently used slabs go beyond ``MAX_BYTES`` per store.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.db import connection

from tongban.core.db import fast

from .models import STAT_COUNTERS, Grain, ServiceStat, Stat

MAX_BYTES = (
    64 * 1024 * 1024
)  # per store and process: a day of Shanghai's 576 rows is ≈ 200 KB, 3,600 services ≈ 320 KB
# What the reform measures use (formulas.reform), and the volume: the service rows are kept with only these.
REFORM_COUNTERS = (
    "cases_submitted",
    "cases_completed",
    "completed_on_time",
    "completed_no_visit",
    "legal_days_sum",
    "promised_days_sum",
    "working_days_sum",
    "visits_sum",
    "materials_sum",
    "materials_data_sum",
    "steps_sum",
)


@dataclass
class Slab:
    version: tuple
    index: np.ndarray  # row positions in the store's key table
    values: np.ndarray  # len(index) × len(counters), int64

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.index.nbytes


class Store:
    """The slabs of one aggregate model: its rows' keys (grown as new ones appear) and the slabs by period."""

    def __init__(self, model, keys: tuple[str, ...], counters: tuple[str, ...]):
        self.model, self.key_names, self.counters = model, keys, counters
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.position: dict = {}  # key tuple -> row position
        self.raw_position: dict = {}  # the key as the database returns it -> row position
        self.keys: list = []
        self.codes: dict = {None: -1}  # a key value -> a small integer, for the masks
        self._arrays = None
        self.slabs: OrderedDict = OrderedDict()  # (grain, period) -> Slab
        self.bytes = 0

    # --- keys ---

    def _of(self, key) -> int:
        found = self.position.get(key)
        if found is None:
            found = self.position[key] = len(self.keys)
            self.keys.append(key)
            for value in key:
                self.codes.setdefault(value, len(self.codes))
            self._arrays = None
        return found

    def _mask(self, filters: dict) -> np.ndarray:
        """Rows whose key passes ``filters``: {key name: a collection of allowed values, or None for any}."""
        if self._arrays is None:
            self._arrays = np.array(
                [[self.codes[v] for v in key] for key in self.keys] or np.empty((0, len(self.key_names))),
                dtype=np.int64,
            ).reshape(len(self.keys), len(self.key_names))
        keep = np.ones(len(self.keys), dtype=bool)
        for name, allowed in filters.items():
            if allowed is None:
                continue
            wanted = np.array([self.codes[v] for v in allowed if v in self.codes], dtype=np.int64)
            keep &= np.isin(self._arrays[:, self.key_names.index(name)], wanted)
        return keep

    # --- slabs ---

    def _table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    def _versions(self, months: list, days: list) -> dict:
        """(grain, period) -> (lowest id, highest id), for the periods asked that have rows.

        Each is two seeks in the ``(grain, period)`` index (the id is the index entries' last column on SQLite),
        so asking costs the same for 576 rows a period as for 3,600."""
        periods = [(Grain.MONTH, m) for m in months]
        for first, last in days:
            periods += [(Grain.DAY, first + dt.timedelta(days=i)) for i in range((last - first).days + 1)]
        if not periods:
            return {}
        table = self._table()
        one = (
            f"SELECT %s, (SELECT MIN(id) FROM {table} WHERE grain = %s AND period = %s), "  # noqa: S608
            f"(SELECT MAX(id) FROM {table} WHERE grain = %s AND period = %s)"
        )
        found = {}
        for start in range(0, len(periods), 200):
            chunk = periods[start : start + 200]
            params = []
            for n, (grain, period) in enumerate(chunk):
                value = fast.prep(self.model, "period", period)
                params += [start + n, grain, value, grain, value]
            for n, low, high in fast.fetchall(" UNION ALL ".join([one] * len(chunk)), params):
                if low is not None:
                    found[periods[n]] = (low, high)
        return found

    def _load(self, wanted: dict) -> None:
        """Read the rows of the periods in ``wanted`` ((grain, period) -> version) into slabs."""
        quote = connection.ops.quote_name
        key_count = len(self.key_names)
        cols = ", ".join(quote(c) for c in (*self.key_names, *self.counters))
        converters = [
            (i, name)
            for i, name in enumerate(self.key_names)
            if self.model._meta.get_field(name.removesuffix("_id")).get_internal_type()
            in ("ForeignKey", "UUIDField")
        ]
        for grain in (Grain.MONTH, Grain.DAY):
            periods = [p for g, p in wanted if g == grain]
            for start in range(0, len(periods), 100):
                chunk = periods[start : start + 100]
                rows = fast.fetchall(
                    f"SELECT period, {cols} FROM {self._table()} "  # noqa: S608
                    f"WHERE grain = %s AND period IN ({', '.join(['%s'] * len(chunk))})",
                    [grain, *[fast.prep(self.model, "period", p) for p in chunk]],
                )
                by_period: dict = {}
                for row in rows:
                    by_period.setdefault(row[0], []).append(row)
                for raw, found in by_period.items():
                    period = fast.convert(self.model, "period", raw)
                    positions = []
                    for row in found:
                        raw = row[1 : 1 + key_count]
                        position = self.raw_position.get(raw)
                        if position is None:  # a key not seen yet: converted as the ORM would
                            key = list(raw)
                            for i, name in converters:
                                key[i] = fast.convert(self.model, name, key[i])
                            position = self.raw_position[raw] = self._of(tuple(key))
                        positions.append(position)
                    index = np.array(positions, dtype=np.int64)
                    values = np.array([row[1 + key_count :] for row in found], dtype=np.int64).reshape(
                        len(found), len(self.counters)
                    )
                    unique = np.unique(index)
                    if len(unique) < len(index):  # two rows of one key in a period: kept as their sum
                        summed = np.zeros((len(unique), len(self.counters)), dtype=np.int64)
                        np.add.at(summed, np.searchsorted(unique, index), values)
                        index, values = unique, summed
                    slab = Slab(wanted[(grain, period)], index, values)
                    old = self.slabs.pop((grain, period), None)
                    if old is not None:
                        self.bytes -= old.nbytes
                    self.slabs[(grain, period)] = slab
                    self.bytes += slab.nbytes

    def current(self, months: list, days: list) -> list[tuple[tuple, Slab]]:
        """The slabs of the whole ``months`` and of the days of the ``days`` ranges, current with the database
        (periods without rows are left out). Call with ``lock`` held."""
        versions = self._versions(months, days)
        stale = {
            key: v for key, v in versions.items() if (s := self.slabs.get(key)) is None or s.version != v
        }
        if stale:
            self._load(stale)
        result = []
        for key in versions:
            self.slabs.move_to_end(key)
            result.append((key, self.slabs[key]))
        while self.bytes > MAX_BYTES and len(self.slabs) > len(result):  # the least recently used go first
            _key, old = self.slabs.popitem(last=False)
            self.bytes -= old.nbytes
        return result

    # --- sums ---

    def grouped(self, months: list, days: list, filters: dict, by: tuple[str, ...]) -> list[tuple]:
        """The rows of the period that pass ``filters``, summed per the key names ``by``:
        ``[(key values..., {counter: value}), ...]`` for the groups with a row in the period."""
        with self.lock:
            found = self.current(months, days)
            size = len(self.keys)
            total = np.zeros((size, len(self.counters)), dtype=np.int64)
            present = np.zeros(size, dtype=bool)
            for _key, slab in found:
                total[slab.index] += slab.values  # a slab's positions are distinct (``_load``)
                present[slab.index] = True
            picked = np.flatnonzero(present & self._mask(filters)).tolist()
            columns = [self.key_names.index(name) for name in by]
            if columns == list(range(len(self.key_names))):  # by the whole key: each row is a group
                values = total[picked].tolist()
                return [
                    (*self.keys[i], dict(zip(self.counters, row, strict=True)))
                    for i, row in zip(picked, values, strict=True)
                ]
            group_of: dict = {}
            gid = np.fromiter(
                (group_of.setdefault(tuple(self.keys[i][c] for c in columns), len(group_of)) for i in picked),
                dtype=np.int64,
                count=len(picked),
            )
            out = np.zeros((len(group_of), len(self.counters)), dtype=np.int64)
            np.add.at(out, gid, total[picked])
            return [
                (*key, dict(zip(self.counters, row, strict=True)))
                for key, row in zip(group_of, out.tolist(), strict=True)
            ]

    def per_period(self, months: list, days: list, counters, filters: dict) -> dict:
        """``counters`` summed over the filtered rows of each period: {(grain, period): {counter: value}}."""
        columns = [self.counters.index(name) for name in counters]
        with self.lock:
            found = self.current(months, days)
            keep = self._mask(filters)
            result = {}
            for key, slab in found:
                rows = slab.values[keep[slab.index]][:, columns]
                result[key] = dict(zip(counters, rows.sum(axis=0).tolist(), strict=True))
            return result


stats = Store(Stat, ("department_id", "district_id"), STAT_COUNTERS)
services = Store(ServiceStat, ("service_kind", "service_code", "department_id"), REFORM_COUNTERS)


def clear() -> None:
    """Forget this process's slabs (``compute`` calls it when it writes rows; tests between them)."""
    for store in (stats, services):
        with store.lock:
            store.clear()
