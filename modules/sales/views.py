from flask import Blueprint, render_template

from erp.auth import permission_required

from .permissions import READ

bp = Blueprint("sales", __name__, url_prefix="/sales", template_folder="templates")


@bp.route("/")
@permission_required(READ)
def index():
    return render_template("sales/index.html")
