"""Find duplicates (issue 18, point 1): likely duplicate accounts and contacts within the
user's scope, the most confident first, paged; a pair links to the merge page, or is
dismissed as "not a duplicate" for good (after a confirmation). Managers and admins."""

from __future__ import annotations

import click
from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from erp.auth import permission_required
from erp.forms import PostForm, post_action
from erp.i18n import module_i18n
from erp.links import page_link
from erp.params import id_arg

from ..permissions import MANAGE
from ..services import duplicates as service
from ..services.validation import format_phone
from . import bp

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

KINDS = ("account", "contact")
MERGE_ENDPOINTS = {"account": "crm.merge_accounts", "contact": "crm.merge_contacts"}
REASONS = {"email": _l("Same e-mail"), "phone": _l("Same phone"),
           "name": _l("Similar name"), "similar_name": _l("Similar name"),
           "tax_id_root": _l("Same CNPJ root (branches)")}


def merge_url(record_kind: str, first_id: int, second_id: int) -> str | None:
    """The merge page for the pair (issue 18, point 2), if it is installed: its endpoint
    is looked up, not assumed."""
    link = page_link(MERGE_ENDPOINTS[record_kind])
    return link(a=first_id, b=second_id) if link else None


def shown_key(pair: service.Pair) -> str:
    """The shared value as people read it."""
    if pair.kind.reason == "phone":
        return format_phone(pair.key)
    if pair.kind.reason == "tax_id_root" and len(pair.key) == 8:
        return f"{pair.key[:2]}.{pair.key[2:5]}.{pair.key[5:]}"
    if pair.kind.reason == "name":
        return pair.first.legal_name
    if pair.kind.reason == "similar_name":  # the names' trigram similarity
        return f"{round((pair.score or 0) / 10)}%"
    return pair.key


def _kind_or_404(record_kind: str) -> str:
    if record_kind not in KINDS:
        abort(404)
    return record_kind


@bp.route("/duplicates/<record_kind>")
@permission_required(MANAGE)
def find_duplicates(record_kind: str):
    """A page of likely duplicate pairs; ``?after=`` (the previous page's cursor) goes on."""
    record_kind = _kind_or_404(record_kind)
    cursor = request.args.get("after") or None
    page = service.scan(record_kind, current_user, cursor)
    rows = [{"pair": pair, "reason": REASONS[pair.kind.reason], "key": shown_key(pair),
             "merge_url": merge_url(record_kind, *pair.ids) if pair.kind.mergeable else None}
            for pair in page.pairs]
    return render_template("crm/duplicates/list.html", record_kind=record_kind, rows=rows,
                           next_cursor=page.next_cursor, first_page=cursor is None,
                           merge_available=page_link(MERGE_ENDPOINTS[record_kind]) is not None)


def _pair_or_404(record_kind: str):
    """The two records ``a`` and ``b`` name, both within the user's scope (404 otherwise);
    None when no pair is named."""
    first, second = id_arg("a", request.values), id_arg("b", request.values)
    if first is None or second is None or first == second:
        return None
    records = [service.get_record_or_none(record_kind, ident, current_user)
               for ident in (first, second)]
    if any(record is None for record in records):
        abort(404)
    return records


@bp.route("/duplicates/<record_kind>/dismiss", methods=["GET", "POST"])
@permission_required(MANAGE)
def dismiss_duplicate(record_kind: str):
    """GET: "Not a duplicate?" with both records named; POST (confirmed): dismissed for
    good. Both records must be within the user's scope (404 otherwise)."""
    record_kind = _kind_or_404(record_kind)
    back = url_for("crm.find_duplicates", record_kind=record_kind)
    pair = _pair_or_404(record_kind)
    if pair is None:  # no pair named: back to the list (a POST: bad input)
        if request.method == "POST":
            abort(400)
        return redirect(back)
    first, second = pair
    if request.method == "GET":
        return render_template("crm/duplicates/confirm_dismiss.html", record_kind=record_kind,
                               first=first, second=second, back=back, form=PostForm())
    return post_action(lambda: service.dismiss(record_kind, first.id, second.id, current_user),
                       _("Marked as not a duplicate: this pair will not be proposed again."),
                       back)


@bp.cli.command("duplicates-rebuild")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Only accounts or only contacts (default: both).")
@click.option("--after", type=int, default=0, help="Resume after this id.")
@click.option("--batch", type=int, default=500, show_default=True)
def duplicates_rebuild(kind: str | None, after: int, batch: int) -> None:
    """Find the similar-name pairs of every account and contact again (crm 0021, after a
    migration or an import that wrote the tables directly), in committed batches: when
    interrupted, run it again with --after the last id it printed."""
    for record_kind in (kind,) if kind else KINDS:
        service.rebuild_candidates(record_kind, after, batch, progress=lambda last, n, k=(
            record_kind): click.echo(f"{k}: up to id {last}, {n} pairs"))
