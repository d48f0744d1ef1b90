"""An import's closing message counts in words that agree with each count (issue 17, point 6):
"1 atualizado, 1 ignorado", never "1 atualizados, 1 ignorados"."""

from __future__ import annotations

import pytest

from erp.imports.runner import done_message


@pytest.mark.parametrize(("language", "counts", "expected"), [
    ("en", (2, 1, 1), "2 created, 1 updated, 1 skipped."),
    ("pt-BR", (2, 1, 1), "2 criados, 1 atualizado, 1 ignorado."),
    ("pt-BR", (1, 3, 2), "1 criado, 3 atualizados, 2 ignorados."),
])
def test_each_count_agrees_with_its_word(app, language, counts, expected):
    with app.test_request_context(headers={"Accept-Language": language}):
        assert done_message(*counts) == expected
