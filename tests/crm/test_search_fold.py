"""The search text's folding (modules.crm.models.search_text.fold): lower case, without
accents, whitespace collapsed; worked out character by character (issue 15: an import
folds 100,000 names), equal to folding the whole text with NFKD."""

from __future__ import annotations

import random
import re
import unicodedata

from modules.crm.models.search_text import _UNACCENTED, fold


def _whole_text(text):
    """The definition: the text's NFKD less its combining marks, lower-cased, every run
    of whitespace one space, stripped."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain.lower()).strip()


def test_every_character_folds_as_the_whole_text_would():
    """Every assigned character (an unassigned one has no decomposition, mark or case), in
    texts of up to 4,096 of them between letters (and marks)."""
    for start in range(0, 0x110000, 4096):
        chars = [chr(c) for c in range(start, start + 4096)
                 if unicodedata.category(chr(c)) not in ("Cn", "Cs")]
        for separator in ("x", " a\u0301 ", "\u00a0\u0327"):
            text = separator.join(chars)
            if fold(text) != _whole_text(text):
                wrong = [c for c in chars if fold(f"x{c}x") != _whole_text(f"x{c}x")]
                raise AssertionError([hex(ord(c)) for c in wrong[:10]])
    assert len(_UNACCENTED) <= _UNACCENTED.LIMIT  # bounded, whatever was folded


def test_texts_fold_as_the_whole_text_would():
    rng = random.Random(15)  # noqa: S311 - test data, not secrets
    pool = [chr(c) for c in range(0x20, 0x2000)] + list(" \t\n\u00a0\u2003\u3000") * 40
    for _ in range(20_000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 14)))
        assert fold(text) == _whole_text(text), repr(text)
    assert fold("  São   João\tLTDA ") == "sao joao ltda"
    assert fold("Ｆｉｓｈ ﬁ Ⅸ ß İ") == "fish fi ix ß i"
    assert fold(None) == fold("") == ""
