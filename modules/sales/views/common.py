"""What the sales pages share: the account of a "new" link, the way back, the lists."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from erp.auth.services import safe_next_url
from erp.forms import page_size
from erp.paging import keyset_page, sort_keys
from erp.params import id_arg
from erp.validation import LIKE_ESCAPE, like
from modules.crm.models import Account
from modules.crm.services.scope import get_account_or_404

from .. import services


def account_arg() -> Account:
    """The account of a "new document" link (?account_id=), in the user's scope (404 else)."""
    account_id = id_arg("account_id")
    if account_id is None:
        abort(404)
    return get_account_or_404(account_id, current_user)


def back_to(default: str) -> str:
    """Where to go after a form: the page it came from (?next=, local only) or ``default``."""
    return safe_next_url(request.args.get("next")) or default


def document_list(model, args, statuses, status_clause=None):
    """A page of quotes, orders or invoices in the user's scope, filtered by status, by
    number or account name (q) and by account (account_id), newest first."""
    stmt = services.in_scope(select(model), model, current_user)
    status = args.get("status", "")
    if status in statuses:
        stmt = stmt.where(status_clause(status) if status_clause else model.status == status)
    query = args.get("q", "").strip()
    if query:
        number = services.search_number(model, query)
        pattern = like(query)  # a typed % or _ is itself, not a wildcard
        name = or_(Account.legal_name.ilike(pattern, escape=LIKE_ESCAPE),
                   Account.trade_name.ilike(pattern, escape=LIKE_ESCAPE))
        stmt = stmt.where(or_(number, name) if number is not None else name)
    if (account_id := id_arg("account_id", args)) is not None:
        stmt = stmt.where(model.account_id == account_id)
    # The rows' accounts in one query, not one per row (issue 15); not their tags, which
    # the lists do not show (Account.tags is loaded with the account unless told).
    stmt = stmt.options(selectinload(model.account).lazyload(Account.tags))
    # Paged by keyset on the id (issue 15): Next / Previous cost the same at any depth, the
    # count stops at erp.paging.COUNT_CAP.
    return keyset_page(stmt, sort_keys(model.id, descending=True), per_page=page_size())


def with_lines(form):
    """A quote's or an order's form with its catalog selects: the products its rows have
    and, when the catalog is small, all of it (services.line_products); the picker
    searches the catalog through pick_products (issue 17)."""
    form.set_products(services.line_products(form.selected_products()),
                      url_for("sales.pick_products"))
    return form


def adding_line(form) -> bool:
    """The form was posted by its "Add item" button without JavaScript: it gets one more
    row (with its catalog select) and is shown again, nothing saved nor checked yet (the
    script adds rows in the page instead)."""
    if request.method != "POST" or "add_line" not in request.form:
        return False
    if len(form.lines) < form.lines.max_entries:
        form.lines.append_entry()
        with_lines(form)
    return True
