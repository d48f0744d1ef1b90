"""The host's timeline merge: keyset paging over several sources, ties, failures, kinds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from erp.registry import TimelineEvent, TimelineSource
from erp.timeline import Cursor, fetch_page

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def memory_source(key: str, events: list[tuple[datetime, int, str]], calls: list | None = None):
    """A source over a list, honouring the cursor contract as a SQL source would."""

    def fetch(account_id, cursor, limit, kinds):
        if calls is not None:
            calls.append((key, cursor, limit, tuple(kinds)))
        rows = sorted(((at, key, ident, kind) for at, ident, kind in events if kind in kinds),
                      reverse=True)
        if cursor is not None:
            rows = [r for r in rows if (r[0], r[1], r[2]) < (cursor.at, cursor.source, cursor.id)]
        return [TimelineEvent(at=at, kind=kind, title=f"{key}#{ident}", url=None, icon="dot",
                              id=ident) for at, _k, ident, kind in rows[:limit]]

    kinds = {kind for _at, _id, kind in events} or {f"{key}.x"}
    return TimelineSource(key, {k: k for k in kinds}, fetch)


def walk(sources, limit, kinds=None):
    seen, cursor, pages = [], None, 0
    while True:
        page = fetch_page(sources, 1, cursor=cursor, limit=limit, kinds=kinds)
        pages += 1
        seen.extend(page.events)
        if page.next_cursor is None:
            return seen, pages
        # The cursor survives a trip through a URL.
        cursor = Cursor.decode(page.next_cursor.encode())


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_walking_the_timeline_returns_every_event_once_in_order_with_ties(limit):
    same = T0  # many events at one instant, in both sources
    a = [(same, i, "a.x") for i in range(1, 6)] + [(T0 - timedelta(minutes=i), 100 + i, "a.x")
                                                   for i in range(5)]
    b = [(same, i, "b.x") for i in range(1, 4)] + [(T0 + timedelta(minutes=1), 9, "b.x")]
    sources = [memory_source("a", a), memory_source("b", b)]
    events, pages = walk(sources, limit)
    keys = [(e.at, e.source, e.id) for e in events]
    assert len(keys) == len(set(keys)) == len(a) + len(b)
    assert keys == sorted(keys, reverse=True)
    assert events[0].title == "b#9"
    full_pages = -(-len(keys) // limit)
    # A last page that happens to be full may be followed by one empty page, never more.
    assert full_pages <= pages <= full_pages + 1


def test_each_source_is_asked_for_at_most_limit_events_per_page():
    calls = []
    sources = [memory_source("a", [(T0 - timedelta(seconds=i), i, "a.x") for i in range(100)],
                             calls)]
    fetch_page(sources, 1, limit=10)
    assert calls == [("a", None, 10, ("a.x",))]


def test_kind_filter_skips_sources_without_those_kinds():
    calls = []
    sources = [memory_source("a", [(T0, 1, "a.x"), (T0, 2, "a.y")], calls),
               memory_source("b", [(T0, 1, "b.x")], calls)]
    page = fetch_page(sources, 1, kinds=["a.y"])
    assert [e.title for e in page.events] == ["a#2"]
    assert [c[0] for c in calls] == ["a"]  # b was not even asked


def test_a_failing_source_is_reported_and_the_rest_still_shows(caplog):
    def broken(*args):
        raise RuntimeError("database on fire")

    sources = [TimelineSource("broken", {"x.y": "Y"}, broken),
               memory_source("ok", [(T0, 1, "ok.x")])]
    page = fetch_page(sources, 1)
    assert page.failed == ["broken"]
    assert [e.title for e in page.events] == ["ok#1"]
    assert "timeline source broken failed" in caplog.text


@pytest.mark.parametrize("text", ["nonsense", "2026-11-01T12:00:00~a", "x~a~1", "~~"])
def test_malformed_cursor_is_refused(text):
    with pytest.raises(ValueError):
        Cursor.decode(text)


def test_naive_times_are_read_as_utc():
    naive = memory_source("a", [(T0.replace(tzinfo=None), 1, "a.x")])
    aware = memory_source("b", [(T0 - timedelta(seconds=1), 1, "b.x")])
    page = fetch_page([naive, aware], 1)
    assert [e.source for e in page.events] == ["a", "b"]
    assert page.events[0].at.tzinfo is not None


def describing_source(key: str, count: int, described: list, newest: datetime = T0):
    """``count`` events whose text is filled in by ``describe``, which records each call."""

    def describe(event):
        described.append((key, event.id))
        return dataclasses.replace(event, title=f"{key}#{event.id}", url=f"/{key}/{event.id}")

    def fetch(account_id, cursor, limit, kinds):
        rows = [(newest - timedelta(seconds=i), i) for i in range(1, count + 1)]
        if cursor is not None:
            rows = [r for r in rows if (r[0], key, r[1]) < (cursor.at, cursor.source, cursor.id)]
        return [TimelineEvent(at=at, kind=f"{key}.x", title="", url=None, icon="dot", id=ident,
                              describe=describe) for at, ident in rows[:limit]]

    return TimelineSource(key, {f"{key}.x": key}, fetch)


def test_only_the_events_shown_are_described():
    """A whale's sources each return a page of events, most of which never show: their
    text (translations, money, dates, links) is made for the page's events only
    (issue 15: the account page did not grow with each source's history)."""
    described = []
    sources = [describing_source("a", 100, described),
               describing_source("b", 100, described, newest=T0 - timedelta(hours=1)),
               describing_source("c", 100, described, newest=T0 - timedelta(hours=2))]
    page = fetch_page(sources, 1, limit=10)
    assert [(e.source, e.id) for e in page.events] == [("a", i) for i in range(1, 11)]
    assert described == [("a", i) for i in range(1, 11)]
    assert page.events[0].title == "a#1" and page.events[0].url == "/a/1"
    assert all(e.describe is None for e in page.events)
    described.clear()
    older = fetch_page(sources, 1, cursor=page.next_cursor, limit=10)
    assert described == [("a", i) for i in range(11, 21)] == [(e.source, e.id)
                                                              for e in older.events]


def test_an_event_that_cannot_be_described_is_left_out_and_its_source_reported(caplog):
    def broken(event):
        raise RuntimeError("no text")

    sources = [TimelineSource("bad", {"bad.x": "X"}, lambda *args: [TimelineEvent(
        at=T0, kind="bad.x", title="", url=None, icon="dot", id=1, describe=broken)]),
               memory_source("ok", [(T0 - timedelta(seconds=1), 1, "ok.x")])]
    page = fetch_page(sources, 1)
    assert [e.title for e in page.events] == ["ok#1"]
    assert page.failed == ["bad"]
    assert "failed to describe" in caplog.text
