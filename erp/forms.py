"""The text rule (erp.textrules) on every web form field, the modules' included.

:func:`init_app` wraps WTForms' ``DefaultMeta.bind_field``, the hook WTForms calls for
every field of every form as the form is built (FlaskForm's, plain ``Form`` sub-forms,
Flask-Admin's generated forms, a pip-installed module's): each bound field gets one more
validator, first in its chain. Text with a control character (NUL, ESC...; tab and line
breaks too in a one-line field) is then a field error shown next to the field, as any
other ("Remove the control characters..."), and the field's other validators do not run
(a uniqueness check would send the NUL to PostgreSQL, which refuses it: a 500). It used
to be stored instead, and failed later, on PostgreSQL only. A module's form needs nothing.
"""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from .textrules import MESSAGE, MESSAGE_ONE_LINE, storable

__all__ = ["init_app", "text_validator"]


def text_validator(multiline: bool):
    """A WTForms validator: stops the field's validation with the rule's message."""

    def refuse_unstorable(form, field):
        data = field.data
        for value in data if isinstance(data, list | tuple) else [data]:
            if isinstance(value, str) and not storable(value, multiline=multiline):
                # A str, not the lazy string: Flask-Admin shows only str errors.
                raise StopValidation(str(MESSAGE if multiline else MESSAGE_ONE_LINE))

    refuse_unstorable.erp_text_rule = True
    return refuse_unstorable


_ONE_LINE, _MULTI_LINE = text_validator(False), text_validator(True)


def _with_text_rule(bind_field):
    def bind_field_with_text_rule(self, form, unbound_field, options):
        field = bind_field(self, form, unbound_field, options)
        rule = _MULTI_LINE if isinstance(field, TextAreaField) else _ONE_LINE
        field.validators = (rule, *field.validators)
        return field

    bind_field_with_text_rule.erp_text_rule = True
    return bind_field_with_text_rule


def init_app(app=None) -> None:
    """Install the rule (once per process, whatever the number of apps)."""
    if not getattr(DefaultMeta.bind_field, "erp_text_rule", False):
        DefaultMeta.bind_field = _with_text_rule(DefaultMeta.bind_field)
