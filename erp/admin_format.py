"""What the admin shows of a model: its columns named in the user's language, its values
formatted as the rest of the app formats them (issue 17).

:class:`AdminFormat` is mixed into every admin view (``erp.admin.SecureModelView``, which
the host's views and every module's derive from), so a module's view gets all of this by
declaring nothing:

* **labels**: the view's own ``column_labels`` (lazy strings of its module's domain), else
  what the model calls its attributes for the audit trail (``__audit_labels__``; a
  relationship takes its foreign key's label: ``account`` that of ``account_id``), else
  the host's :data:`COMMON_LABELS` (``created_at``, ``name``...). The labels also name the
  form fields and the filters.
* **coded values**: the model's ``__audit_choices__`` (``{attribute: {code: label}}``, e.g.
  an opportunity's ``status``) and the view's own ``column_choices`` (a list of pairs, or a
  ``{code: label}`` mapping) show their label in the list, the details and the filters,
  and the forms offer them in a select.
* **values by column type**: a ``DateTime`` in the user's time zone (``29/11/2026 10:10``),
  a ``Date`` as ``29/11/2026``, a money column (:data:`erp.money.Money`) as ``R$ 720,00``,
  any other ``Numeric`` as a number of the user's language, a ``Boolean`` as Yes/No; values
  that are no column of the model (a property, a relationship's list) by their Python type.

A view's ``column_formatters`` still win for the columns they name.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import current_app
from flask_admin.model import typefmt
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, Numeric
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty

from .i18n import date_filter, datetime_filter, module_domain, money, number
from .money import is_money

# Attributes many models share, named once in the host's catalog.
COMMON_LABELS = {
    "id": _l("ID"),
    "name": _l("Name"),
    "description": _l("Description"),
    "title": _l("Title"),
    "code": _l("Code"),
    "active": _l("Active"),
    "status": _l("Status"),
    "notes": _l("Notes"),
    "version": _l("Version"),
    "created_at": _l("Created"),
    "updated_at": _l("Updated"),
    "created_by": _l("Created by"),
    "created_by_id": _l("Created by"),
    "user": _l("User"),
    "user_id": _l("User"),
    "owner": _l("Owner"),
    "owner_id": _l("Owner"),
    "team": _l("Team"),
    "team_id": _l("Team"),
    "account": _l("Account"),
    "account_id": _l("Account"),
}


def yes_no(value) -> str:
    return _("Yes") if value else _("No")


# By the value's Python type, for what is no column of the model (datetime before date: a
# datetime is a date too).
TYPE_FORMATTERS = {
    type(None): typefmt.empty_formatter,
    bool: lambda _view, value, _name: yes_no(value),
    datetime: lambda _view, value, _name: datetime_filter(value),
    date: lambda _view, value, _name: date_filter(value),
    Decimal: lambda _view, value, _name: number(value),
    list: typefmt.list_formatter,
    dict: typefmt.dict_formatter,
    Enum: typefmt.enum_formatter,
}


def column_formatter(column):
    """How a value of ``column`` (a table column) is shown; None: as Flask-Admin would."""
    kind = column.type
    if isinstance(kind, Boolean):
        return yes_no
    if isinstance(kind, DateTime):
        return datetime_filter
    if isinstance(kind, Date):
        return date_filter
    if isinstance(kind, Numeric):
        return money if is_money(kind) else number
    return None


def _single_column(prop):
    columns = getattr(prop, "columns", None)
    return columns[0] if columns and len(columns) == 1 else None


def model_labels(model) -> dict:
    """``{attribute: label}`` for every column and relationship of ``model`` that the
    model's audit labels or the host's common labels name."""
    audit = getattr(model, "__audit_labels__", None) or {}
    labels = {}
    for prop in sa_inspect(model).attrs:
        key = prop.key
        label = audit.get(key)
        if label is None and isinstance(prop, RelationshipProperty):
            local = list(prop.local_columns)
            if len(local) == 1 and not local[0].primary_key:  # many-to-one: its foreign key
                label = audit.get(prop.parent.get_property_by_column(local[0]).key)
        if label is None:
            label = COMMON_LABELS.get(key)
        if label is not None:
            labels[key] = label
    return labels


def _as_pairs(choices) -> list:
    return list(choices.items()) if isinstance(choices, dict) else list(choices)


def model_choices(model) -> dict:
    """``{attribute: [(code, label), ...]}`` from the model's ``__audit_choices__``."""
    audit = getattr(model, "__audit_choices__", None) or {}
    return {key: _as_pairs(choices) for key, choices in audit.items()}


def module_summary(name: str, summary: str | None) -> str:
    """A module's manifest summary (kept in English in ``erp_module``) in the user's
    language: through the module's own catalog, where its translation is."""
    if not summary:
        return ""
    module = current_app.extensions.get("erp_available_modules", {}).get(name)
    if module is None or module.translations_dir is None:
        return summary
    return module_domain(name, module.translations_dir).get_translations().ugettext(summary)


class AdminFormat:
    """Mixin for a Flask-Admin SQLAlchemy ``ModelView``: labels, coded values and values
    formatted as described in this module's docstring."""

    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = TYPE_FORMATTERS

    def __init__(self, model, *args, **kwargs):
        # Before Flask-Admin scaffolds the forms and filters, which read both.
        self.column_labels = {**model_labels(model), **(self.column_labels or {})}
        self.column_choices = {
            **model_choices(model),
            **{key: _as_pairs(choices) for key, choices in (self.column_choices or {}).items()},
        }
        # The forms offer the same labels (a coded column is a select, not free text).
        self.form_choices = {**self.column_choices, **(self.form_choices or {})}
        super().__init__(model, *args, **kwargs)
        self._shown_by_column = {}
        for prop in sa_inspect(model).column_attrs:
            column = _single_column(prop)
            shown = column_formatter(column) if column is not None else None
            if shown is not None:
                self._shown_by_column[prop.key] = shown

    def label_of(self, field: str):
        """The label ``field`` has here; None if only Flask-Admin's prettified name."""
        return self.column_labels.get(field)

    def _get_list_value(self, context, model, name, column_formatters,
                        column_type_formatters):
        # The list and the details (a Jinja context); an export keeps the stored values.
        if context is not None and name not in column_formatters:
            shown = self._shown_by_column.get(name)
            if name in self._column_choices_map or shown is not None:
                value = self._get_field_value(model, name)
                if value is None:
                    return ""  # not "None" for a coded column left empty
                if name not in self._column_choices_map:
                    return shown(value)
        return super()._get_list_value(context, model, name, column_formatters,
                                       column_type_formatters)
