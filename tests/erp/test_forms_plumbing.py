"""The host's page plumbing every module's views use: erp.forms (apply_errors, form_view,
post_action, the field helpers) and erp.clock (the user's today)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import FieldList, Form, FormField, StringField

from erp.clock import day_start, local_today
from erp.db import db
from erp.errors import Conflict, InvalidInput
from erp.forms import (
    BLANK_CHOICE,
    CONFLICT_MESSAGE,
    apply_errors,
    choices,
    form_data,
    form_view,
    kw,
    page_size,
    post_action,
)


class LineForm(Form):
    quantity = StringField()


class ThingForm(FlaskForm):
    name = StringField(**kw(maxlength=10))
    tag_ids = StringField()
    lines = FieldList(FormField(LineForm), min_entries=2)


@pytest.fixture
def request_ctx(app, monkeypatch):
    """A request context of the app; CSRF off unless asked (the forms are built here)."""

    def make(method="POST", data=None, csrf=False):
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", csrf)
        return app.test_request_context("/somewhere", method=method, data=data or {})

    return make


@pytest.fixture
def rollbacks(monkeypatch):
    calls = []
    original = db.session.rollback
    monkeypatch.setattr(db.session, "rollback", lambda: (calls.append(1), original()))
    return calls


def render(form, **context):
    """A page drawn by a callable template: what form_view hands it, as text."""
    errors = {name: list(field.errors) for name, field in form._fields.items() if field.errors}
    return f"form_errors={list(map(str, form.form_errors))} errors={errors} context={context}"


# --- apply_errors ------------------------------------------------------------------------


def test_apply_errors_puts_messages_next_to_fields_sub_forms_and_aliases(request_ctx):
    with request_ctx():
        form = ThingForm()
        error = InvalidInput({"name": ["Too long."], "tags": ["Choose existing tags."],
                              "lines-1-quantity": ["Use a number."], "__all__": ["Whole."],
                              "unknown": ["Elsewhere."], "lines-9-quantity": ["Gone."]})
        apply_errors(form, error, aliases={"tags": "tag_ids"})
        assert form.name.errors == ["Too long."]
        assert form.tag_ids.errors == ["Choose existing tags."]
        assert form.lines[1].form.quantity.errors == ["Use a number."]
        assert form.lines[0].form.quantity.errors in ([], ())
        assert form.form_errors == ["Whole.", "Elsewhere.", "Gone."]


def test_apply_errors_has_no_quirk_of_its_own(request_ctx):
    """CRM's "tags" → "tag_ids" is CRM's alias now, not a rule of the host."""
    with request_ctx():
        form = ThingForm()
        apply_errors(form, InvalidInput({"tags": ["Choose existing tags."]}))
        assert form.tag_ids.errors in ([], ())
        assert form.form_errors == ["Choose existing tags."]


# --- form_view ---------------------------------------------------------------------------


def test_form_view_shows_the_form_on_get_without_saving(request_ctx):
    saved = []
    with request_ctx(method="GET"):
        body, status = form_view(ThingForm(), save=saved.append, template=render,
                                 success=("Saved.", "/next"), extra=1)
    assert status == 200 and saved == [] and "context={'extra': 1}" in body


def test_form_view_saves_flashes_and_redirects_with_a_303(request_ctx):
    with request_ctx(data={"name": "Mesa"}):
        response = form_view(
            ThingForm(), save=lambda form: SimpleNamespace(id=7, name=form.name.data),
            template=render,
            success=(lambda thing: f"{thing.name} saved.", lambda thing: f"/things/{thing.id}"))
        assert response.status_code == 303 and response.location == "/things/7"
        assert get_flashed_messages(with_categories=True) == [("success", "Mesa saved.")]


def test_form_view_success_may_name_its_category(request_ctx):
    with request_ctx(data={"name": "Mesa"}):
        response = form_view(ThingForm(), save=lambda form: None, template=render,
                             success=("Queued, not sent.", "/back", "warning"))
        assert response.status_code == 303
        assert get_flashed_messages(with_categories=True) == [("warning", "Queued, not sent.")]


def test_form_view_shows_the_service_messages_with_a_422_and_rolls_back(request_ctx, rollbacks):
    def refuse(form):
        raise InvalidInput({"name": ["Too short."], "__all__": ["Not today."]})

    with request_ctx(data={"name": "M"}):
        body, status = form_view(ThingForm(), save=refuse, template=render,
                                 success=("Saved.", "/next"), error_as="problem")
        assert get_flashed_messages() == []
    assert status == 422 and rollbacks == [1]
    assert "form_errors=['Not today.']" in body and "'name': ['Too short.']" in body
    assert "'problem': InvalidInput" in body


def test_form_view_passes_none_as_the_error_when_there_is_none(request_ctx):
    with request_ctx(method="GET"):
        body, _status = form_view(ThingForm(), save=lambda form: None, template=render,
                                  success=("Saved.", "/next"), error_as="problem")
    assert "'problem': None" in body


def test_form_view_shows_a_conflict_only_when_it_has_a_message_for_it(request_ctx, rollbacks):
    def stale(form):
        raise Conflict(current_version=3)

    with request_ctx(data={"name": "Mesa"}):
        body, status = form_view(ThingForm(), save=stale, template=render,
                                 success=("Saved.", "/next"), conflict="Someone else saved.")
    assert status == 422 and "form_errors=['Someone else saved.']" in body and rollbacks == [1]
    with request_ctx(data={"name": "Mesa"}), pytest.raises(Conflict):
        form_view(ThingForm(), save=stale, template=render, success=("Saved.", "/next"))


def test_form_view_does_not_save_a_form_that_does_not_validate(request_ctx):
    saved = []
    with request_ctx(data={}, csrf=True):  # no CSRF token
        body, status = form_view(ThingForm(), save=saved.append, template=render,
                                 success=("Saved.", "/next"))
    assert status == 422 and saved == [] and "csrf_token" in body


# --- post_action -------------------------------------------------------------------------


def test_post_action_flashes_and_redirects_with_a_303(request_ctx):
    with request_ctx():
        response = post_action(lambda: 3, lambda n: f"{n} changed.", lambda n: f"/list?n={n}")
        assert response.status_code == 303 and response.location == "/list?n=3"
        assert get_flashed_messages(with_categories=True) == [("success", "3 changed.")]


def test_post_action_says_nothing_for_an_empty_message(request_ctx):
    with request_ctx():
        response = post_action(lambda: False, lambda removed: removed and "Removed.", "/back")
        assert response.status_code == 303 and get_flashed_messages() == []


def test_post_action_flashes_a_refusal_and_goes_to_failed(request_ctx, rollbacks):
    def refuse():
        raise InvalidInput({"__all__": ["Already cancelled."], "amount": ["Too much."]})

    with request_ctx():
        response = post_action(refuse, "Cancelled.", lambda result: f"/done/{result}",
                               failed="/record")
        assert response.status_code == 303 and response.location == "/record"
        assert get_flashed_messages(with_categories=True) == [
            ("danger", "Already cancelled."), ("danger", "Too much.")]
    assert rollbacks == [1]


def test_post_action_flashes_a_conflict(request_ctx):
    def stale():
        raise Conflict(current_version=2)

    with request_ctx():
        response = post_action(stale, "Saved.", "/record")
        assert response.status_code == 303 and response.location == "/record"
        assert get_flashed_messages(with_categories=True) == [("danger", str(CONFLICT_MESSAGE))]


def test_post_action_refuses_a_post_without_its_csrf_token(request_ctx):
    called = []
    with request_ctx(csrf=True), pytest.raises(BadRequest):
        post_action(lambda: called.append(1), "Done.", "/back")
    assert called == []


# --- field helpers -------------------------------------------------------------------------


def test_choices_kw_and_form_data(app, request_ctx):
    records = [SimpleNamespace(id=2, name="Ana", title="T2"),
               SimpleNamespace(id=1, name="Bia", title="T1")]
    assert choices(records) == [("2", "Ana"), ("1", "Bia")]
    assert choices(records, lambda r: r.title, blank="—") == [BLANK_CHOICE, ("2", "T2"),
                                                                ("1", "T1")]
    assert kw(type="tel") == {"render_kw": {"type": "tel"}}
    with request_ctx(data={"name": "Mesa", "tag_ids": "1"}):
        form = ThingForm()
        assert form.name.render_kw == {"maxlength": 10}
        data = form_data(form)
        assert data["name"] == "Mesa" and set(data) == {"name", "tag_ids", "lines"}
        assert form_data(form, ["name"]) == {"name": "Mesa"}
        assert page_size() == app.config["ERP_PAGE_SIZE"]


# --- erp.clock -------------------------------------------------------------------------------


def test_today_is_the_users_in_their_time_zone(ctx):
    east = SimpleNamespace(timezone="Pacific/Kiritimati")  # UTC+14
    west = SimpleNamespace(timezone="Pacific/Pago_Pago")  # UTC-11: 25 hours behind
    # A day behind, and two from 10:00 to 11:00 UTC (east already in the day after next).
    behind = 2 if datetime.now(UTC).hour == 10 else 1
    assert local_today(east) - local_today(west) == timedelta(days=behind)
    assert local_today(SimpleNamespace(timezone=None)) == local_today(
        SimpleNamespace(timezone="No/Such_Zone"))  # both the app's default zone


def test_day_start_is_the_users_midnight_in_utc(app, ctx):
    sao_paulo = SimpleNamespace(timezone="America/Sao_Paulo")  # UTC-3, no DST since 2019
    assert day_start(date(2026, 1, 1), sao_paulo) == datetime(2026, 1, 1, 3, tzinfo=UTC)
    tokyo = SimpleNamespace(timezone="Asia/Tokyo")
    assert day_start(date(2026, 1, 1), tokyo) == datetime(2025, 12, 31, 15, tzinfo=UTC)
    default = SimpleNamespace(timezone=None)
    assert day_start(date(2026, 1, 1), default) == day_start(
        date(2026, 1, 1), SimpleNamespace(timezone=app.config["BABEL_DEFAULT_TIMEZONE"]))


def test_without_an_app_the_clock_is_utc():
    assert day_start(date(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert local_today() == datetime.now(UTC).date()
