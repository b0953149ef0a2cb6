"""The one place the web app calls the rules engine.

`evaluate_record(data)` parses a visit-record dict with the engine's own parser
(`handrail.rules.visit_record.visit_record_from_dict`) and evaluates it against the
RuleSet of `handrail.officialdata.load_ruleset`, kept per process and loaded again when the
official-data store changes (a `handrail data import` while the server runs is used by the
next evaluation, no restart).
Engine input errors come back as `django.core.exceptions.ValidationError` keyed by the
engine's field path (e.g. "lines[1].assistant_minutes"); an unreadable official-data store
raises `EngineUnavailableError` (the API answers 503).

Past one machine (REDIS_URL): a node that loads a new release, and the web import, write
the release's version to a Redis key (`handrail:ruleset:version`) that every node reads (at
most once a second). A node that sees a version it has not checked compares the store's
release rows at once, even when the store's files look unchanged to it (a store on a shared
volume whose file attributes the node caches, as NFS clients do). Without REDIS_URL each
process follows its store's files alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from redis import RedisError

from handrail.officialdata import OfficialDataError, load_ruleset
from handrail.officialdata.store import connect_for_read, db_path
from handrail.rules.model import RuleInputError
from handrail.rules.ruleset import RuleSet
from handrail.rules.visit import evaluate_visit
from handrail.rules.visit_record import visit_record_from_dict
from handrail.web.shared_redis import KEY_PREFIX, redis_client

logger = logging.getLogger(__name__)


class EngineUnavailableError(RuntimeError):
    """The official data the engine reads could not be loaded."""


# (inode, mtime in ns, size) of a file, or None when it does not exist.
FileStamp = tuple[int, int, int] | None
StoreStamp = tuple[str, FileStamp, FileStamp]
# The store's release table, every column of every row: what the RuleSet was built from.
ReleaseRows = list[tuple[Any, ...]] | None

# Files written within this long before a check may be written again with the same mtime
# (coarse clocks, 1-second timestamps on ext3/HFS+ and some network file systems), so their
# stamp alone does not prove "unchanged" until it is older than this ("racy git" problem).
RACY_NS = 2_000_000_000


def _file_stamp(path: Path) -> FileStamp:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def store_stamp() -> StoreStamp:
    """The official-data store's files as they are now: path, then (inode, mtime_ns, size) of
    the store and of its -wal file. Two os.stat calls, a few microseconds."""
    path = db_path()
    return (str(path), _file_stamp(path), _file_stamp(path.with_name(path.name + "-wal")))


def _newest_mtime(stamp: StoreStamp) -> int:
    return max((file[1] for file in stamp[1:] if file is not None), default=0)


def _release_rows() -> ReleaseRows:
    """Every row of the store's release table, or None when nothing was ever imported."""
    try:
        conn = connect_for_read()
        if conn is None:
            return None
        try:
            return list(conn.execute("SELECT * FROM release ORDER BY id"))
        finally:
            conn.close()
    except (OfficialDataError, sqlite3.Error) as exc:
        raise EngineUnavailableError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class _Loaded:
    stamp: StoreStamp  # taken before `releases` was read
    releases: ReleaseRows
    checked_ns: int  # wall clock just before `releases` was read
    rules: RuleSet
    signal: str | None = None  # the reload signal's version when `releases` was read


_lock = threading.Lock()
_loaded: _Loaded | None = None

# --- The reload signal (REDIS_URL) ----------------------------------------------------------
SIGNAL_KEY = f"{KEY_PREFIX}ruleset:version"
SIGNAL_READ_NS = 1_000_000_000  # each process reads the key at most once a second
_signal_read: tuple[int, str | None] | None = None  # (monotonic ns, value)


def release_version(releases: ReleaseRows) -> str:
    """The version of a store's releases: SHA-256 of every column of every release row."""
    return hashlib.sha256(repr(releases).encode()).hexdigest()


def ruleset_signal() -> str | None:
    """The release version last announced by any node, or None (no REDIS_URL, none yet, or
    Redis unreachable: then each node follows its store's files alone)."""
    global _signal_read
    client = redis_client()
    if client is None:
        return None
    now = time.monotonic_ns()
    read = _signal_read
    if read is not None and now - read[0] < SIGNAL_READ_NS:
        return read[1]
    try:
        raw = client.get(SIGNAL_KEY)
    except RedisError as exc:
        logger.warning("rule-set reload signal: Redis unreachable (%s)", exc)
        raw = None
    value = raw.decode() if isinstance(raw, bytes) else None
    _signal_read = (now, value)
    return value


def ruleset_signal_announce(releases: ReleaseRows | None = None) -> str | None:
    """Tell every node the store's releases changed (after an import; `releases`: the rows
    already read). The version written, or None without REDIS_URL or when Redis is down."""
    global _signal_read
    client = redis_client()
    if client is None:
        return None
    version = release_version(_release_rows() if releases is None else releases)
    try:
        client.set(SIGNAL_KEY, version)
    except RedisError as exc:
        logger.warning("rule-set reload signal not sent: Redis unreachable (%s)", exc)
        return None
    _signal_read = (time.monotonic_ns(), version)
    return version


def ruleset() -> RuleSet:
    """The official tables (fee schedule, edits, ICD-10-CM): the built-in ones layered with
    the store's imports, loaded again when an import changed the store.

    How a change is noticed, cheaply and without missing one:
    - Each evaluation stats the store and its -wal file (the store is SQLite in WAL mode: an
      import grows or rewrites the -wal file, a checkpoint later rewrites the main file, a
      store moved away and imported anew has a new inode, and HANDRAIL_DATA_DIR is read each
      time). Same stamp, written long enough ago (RACY_NS): the cached RuleSet is used.
    - Otherwise the release table is read (one small query on a fresh read-only connection)
      and compared with the rows the cached RuleSet was built from; the RuleSet is loaded
      again only when they differ, so a checkpoint alone costs one query, not a reload.
    Not `SELECT max(id) FROM release` alone: importing a release label again deletes and
    re-inserts it, and SQLite gives the new row the same id when it was the newest (INTEGER
    PRIMARY KEY without AUTOINCREMENT), so max(id) would miss it; the whole rows (label,
    dates, SHA-256, import time) do not. Not `PRAGMA data_version`: it compares only on one
    connection, and the RuleSet's connection is private to handrail.officialdata.
    Requests already evaluating with the previous RuleSet finish with it; its read-only
    connection closes when they let go of it.
    """
    global _loaded
    stamp = store_stamp()
    signal = ruleset_signal()
    loaded = _loaded
    if (
        loaded is not None
        and loaded.stamp == stamp
        and _newest_mtime(stamp) + RACY_NS < loaded.checked_ns
        and loaded.signal == signal  # no node announced a release since
    ):
        return loaded.rules
    with _lock:  # one thread checks and loads; the others wait for its answer
        stamp = store_stamp()
        checked_ns = time.time_ns()
        releases = _release_rows()
        previous = _loaded
        if (
            previous is not None
            and previous.stamp[0] == stamp[0]  # the same store path
            and previous.releases == releases
        ):
            _loaded = _Loaded(stamp, releases, checked_ns, previous.rules, signal)
            return previous.rules
        try:
            rules = load_ruleset()
        except OfficialDataError as exc:
            raise EngineUnavailableError(str(exc)) from exc
        # An import committed after `releases` was read changes the stamp (or leaves it racy),
        # so the next evaluation compares the rows again and loads again.
        if previous is not None and signal != release_version(releases):
            # This node noticed a change first: tell the others (a process's first load is
            # no news, and a version already announced needs no second word).
            signal = ruleset_signal_announce(releases) or signal
        _loaded = _Loaded(stamp, releases, checked_ns, rules, signal)
        return rules


def evaluate_record(data: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one visit-record dict; returns `VisitResult.to_dict()`."""
    try:
        record = visit_record_from_dict(data)
        result = evaluate_visit(record, ruleset())
    except RuleInputError as exc:
        raise ValidationError({exc.field: exc.message}) from None
    except OfficialDataError as exc:
        raise EngineUnavailableError(str(exc)) from exc
    return result.to_dict()
