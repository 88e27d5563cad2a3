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
WARM_DAYS = 366  # ``warm``: a year back, as the dashboard's longest usual period
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


KEY_SEP, ROW_SEP = "\x1f", "\x1e"  # the ASCII unit and record separators: in no code, id or number
MAX_SIGNATURES = 16  # distinct key sets remembered per store (≈ 200 KB each for 3,600 services)


@dataclass
class Slab:
    version: tuple
    index: np.ndarray  # row positions in the store's key table
    values: np.ndarray  # len(index) × len(counters), int32 when every value fits (else int64)

    @property
    def nbytes(self) -> int:
        """The counters' bytes (the index is mostly shared with the other periods of the same keys)."""
        return self.values.nbytes


class Store:
    """The slabs of one aggregate model: its rows' keys (grown as new ones appear) and the slabs by period."""

    def __init__(self, model, keys: tuple[str, ...], counters: tuple[str, ...]):
        self.model, self.key_names, self.counters = model, keys, counters
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.position: dict = {}  # key tuple -> row position
        self.text_position: dict = {}  # a key as ``_load`` reads it (its values' text) -> row position
        self.signatures: dict = {}  # a period's keys as ``_load`` reads them -> (row positions, duplicates)
        self._key_converters = None
        self._sql: dict = {}
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
        """Read the rows of the periods in ``wanted`` ((grain, period) -> version) into slabs.

        A period's rows come back as two strings, not as rows: its keys joined (``KEY_SEP`` between a key's
        values, ``ROW_SEP`` between rows) and its counters joined by commas, both aggregated by the database in
        the same row order (one pass of SQLite's ``group_concat``; ``string_agg ... ORDER BY id`` on
        PostgreSQL). numpy parses the counters in one call, and a period whose keys are those of a period read
        before (most days: the same departments, districts and services) reuses its row positions, so reading a
        day of 3,600 service rows makes a handful of Python objects instead of some 50,000."""
        for grain in (Grain.MONTH, Grain.DAY):
            periods = [p for g, p in wanted if g == grain]
            for start in range(0, len(periods), 100):
                chunk = periods[start : start + 100]
                params = [KEY_SEP] * (len(self.key_names) - 1) + [ROW_SEP, grain]
                params += [fast.prep(self.model, "period", p) for p in chunk]
                for raw, keys_text, values_text in fast.fetchall(self._load_sql(len(chunk)), params):
                    period = fast.convert(self.model, "period", raw)
                    index, duplicates = self._positions(keys_text)
                    values = np.fromstring(values_text, dtype=np.int64, sep=",").reshape(
                        len(index) if duplicates is None else len(duplicates), len(self.counters)
                    )
                    if duplicates is not None:  # two rows of one key in a period: kept as their sum
                        summed = np.zeros((len(index), len(self.counters)), dtype=np.int64)
                        np.add.at(summed, duplicates, values)
                        values = summed
                    if len(values) and values.max() < 2**31 and values.min() >= 0:
                        values = values.astype(np.int32)  # half the memory; sums are taken in int64
                    self._put((grain, period), Slab(wanted[(grain, period)], index, values))

    def _load_sql(self, periods: int) -> str:
        """The statement of ``_load`` for ``periods`` periods; its parameters: ``KEY_SEP`` once per separator
        between a key's values, ``ROW_SEP``, the grain, the periods."""
        key = (periods, connection.vendor)
        found = self._sql.get(key)
        if found is None:
            quote = connection.ops.quote_name
            # a NULL key value (no department, no district) reads as ''
            key_text = " || %s || ".join(f"COALESCE(CAST({quote(c)} AS TEXT), '')" for c in self.key_names)
            values_text = " || ',' || ".join(f"CAST({quote(c)} AS TEXT)" for c in self.counters)
            if connection.vendor == "postgresql":
                keys_agg = f"string_agg({key_text}, %s ORDER BY id)"
                values_agg = f"string_agg({values_text}, ',' ORDER BY id)"
            else:  # SQLite: both aggregates are fed the group's rows in the same order
                keys_agg = f"group_concat({key_text}, %s)"
                values_agg = f"group_concat({values_text}, ',')"
            found = self._sql[key] = (
                f"SELECT period, {keys_agg}, {values_agg} FROM {self._table()} "  # noqa: S608
                f"WHERE grain = %s AND period IN ({', '.join(['%s'] * periods)}) GROUP BY period"
            )
        return found

    def _positions(self, keys_text: str):
        """The row positions of a period's keys (their text as ``_load`` reads it), and None or, when a key comes
        twice, each row's place among the distinct positions."""
        found = self.signatures.get(keys_text)
        if found is not None:
            return found
        positions = []
        for text in keys_text.split(ROW_SEP):
            position = self.text_position.get(text)
            if position is None:  # a key not seen yet: converted as the ORM would
                parts = text.split(KEY_SEP)
                key = tuple(convert(part) for convert, part in zip(self._converters(), parts, strict=True))
                position = self.text_position[text] = self._of(key)
            positions.append(position)
        index = np.array(positions, dtype=np.int64)
        unique = np.unique(index)
        found = (index, None) if len(unique) == len(index) else (unique, np.searchsorted(unique, index))
        if len(self.signatures) >= MAX_SIGNATURES:
            self.signatures.clear()
        self.signatures[keys_text] = found
        return found

    def _converters(self) -> list:
        if self._key_converters is None:
            converters = []
            for name in self.key_names:
                field = self.model._meta.get_field(name.removesuffix("_id"))
                if field.is_relation:
                    target = field.target_field
                    converters.append(lambda text, t=target: None if text == "" else t.to_python(text))
                else:
                    converters.append(lambda text, f=field: f.to_python(text))
            self._key_converters = converters
        return self._key_converters

    def _put(self, period_key, slab: Slab) -> None:
        old = self.slabs.pop(period_key, None)
        if old is not None:
            self.bytes -= old.nbytes
        self.slabs[period_key] = slab
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
                result[key] = dict(zip(counters, rows.sum(axis=0, dtype=np.int64).tolist(), strict=True))
            return result


stats = Store(Stat, ("department_id", "district_id"), STAT_COUNTERS)
services = Store(ServiceStat, ("service_kind", "service_code", "department_id"), REFORM_COUNTERS)


def warm(days: int | None = None, *, today: dt.date | None = None) -> dict:
    """Read into this process the slabs of the last ``days`` days (default 366) and of
    the months they span (``TONGBAN_INDICATORS_WARM_DAYS``), a month at a time (a request waits at most for one month's read), so that the first
    requests of a web process do not pay for them. Returns what it took: seconds, CPU seconds, periods read, MB kept.
    Bounded by ``MAX_BYTES`` like any read: beyond it the oldest go first."""
    import time

    from django.conf import settings

    from tongban.core import calendar

    from .compute import month_start, next_month

    days = getattr(settings, "TONGBAN_INDICATORS_WARM_DAYS", WARM_DAYS) if days is None else days
    started, cpu_started = time.perf_counter(), time.process_time()
    loaded = 0
    if days > 0:
        last = today or calendar.today()
        first = last - dt.timedelta(days=days - 1)
        month = month_start(first)
        while month <= last:  # oldest first, so that the newest stay when the bound is reached
            after = next_month(month)
            range_first, range_last = max(first, month), min(last, after - dt.timedelta(days=1))
            for store in (stats, services):
                with store.lock:
                    before = len(store.slabs)
                    # the month's own row too: a period may read the month as a whole
                    store.current([month], [(range_first, range_last)])
                    loaded += len(store.slabs) - before
            month = after
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "cpu_seconds": round(time.process_time() - cpu_started, 3),
        "periods": loaded,
        "mb": round(sum(store.bytes for store in (stats, services)) / 2**20, 1),
    }


def clear() -> None:
    """Forget this process's slabs (``compute`` calls it when it writes rows; tests between them)."""
    for store in (stats, services):
        with store.lock:
            store.clear()
