"""The page of a record merged into another (issue 18) leads to the survivor's, saying so."""

from __future__ import annotations

from flask import flash, redirect

from erp.i18n import module_i18n

_ = module_i18n(__name__).gettext


def merged_away(record, target: str):
    flash(_("%(name)s was merged into this record; its page now leads here.", name=str(record)),
          "info")
    return redirect(target)
