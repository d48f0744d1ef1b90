"""Flask-Admin's templates without inline script, for the Content-Security-Policy.

Flask-Admin 2 loads its own scripts from files (and would give them a nonce), but three
of its macro files put ``onclick=`` handlers in the page, which a policy without
``'unsafe-inline'`` refuses to run: the bulk-action menu, the delete button of each row
and the "Add filter" menu. ``erp/templates/admin/`` overrides those files (the app's
template folder comes before Flask-Admin's) with the changes below, and
``erp/static/admin.js`` does what the handlers did. The copies are the installed
Flask-Admin's files with exactly these replacements: a test rebuilds them from the
installed package, so an upgrade that changes a file is noticed (run this module to
write them again: ``python -m erp.admin_csp``). One more file is copied the same way for
accessibility rather than the policy: the base layout, whose ``<html>`` gets the page's
``lang``.
"""

from __future__ import annotations

from pathlib import Path

import flask_admin

UPSTREAM = Path(flask_admin.__file__).resolve().parent / "templates" / "bootstrap4"
OURS = Path(__file__).resolve().parent / "templates"

DELETE_QUESTION = "{{ _gettext('Are you sure you want to delete this record?') }}"

# File (under admin/) -> [(Flask-Admin's text, ours)]; each text occurs exactly once.
REPLACEMENTS: dict[str, list[tuple[str, str]]] = {
    "admin/actions.html": [
        ("""onclick="return modelActions.execute('{{ p[0] }}');\"""",
         'data-erp-admin-action="{{ p[0] }}"'),
    ],
    "admin/model/row_actions.html": [
        # erp.js asks forms marked data-confirm before they post.
        ("""<form class="icon" method="POST" action="{{ get_url('.delete_view') }}">""",
         """<form class="icon" method="POST" action="{{ get_url('.delete_view') }}" """
         f'data-confirm="{DELETE_QUESTION}">'),
        (f"""<button onclick="return faHelpers.safeConfirm('{DELETE_QUESTION}');" title=""",
         "<button title="),
    ],
    "admin/model/layout.html": [
        # The link is href="javascript:void(0)", whose click admin.js cancels.
        (""" onclick="return false;\"""", ""),
    ],
    # Not script: the page says its language, as the ERP's pages do (a screen reader
    # reads it with the right voice; axe-core's html-has-lang, issue 17).
    "admin/base.html": [
        ("<html>", """<html lang="{{ (get_locale()|string).replace('_', '-') }}">"""),
    ],
}

HEADER = ("{# Flask-Admin's %s without inline script (Content-Security-Policy): written by "
          "erp/admin_csp.py, do not edit. #}\n")


def rebuild(name: str) -> str:
    """Our version of Flask-Admin's template ``name``, from the installed package."""
    text = (UPSTREAM / name).read_text(encoding="utf-8")
    for theirs, ours in REPLACEMENTS[name]:
        if text.count(theirs) != 1:
            raise ValueError(f"Flask-Admin's {name} changed: {theirs!r} is not found once")
        text = text.replace(theirs, ours)
    return HEADER % name + text


def write_all() -> None:
    for name in REPLACEMENTS:
        path = OURS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rebuild(name), encoding="utf-8")


if __name__ == "__main__":
    write_all()
