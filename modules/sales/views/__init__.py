"""Sales pages: thin routes over the services (parse, call, render), one file per entity.
Every route checks a permission and the record scope of the document's account (404
outside it); bad input is a 422 form, a refused button a flash and a 303."""

from flask import Blueprint, redirect, url_for

from erp.auth import permission_required

from ..permissions import READ

bp = Blueprint("sales", __name__, url_prefix="/sales", template_folder="../templates",
               static_folder="../static")


@bp.route("/")
@permission_required(READ)
def index():
    return redirect(url_for("sales.quotes"))


# The routes of each entity: imported last, they add themselves to ``bp``.
from . import catalog, invoices, orders, quotes  # noqa: E402, F401
