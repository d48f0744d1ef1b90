"""CRM models. Importing this package registers every CRM table on the shared metadata."""

from .account import LIFECYCLE_CUSTOMER, LIFECYCLE_PROSPECT, Account, Category, account_tags
from .action import ACTION_KINDS, Action
from .contact import AccountContact, Contact
from .draft import OpportunityDraft
from .duplicates import DuplicateDismissal, DuplicateKey
from .events import AccountEvent
from .funnel_month import FunnelMonth, FunnelStayMonth
from .lookup_cache import CnpjLookup
from .loss_month import LossMonth
from .merge import MergeLog
from .pipeline import (
    CONTACT_MEDIA,
    STATUS_LOST,
    STATUS_OPEN,
    STATUS_WON,
    STATUSES,
    LossReason,
    Opportunity,
    OpportunityChange,
    OpportunityItem,
    OpportunityStay,
    Stage,
    opportunity_tags,
    opportunity_watchers,
)
from .pipeline_total import PipelineTotal
from .search_words import account_vocabulary, account_word
from .service_type import ServiceType
from .tag import Tag

__all__ = [
    "ACTION_KINDS",
    "CONTACT_MEDIA",
    "LIFECYCLE_CUSTOMER",
    "STATUS_LOST",
    "STATUS_OPEN",
    "STATUS_WON",
    "STATUSES",
    "Action",
    "AccountEvent",
    "DuplicateDismissal",
    "DuplicateKey",
    "FunnelMonth",
    "FunnelStayMonth",
    "LossMonth",
    "LossReason",
    "Opportunity",
    "OpportunityChange",
    "OpportunityDraft",
    "OpportunityItem",
    "OpportunityStay",
    "PipelineTotal",
    "ServiceType",
    "Stage",
    "opportunity_tags",
    "opportunity_watchers",
    "LIFECYCLE_PROSPECT",
    "Account",
    "account_vocabulary",
    "account_word",
    "AccountContact",
    "Category",
    "CnpjLookup",
    "MergeLog",
    "Contact",
    "Tag",
    "account_tags",
]
