"""The CNPJ lookup as JSON, for the account form's "Look up" button."""

from flask import jsonify, request

from erp.auth import permission_required

from ..permissions import WRITE
from ..services.lookup import lookup_cnpj, result_to_json
from . import bp


@bp.route("/lookup/cnpj")
@permission_required(WRITE)
def lookup():
    result = lookup_cnpj(request.args.get("cnpj", ""),
                         refresh=request.args.get("refresh") == "1")
    body, status = result_to_json(result)
    return jsonify(body), status
