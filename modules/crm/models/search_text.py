"""The text the atomic search looks in, and how a query is turned into search terms.

An account's (or contact's) names, tax id, phones and e-mails are folded into one
lower-case, accent-free ``search_text`` column, kept up to date on every save.
A trigram index over that column (SQLite FTS5 ``trigram`` tokenizer, PostgreSQL
``pg_trgm``) finds any fragment of three or more characters without a full scan.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MIN_FRAGMENT = 3  # trigram indexes cannot answer for shorter fragments

_NOT_ALNUM = re.compile(r"[^0-9a-z]")


class _Unaccented(dict):
    """Code point -> its compatibility decomposition (NFKD) less the combining marks: what
    the whole text's NFKD less its combining marks is, character by character (NFKD
    decomposes each character on its own and only reorders the marks, all dropped). Each
    character is worked out the first time it is seen; an import folds 100,000 names."""

    LIMIT = 20_000  # distinct characters kept (a text of anything is still folded)

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        if len(self) < self.LIMIT:
            self[code] = plain
        return plain


_UNACCENTED = _Unaccented()


def fold(text: str | None) -> str:
    """Lower case, without accents, spaces collapsed: 'São  João' -> 'sao joao'."""
    if not text:
        return ""
    # ASCII has nothing to decompose (e-mails, tax ids, phone digits). Words joined by one
    # space: what replacing each run of whitespace (\s+) by one and stripping gives.
    plain = text if text.isascii() else text.translate(_UNACCENTED)
    return " ".join(plain.lower().split())


def compact(text: str | None) -> str:
    """Letters and digits only: '11.222.333/0001-81' -> '11222333000181'."""
    return _NOT_ALNUM.sub("", fold(text))


def build(parts: Iterable[str | None]) -> str:
    """The search document: every part folded, separated by ' | ' so fragments don't join."""
    return " | ".join(p for p in (fold(part) for part in parts) if p)


def query_terms(query: str) -> list[str]:
    """The fragments to look for: the folded text, and its letters-and-digits form.

    '(11) 98765-4321' -> ['(11) 98765-4321', '11987654321']; a term shorter than
    MIN_FRAGMENT is dropped.
    """
    terms = []
    for term in (fold(query), compact(query)):
        if len(term) >= MIN_FRAGMENT and term not in terms:
            terms.append(term)
    return terms


_LETTER_RUN = re.compile(r"[a-z]+")


def words(text: str | None) -> str:
    """The distinct runs of letters (a-z) of a folded ``text``, of ``MIN_FRAGMENT`` letters
    or more, sorted and joined by spaces: 'ana.silva@silva.com | 11 9876' -> 'ana com silva'.

    Any letters-only fragment of the text lies inside one of its runs of letters, so the
    runs that contain a term's longest run of letters (:func:`longest_letters`) are
    everywhere the term can be: what the accounts list walks in name order
    (models/search_words.py) for a term found in many rows."""
    return " ".join(sorted({run for run in _LETTER_RUN.findall(text or "")
                            if len(run) >= MIN_FRAGMENT}))


def longest_letters(term: str) -> str:
    """The longest run of letters (a-z) in a folded search term ('' when none):
    'silva 1999' -> 'silva'; '(11) 98765' -> ''."""
    return max(_LETTER_RUN.findall(term), key=len, default="")
