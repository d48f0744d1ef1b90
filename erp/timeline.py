"""The account timeline: events from every module's source, merged newest first.

Order: ``at`` descending, then the source's key descending, then the event's id
descending — a total order, so keyset paging never skips or repeats an event,
however many share a timestamp. A :class:`Cursor` is the position of the last event
of a page; each source returns at most ``limit`` events strictly after it in that
order (one indexed query: see :func:`after_cursor`), the host merges them
(``heapq.merge``) and keeps ``limit``. Page 500 costs what page 1 costs.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache, wraps
from itertools import islice
from typing import Any

from sqlalchemy import and_, false, or_, true

from .registry import TimelineEvent, TimelineSource

log = logging.getLogger(__name__)

MAX_LIMIT = 200


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in the timeline is aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, order=True)
class Cursor:
    at: datetime
    source: str
    id: int

    def encode(self) -> str:
        return f"{as_utc(self.at).isoformat()}~{self.source}~{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor in ``text``, or None when absent; ValueError when malformed."""
        if not text:
            return None
        at, source, ident = text.split("~")
        return cls(as_utc(datetime.fromisoformat(at)), source, int(ident))


def after_cursor(at_column: Any, id_column: Any, source_key: str, cursor: Cursor | None):
    """The WHERE clause a source adds to its query: its events after ``cursor``.

    With an index on (account, at, id) this is a range scan from the cursor on.
    """
    if cursor is None:
        return true()
    if source_key < cursor.source:  # this source's events at that instant all come later
        same_instant = true()
    elif source_key == cursor.source:
        same_instant = id_column < cursor.id
    else:
        same_instant = false()
    # "at <= cursor" first: a plain range the index can seek to, however deep the page.
    return and_(at_column <= cursor.at,
                or_(at_column < cursor.at, and_(at_column == cursor.at, same_instant)))


def first_page_built_once(build: Callable[[tuple[str, ...], Cursor | None], Any]):
    """For a source's statement builder ``build(kinds, cursor)`` whose statement binds the
    account and the page size (``bindparam("account_id")``, ``.limit(bindparam("limit"))``):
    the first page's statement (no cursor) built once per set of kinds, a later page's
    built as asked. Every view of an account runs each source's first page, and building
    a statement and its cache key anew cost more Python than the indexed query (issue
    15's throughput); the rows are read again each time. ``.first(kinds)``: that one."""
    first = lru_cache(maxsize=64)(lambda kinds: build(kinds, None))

    @wraps(build)
    def statement(kinds: Iterable[str], cursor: Cursor | None):
        kinds = tuple(kinds)
        return first(kinds) if cursor is None else build(kinds, cursor)

    statement.first = first
    return statement


@dataclass
class TimelinePage:
    events: list[TimelineEvent]
    next_cursor: Cursor | None
    failed: list[Any] = field(default_factory=list)  # labels of the sources that failed


def _shown(event: TimelineEvent, source: str, failed: list) -> TimelineEvent | None:
    """The event as shown: its source's key and UTC time set, its text filled in by its
    ``describe`` (None, and the source reported, if that raises)."""
    event = replace(event, source=source, at=as_utc(event.at))
    if event.describe is None:
        return event
    try:
        return replace(event.describe(event), source=source, at=event.at, describe=None)
    except Exception:
        log.exception("timeline source %s failed to describe event %s", source, event.id)
        if source not in failed:
            failed.append(source)
        return None


def fetch_page(sources: Iterable[TimelineSource], account_id: int, *,
               cursor: Cursor | None = None, limit: int = 25,
               kinds: Iterable[str] | None = None) -> TimelinePage:
    """One page of the merged timeline. A source that raises is logged and reported.

    The sources' events are merged on (at, source, id) alone; only the ``limit`` kept
    are copied with their source and described (a whale's sources return ``limit`` each,
    most of which never show: issue 15)."""
    limit = max(1, min(limit, MAX_LIMIT))
    wanted = set(kinds) if kinds else None
    streams, failed = [], []
    for source in sources:
        source_kinds = set(source.kinds)
        chosen = source_kinds & wanted if wanted is not None else source_kinds
        if not chosen:
            continue
        try:
            events = source.fetch(account_id, cursor, limit, sorted(chosen))
        except Exception:
            log.exception("timeline source %s failed for account %s", source.key, account_id)
            failed.append(source.key)
            continue
        streams.append([(as_utc(e.at), source.key, e.id, e) for e in events])
    merged = heapq.merge(*streams, key=lambda item: item[:3], reverse=True)
    kept = list(islice(merged, limit + 1))
    more = len(kept) > limit or bool(kept and any(len(s) == limit for s in streams))
    kept = kept[:limit]
    next_cursor = Cursor(*kept[-1][:3]) if more else None
    page = [shown for _at, key, _id, event in kept
            if (shown := _shown(event, key, failed)) is not None]
    return TimelinePage(page, next_cursor, failed)
