"""The access matrix's allowed writes that remove what other cells need (a draft, a stage,
a contact's link...) or end a session: each case in a fresh world, each allowed actor
once, on a record of its own (the rep its own, the manager a team-mate's, the others
another team's), so that no write takes away the next one's record. Their refused cells
are in test_matrix.py."""

from __future__ import annotations

import pytest

from .matrix import actors, cells, check, known_cases
from .world import build_world

CASES = [case for case in known_cases() if case.writes and case.expect.destroys]
PREFERRED = {"sales_rep": "own", "sales_manager": "team"}  # others: "other" first


def one_cell_per_actor(case):
    """The allowed (actor, label) pairs, one per actor, no label used twice."""
    allowed = {}
    for actor, label in cells(case, allowed=True):
        allowed.setdefault(actor, []).append(label)
    chosen, used = [], set()
    for actor in sorted(allowed, key=lambda a: len(allowed[a])):  # the choosiest first
        first = PREFERRED.get(actor, "other")
        labels = sorted(allowed[actor], key=lambda label: label != first)
        label = next((label for label in labels if label is None or label not in used), None)
        if label is not None or None in labels:
            chosen.append((actor, label))
            used.add(label)
    return chosen


def test_every_allowed_actor_gets_a_cell_of_its_own():
    for case in CASES:
        actors_allowed = {actor for actor, _label in cells(case, allowed=True)}
        assert {actor for actor, _label in one_cell_per_actor(case)} == actors_allowed, case


@pytest.mark.parametrize("case", CASES, ids=str)
def test_allowed_destructive_write(app, tmp_path, monkeypatch, case):
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path / "imports"))
    world = build_world(app)
    failures = check(app, case, one_cell_per_actor(case), actors(app, world), world)
    assert not failures, "\n".join(failures)
