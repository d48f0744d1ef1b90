from flask import Blueprint, render_template

from erp.auth import permission_required

from .permissions import READ

bp = Blueprint("service", __name__, url_prefix="/service", template_folder="templates")


@bp.route("/")
@permission_required(READ)
def index():
    return render_template("service/index.html")
