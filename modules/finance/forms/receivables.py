"""A receivable entered by hand (the account page's Create → Receivable): it collects;
services/receivables.py decides."""

from flask_wtf import FlaskForm
from wtforms import StringField

from erp.i18n import module_i18n

from ..services.receivables import DOCUMENT_LENGTH

_l = module_i18n(__name__).lazy_gettext

# Dates are date inputs, as in the other forms (sales, service, CRM): the browser shows its
# own format hint (dd/mm/aaaa in pt-BR), not a date that looks filled in (issue 17).


class ReceivableForm(FlaskForm):  # FlaskForm: the CSRF token is checked on POST
    document = StringField(_l("Document"), render_kw={"maxlength": DOCUMENT_LENGTH - 8},
                           description=_l("E.g. the contract or bill number."))
    issue_date = StringField(_l("Issue date"), render_kw={"type": "date"})
    due_date = StringField(_l("Due date"), render_kw={"type": "date"},
                           description=_l("Of the first installment; the next ones are "
                                          "a month apart."))
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"},
                         description=_l("The total, split evenly among the installments."))
    installments = StringField(_l("Installments"), default="1",
                               render_kw={"inputmode": "numeric"})
