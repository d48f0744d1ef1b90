"""The text rule (erp.textrules) on every web form field, the modules' included.

:func:`init_app` wraps WTForms' ``DefaultMeta.bind_field``, the hook WTForms calls for
every field of every form as the form is built (FlaskForm's, plain ``Form`` sub-forms,
Flask-Admin's generated forms, a pip-installed module's): each bound field gets one more
validator, first in its chain. Text with a control character (NUL, ESC...; tab and line
breaks too in a one-line field) is then a field error shown next to the field, as any
other ("Remove the control characters..."), and the field's other validators do not run
(a uniqueness check would send the NUL to PostgreSQL, which refuses it: a 500). It used
to be stored instead, and failed later, on PostgreSQL only. A module's form needs nothing.

The rest is what every module's web pages share:

* :class:`PostForm`, the bare form of a button that posts (the CSRF token only);
* :func:`form_view`, a form page: GET shows it (200), a valid POST calls the service and
  flashes + redirects (303), bad input shows the form again with the service's messages
  next to their fields (422);
* :func:`post_action`, a button's POST: call the service, flash the outcome (success or
  the service's messages), redirect (303) — never a page of its own;
* :func:`apply_errors`, a service's :class:`~erp.errors.InvalidInput` onto a form;
* :func:`page_size` and :func:`page_arg` for lists; :data:`BLANK_CHOICE`, :func:`choices`,
  :func:`kw` and :func:`form_data` for building forms and reading them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError

from .db import db
from .errors import Conflict, InvalidInput
from .params import page_arg
from .textrules import MESSAGE, MESSAGE_ONE_LINE, storable

__all__ = ["BLANK_CHOICE", "PostForm", "apply_errors", "choices", "flash_errors", "form_data",
           "form_view", "init_app", "kw", "page_arg", "page_size", "post_action",
           "text_validator"]


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


# --- building and reading forms ----------------------------------------------------------

# The empty first choice of an optional select ("no contact", "no category").
BLANK_CHOICE = ("", "—")


class RowList(FieldList):
    """The rows a user adds to a form (lines, items: erp/static/line_items.js), up to
    ``max_entries``. More is one error on the field, ``too_many(max_entries)``, never rows
    silently dropped as WTForms' FieldList would; only plain row numbers are read (a name
    such as "items-²-description" is not a row, nor a crash)."""

    def __init__(self, unbound_field, *, max_entries: int, too_many: Callable[[int], str],
                 **kwargs):
        kwargs.setdefault("min_entries", 1)
        super().__init__(unbound_field, max_entries=max_entries,
                         validators=[self._at_most_max_entries], **kwargs)
        self.too_many = too_many
        self.overflow = False

    def _at_most_max_entries(self, _form, _field) -> None:
        if self.overflow:
            raise ValidationError(str(self.too_many(self.max_entries)))

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit() and len(index) <= 9:
                    yield int(index)

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.overflow = bool(formdata) and len(
            set(self._extract_indices(self.name, formdata))) > self.max_entries
        super().process(formdata, data, extra_filters=extra_filters)


def kw(**attrs: Any) -> dict:
    """A field's HTML attributes: ``StringField(_l("Phone"), **kw(type="tel"))``."""
    return {"render_kw": attrs}


def choices(records: Iterable[Any], label: Callable[[Any], Any] = lambda record: record.name,
            *, blank: Any = None) -> list[tuple[str, Any]]:
    """A select field's choices from records: ``(str(record.id), label(record))``, after
    a blank choice ``("", blank)`` when ``blank`` is given (``BLANK_CHOICE[1]`` is "—")."""
    head = [("", blank)] if blank is not None else []
    return head + [(str(record.id), label(record)) for record in records]


def form_data(form, names: Iterable[str] | None = None) -> dict[str, Any]:
    """What the form collected, for a service: the named fields (default: all but the
    CSRF token)."""
    if names is None:
        names = [name for name in form._fields if name != "csrf_token"]
    return {name: form[name].data for name in names}


class PostForm(FlaskForm):
    """A button that posts (archive, delete, accept, a status move): the CSRF token only."""


def page_size() -> int:
    """Rows per page of every list (``ERP_PAGE_SIZE``)."""
    return current_app.config["ERP_PAGE_SIZE"]


# --- a service's errors on a form --------------------------------------------------------


def _field(form, name: str):
    """A form field by name, also inside a FieldList of sub-forms ("items-2-quantity")."""
    if name in form._fields:
        return form._fields[name]
    parent, _sep, rest = name.partition("-")
    index, _sep, child = rest.partition("-")
    entries = form._fields.get(parent)
    if entries is None or not index.isdigit() or not child:
        return None
    try:
        return entries[int(index)].form._fields.get(child)
    except (IndexError, AttributeError, TypeError):
        return None


def apply_errors(form, error: InvalidInput, aliases: Mapping[str, str] | None = None) -> None:
    """Put a service's per-field messages next to the form's fields; a message for a
    field the form does not have (``"__all__"``...) goes to ``form.form_errors``.

    ``aliases`` maps a service's field name to the form's, where they differ
    (``{"tags": "tag_ids"}``)."""
    for name, messages in error.errors.items():
        target = _field(form, aliases.get(name, name) if aliases else name)
        if target is None:
            form.form_errors.extend(messages)
            continue
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.extend(messages)


def flash_errors(error: InvalidInput) -> None:
    """Every message of a service's error as a flashed alert."""
    for messages in error.errors.values():
        for message in messages:
            flash(str(message), "danger")


# --- the two shapes of a page that posts --------------------------------------------------

CONFLICT_MESSAGE = _l("Someone else changed this record meanwhile. Open it again to see "
                      "their changes, then redo yours.")


def _value(value: Any, result: Any) -> Any:
    return value(result) if callable(value) else value


def _succeed(success: tuple, result: Any):
    message, target, *rest = success
    message = _value(message, result)
    if message:
        flash(str(message), rest[0] if rest else "success")
    return redirect(_value(target, result), 303)


def form_view(form, *, save: Callable[[Any], Any], template: str | Callable[..., Any],
              success: tuple, conflict: Any = None, aliases: Mapping[str, str] | None = None,
              error_as: str | None = None, **context: Any):
    """A form page, the one way: returns ``(body, status)`` or a redirect.

    * GET: the form (200).
    * A valid POST: ``result = save(form)``; then ``success = (message, url)`` (or
      ``(message, url, category)``) is flashed and redirected to (303). ``message`` and
      ``url`` may be callables of the result (``lambda quote: url_for(..., quote.id)``).
    * ``save`` raised :class:`InvalidInput`: the transaction is rolled back, the messages
      go next to their fields (:func:`apply_errors` with ``aliases``; the others above the
      form), and the form is shown again (422), as it is when the form itself does not
      validate (e.g. a missing CSRF token).
    * ``save`` raised :class:`Conflict` (someone saved the record meanwhile): only when a
      ``conflict`` message is given; it is shown above the form (422).

    ``template`` is a template name, rendered with ``form=form`` and ``context``, or a
    callable ``template(form, **context)`` returning the body (a page that shows the form
    among other things). ``error_as`` names the context variable that receives the
    :class:`InvalidInput` (``None`` when there is none), for pages that show more than its
    messages (the possible duplicates of an account).
    """
    problem = None
    if form.validate_on_submit():
        caught = (InvalidInput, Conflict) if conflict is not None else (InvalidInput,)
        try:
            result = save(form)
        except caught as error:
            db.session.rollback()
            if isinstance(error, InvalidInput):
                problem = error
                apply_errors(form, error, aliases)
            else:
                form.form_errors.append(conflict)
        else:
            return _succeed(success, result)
    status = 422 if request.method == "POST" else 200
    if error_as:
        context[error_as] = problem
    if callable(template):
        return template(form, **context), status
    return render_template(template, form=form, **context), status


def post_action(call: Callable[[], Any], success: Any, target: Any, *, failed: str | None = None,
                category: str = "success"):
    """A button's POST (accept, cancel, deliver, delete...), the one way: always a flash
    and a redirect (303), never a page of its own.

    The CSRF token is checked (400 without it); then ``result = call()``. On success,
    ``success`` (a message, or a callable of the result; falsy: nothing) is flashed and the
    user goes to ``target`` (a URL, or a callable of the result). On
    :class:`InvalidInput` or :class:`Conflict` the transaction is rolled back, its
    messages are flashed as errors and the user goes to ``failed`` (default: ``target``;
    a callable target gets ``None``).
    """
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        result = call()
    except (InvalidInput, Conflict) as error:
        db.session.rollback()
        if isinstance(error, InvalidInput):
            flash_errors(error)
        else:
            flash(str(CONFLICT_MESSAGE), "danger")
        return redirect(failed if failed is not None else _value(target, None), 303)
    return _succeed((success, target, category), result)
