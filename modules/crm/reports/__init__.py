"""The CRM reports: actions (by user and type), the funnel, and the loss reasons.

Each is a page with filters, an SVG chart, the figures table and its CSV export, listed
on the host's Reports page. Figures come from aggregate queries (GROUP BY, window
functions): the number of queries does not grow with the number of rows.
"""

from erp.i18n import module_i18n
from erp.registry import Report

from ..permissions import READ

_l = module_i18n(__name__).lazy_gettext

ACTIONS = Report(
    "crm.actions", _l("CRM actions"), "crm_reports.actions", permission=READ, order=10,
    description=_l("Actions by user and type over a period: done, planned and overdue."))
FUNNEL = Report(
    "crm.funnel", _l("Opportunity funnel"), "crm_reports.funnel", permission=READ, order=20,
    description=_l("Per stage: opportunities reached, value, conversion to the next stage "
                   "and days in stage; win rate and cycle time."))
LOSSES = Report(
    "crm.losses", _l("Loss reasons"), "crm_reports.losses", permission=READ, order=30,
    description=_l("Lost opportunities and their value by reason and by stage."))
