"""Accounts: list with atomic search and filters, create, edit, archive, the account page."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

from flask import (
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Bundle

from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.db import db
from erp.forms import PostForm, form_view, page_size, post_action
from erp.i18n import module_i18n
from erp.paging import gathered, keyset_page, sort_keys
from erp.params import id_arg, parse_int

from ..forms.accounts import AccountForm
from ..models import Account, AccountContact, Contact, account_tags
from ..permissions import READ, WRITE
from ..services import accounts as service
from ..services.contacts import active_link_clauses
from ..services.name_walk import name_walk
from ..services.scope import account_scope, get_account_or_404, small_scope
from ..services.search import (
    MATCHES_FIRST,
    new_account_args,
    only_matching_accounts,
    search_reading,
)
from . import account_page as page
from . import bp
from .helpers import assignable_users, category_choices, tag_choices
from .merge_notice import merged_away

_ = module_i18n(__name__).gettext

# The list's sorts, each ending with the id (rows of equal name or time keep one order,
# which keyset paging needs) and each read in order from an index: (archived, legal_name),
# (archived, id), (archived, updated_at, id) (issue 15).
SORTS = {
    "name": sort_keys(Account.legal_name, Account.id),
    "-created": sort_keys(Account.id, descending=True),
    "-updated": sort_keys(Account.updated_at, Account.id, descending=True),
}


# Sorts whose index SQLite may walk testing each row for a frequent search term: a term's
# matches are spread evenly over the times of creation and change, not over the names
# ("Silva …" gathers under S: 30,000 rows walked to find a page of "silva" by name).
WALKABLE_SORTS = ("-created", "-updated")


def list_sort(args) -> tuple:
    """The sort keys the request asks for (the name by default)."""
    return SORTS.get(args.get("sort", "name"), SORTS["name"])


def _filtered_accounts(walk: bool = False, searched: bool = True):
    """The list's SELECT from the request's filters, within the user's scope (``walk``:
    a frequent search term tested on each row of the sort's index, not gathered;
    ``searched=False``: without the search, which the caller applies)."""
    args = request.args
    statement = select(Account).where(account_scope(current_user))
    archived = args.get("archived", "0")
    if archived in ("0", "1"):
        statement = statement.where(Account.archived.is_(archived == "1"))
    query = args.get("q", "").strip()
    if query and searched:
        statement = only_matching_accounts(statement, query, walk=walk)
    for arg, column in (("owner", Account.owner_id), ("category", Account.category_id)):
        if (wanted := id_arg(arg, args)) is not None:
            statement = statement.where(column == wanted)
    if (tag_id := id_arg("tag", args)) is not None:
        tagged = select(account_tags.c.account_id).where(account_tags.c.tag_id == tag_id)
        statement = statement.where(Account.id.in_(tagged))
    if args.get("lifecycle") in ("prospect", "customer"):
        statement = statement.where(Account.lifecycle == args["lifecycle"])
    if args.get("priority") == "1":
        statement = statement.where(Account.priority.is_(True))
    return statement.order_by(*(key.ordered() for key in list_sort(args)))


@bp.route("/")
@permission_required(READ)
def index():
    return redirect(url_for("crm.accounts"))


@bp.route("/accounts")
@permission_required(READ)
def accounts():
    keys = list_sort(request.args)
    query = request.args.get("q", "").strip()
    statement = counted = _filtered_accounts()
    reading, walk = MATCHES_FIRST, None
    if small_scope(current_user):  # a few accounts: gathered by owner and sorted
        keys = gathered(keys)
    elif query and keys is SORTS["name"] and (walk := name_walk(
            _filtered_accounts(searched=False), query, current_user,
            id_arg("owner", request.args))):  # walked in name order from the words' index
        statement = walk.statement
    elif query:  # a common word: tested on each row (see search_reading)
        reading = search_reading(
            query, sorted_by_time=request.args.get("sort") in WALKABLE_SORTS)
        if reading.page_tests_rows:
            statement = _filtered_accounts(walk=True)
        if reading.count_tests_rows:
            counted = _filtered_accounts(walk=True)
        if reading.sorted_apart:
            keys = gathered(keys, anywhere=True)
    pagination = keyset_page(statement, keys, per_page=page_size(), counted=counted,
                             ids_first=reading.sorted_apart,
                             ids_reader=walk and walk.ids, count_reader=walk and walk.count)
    return render_template(
        "crm/accounts/list.html", pagination=pagination, query=query,
        owners=assignable_users(), categories=category_choices(_("All")),
        tags=tag_choices(), new_from_query=_new_account_args(query),
    )


def _web_search_template() -> str:
    return current_app.config.get("CRM_WEB_SEARCH_URL", "https://www.google.com/search?q={query}")


def _web_search_url(query: str) -> str:
    """"Search the web" (seed 000, method 3): a search for the typed name or CNPJ."""
    return _web_search_template().replace("{query}", quote_plus(query))


@bp.context_processor
def _web_search():
    return {"web_search_url": _web_search_url, "web_search_template": _web_search_template()}


def _new_account_args(query: str) -> dict:
    """Prefill a new account from what was searched: a valid CPF/CNPJ, a phone, or a name
    (services/search.py: new_account_args)."""
    return new_account_args(query)


def new_account_url(query: str = "", next_url: str | None = None) -> str:
    """"Register a new account" from a search or a form that picks an account (issue 17):
    the form prefilled with what was typed, and, with ``next_url`` (a local path), back
    there after saving with ``account_id`` the new account's."""
    args = new_account_args(query)
    if next_url and safe_next_url(next_url):
        args["next"] = next_url
    return url_for("crm.new_account", **args)


def with_account(next_url: str, account_id: int) -> str:
    """``next_url`` with ``account_id`` set (a search's ``account_q`` dropped): the form
    being returned to reads it."""
    parts = urlsplit(next_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in ("account_id", "account_q")]
    query.append(("account_id", str(account_id)))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


def _account_form(account: Account | None = None) -> AccountForm:
    form = AccountForm(obj=account)
    form.owner_id.choices = [(str(u.id), u.name) for u in assignable_users()]
    form.category_id.choices = category_choices()
    form.tag_ids.choices = tag_choices()
    if request.method == "GET":
        if account is not None:
            form.owner_id.data = str(account.owner_id)
            form.category_id.data = str(account.category_id or "")
            form.tag_ids.data = [str(t.id) for t in account.tags]
            form.tax_id.data = account.tax_id_formatted
            form.phone.data = account.phone_formatted
            form.mobile.data = account.mobile_formatted
            form.version.data = account.version
        else:
            form.owner_id.data = str(current_user.id)
            for field in ("tax_id", "legal_name", "trade_name", "person_type", "phone"):
                if request.args.get(field):
                    form[field].data = request.args[field]
    return form


def _account_form_view(form: AccountForm, account: Account | None, save, message,
                       back: str | None = None):
    """The account form: on bad input it shows why, and the similar accounts (``problem``:
    the service's error, whose possible duplicates the user may confirm). With ``back``
    (a new account's ``next``, a local path), saving returns there with the account."""
    return form_view(
        form, save=save, template="crm/accounts/form.html",
        success=(lambda saved: message(saved.display_name),
                 lambda saved: with_account(back, saved.id) if back else url_for(
                     "crm.account", account_id=saved.id)),
        conflict=_("Someone else changed this account while you were editing it. "
                   "Open it again to see their changes, then redo yours."),
        aliases={"tags": "tag_ids"}, error_as="problem", account=account, back=back)


@bp.route("/accounts/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_account():
    return _account_form_view(
        _account_form(), None,
        lambda form: service.create_account(
            form.service_data(), user=current_user,
            confirm_duplicates=bool(form.confirm_duplicates.data)),
        lambda name: _("Account %(name)s created.", name=name),
        back=safe_next_url(request.values.get("next")))


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def edit_account(account_id: int):
    account = get_account_or_404(account_id, current_user)
    return _account_form_view(
        _account_form(account), account,
        lambda form: service.update_account(
            account, form.service_data(), user=current_user,
            expected_version=parse_int(form.version.data),
            confirm_duplicates=bool(form.confirm_duplicates.data)),
        lambda name: _("Account %(name)s saved.", name=name))


# The account page's header contacts. Their names only: whole contacts would load their
# owners (and roles) too, one more query on an account whose contacts others own (a
# whale's: issue 15). Built once, the account bound when run (issue 15's throughput).
# Gathered through the account's links and sorted: for a whale's hundreds, PostgreSQL
# otherwise walked every contact in name order testing each for the account, a cost
# that grows with the contacts of all accounts.
HEADER_CONTACTS = (
    select(AccountContact.role, Bundle("contact", Contact.id, Contact.name)).join(Contact)
    .where(*active_link_clauses(bindparam("account_id")))
    .order_by(*(key.ordered() for key in gathered(sort_keys(Contact.name, Contact.id),
                                                   anywhere=True)))
    .limit(5))


@bp.route("/accounts/<int:account_id>")
@permission_required(READ)
def account(account_id: int):
    """The account page: header, figures, Create menu and the tabs of every module.

    The selected tab (``?tab=key``, else the first) is rendered with the page; the
    others load when opened, and each is also this full page at its own URL.
    """
    account = get_account_or_404(account_id, current_user)
    if account.merged_into_id is not None:  # merged away (issue 18): its survivor's page
        return merged_away(account, url_for("crm.account", account_id=account.merged_into_id))
    tabs = page.visible_tabs(current_user)
    selected = page.find_tab(request.args.get("tab", ""), current_user) or (
        tabs[0] if tabs else None)
    html, failed = page.render_tab(selected, account, request.args) if selected else (None,
                                                                                       False)
    header_contacts = db.session.execute(HEADER_CONTACTS, {"account_id": account.id}).all()
    return render_template(
        "crm/accounts/detail.html", account=account, tabs=tabs, selected=selected,
        selected_html=html, selected_failed=failed, stats=page.stats(account, current_user),
        create_entries=page.create_entries(account, current_user),
        header_contacts=header_contacts, action_form=PostForm())


@bp.route("/accounts/<int:account_id>/tabs/<key>")
@permission_required(READ)
def account_tab(account_id: int, key: str):
    """One tab's HTML, for the page's script (each tab is also ``?tab=key``)."""
    account = get_account_or_404(account_id, current_user)
    tab = page.find_tab(key, current_user)
    if tab is None:
        abort(404)
    html, failed = page.render_tab(tab, account, request.args)
    if failed:
        return render_template("crm/accounts/_tab_failed.html", tab=tab), 500
    return html


@bp.route("/accounts/<int:account_id>/tabs/<key>/count")
@permission_required(READ)
def account_tab_count(account_id: int, key: str):
    """A tab's count, asked for after the page is shown: a slow one stalls nothing."""
    account = get_account_or_404(account_id, current_user)
    tab = page.find_tab(key, current_user)
    if tab is None:
        abort(404)
    return jsonify(count=page.tab_count(tab, account))


@bp.route("/accounts/<int:account_id>/archive", methods=["POST"])
@permission_required(WRITE)
def archive_account(account_id: int):
    account = get_account_or_404(account_id, current_user)
    archive = request.form.get("archived", "1") == "1"
    return post_action(lambda: service.set_archived(account, archive),
                       _("Account archived.") if archive else _("Account restored."),
                       url_for("crm.account", account_id=account.id))
