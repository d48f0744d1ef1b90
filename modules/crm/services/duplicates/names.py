"""Similar names when an account is saved: the name keys compared by trigram similarity
(pg_trgm's measure) at or above ``CRM_SIMILAR_NAME_THRESHOLD``; the candidates come from
the search's trigram index, at most ``NAME_CANDIDATES``."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Any

from flask import current_app
from sqlalchemy import (
    and_,
    literal_column,
    or_,
    select,
    text,
)

from erp.auth import in_scope
from erp.db import db
from erp.errors import Duplicate
from erp.validation import LIKE_ESCAPE, like

from ...models import Account
from ...models.duplicates import name_key, similarity

DEFAULT_THRESHOLD = 0.6
NAME_CANDIDATES = 200
SHOWN = 5  # similar records named in a warning


def threshold() -> float:
    return float(current_app.config.get("CRM_SIMILAR_NAME_THRESHOLD", DEFAULT_THRESHOLD))



def _word_groups(keys: list[str]) -> list[list[str]]:
    """The words the candidates must all hold, per alternative (see the docstring)."""
    groups: list[list[str]] = []
    for key in keys:
        words = sorted({w for w in key.split() if len(w) >= 3}, key=lambda w: (-len(w), w))[:3]
        if len(words) == 3:
            alternatives = [list(pair) for pair in combinations(words, 2)]
        else:
            alternatives = [words] if words else []
        groups.extend(g for g in alternatives if g not in groups)
    return groups


def _halves(word: str) -> list[str]:
    """What of a word a candidate must hold: a long word's first or last half (each of
    three characters or more), so that one misspelt letter still finds it."""
    if len(word) < 6:
        return [word]
    middle = len(word) // 2
    return [word[:middle + 1], word[middle:]]


def name_candidates(keys: list[str], exclude_id: int | None = None):
    """A SELECT of the ids of the accounts the trigram index finds for the name keys."""
    groups = _word_groups(keys)
    if not groups:
        return None
    if db.engine.dialect.name == "sqlite":
        def word(w: str) -> str:
            return "(" + " OR ".join(f'"{half}"' for half in _halves(w)) + ")"

        match = " OR ".join("(" + " AND ".join(word(w) for w in group) + ")"
                            for group in groups)
        statement = (select(literal_column("rowid").label("id"))
                     .select_from(text("crm_account_fts"))
                     .where(text("crm_account_fts MATCH :match").bindparams(match=match))
                     .order_by(literal_column("rowid").desc()))
    else:
        column = Account.search_text
        statement = select(Account.id).where(or_(*(
            and_(*(or_(*(column.like(like(half), escape=LIKE_ESCAPE) for half in _halves(w)))
                   for w in group))
            for group in groups))).order_by(Account.id.desc())
    return statement.limit(NAME_CANDIDATES)


def _numbers(key: str) -> list[str]:
    """The numbers in a name key: names that differ by them are told apart ("Loja 2",
    "Loja 3"; "Cliente 3-12", "Cliente 3-13"), however similar the words."""
    return [word for word in key.split() if word.isdigit()]


def similar_names(values: Mapping[str, Any], exclude_id: int | None = None
                  ) -> list[tuple[Account, float]]:
    """Accounts whose legal or trade name is similar to ``values``' (best first)."""
    keys = [k for k in {name_key(values.get("legal_name")), name_key(values.get("trade_name"))}
            if k]
    candidates = name_candidates(keys, exclude_id)
    if candidates is None:
        return []
    ids = candidates.subquery()
    statement = select(Account).join(ids, Account.id == ids.c.id)
    if exclude_id is not None:
        statement = statement.where(Account.id != exclude_id)
    limit, found = threshold(), []
    for account in db.session.scalars(statement):
        theirs = [k for k in (account.name_key, name_key(account.trade_name)) if k]
        score = max((similarity(mine, other) for mine in keys for other in theirs
                     if _numbers(mine) == _numbers(other)), default=0)
        if score >= limit:
            found.append((account, score))
    found.sort(key=lambda pair: (-pair[1], -pair[0].id))
    return found[:SHOWN]


def name_duplicates(values: Mapping[str, Any], exclude_id: int | None, user,
                    known: set[int]) -> list[Duplicate]:
    return [Duplicate(account, "name", False, user is None or in_scope(account.owner_id, user))
            for account, _score in similar_names(values, exclude_id) if account.id not in known]
