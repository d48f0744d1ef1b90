"""The sales pipeline: stages, loss reasons, opportunities with items, and their history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import Base, TimestampMixin, db, utcnow
from erp.i18n import module_i18n
from erp.money import Money, Quantity

from .. import labels
from .account import Account, external_ref_index
from .contact import Contact
from .service_type import ServiceType
from .tag import Tag

_l = module_i18n(__name__).lazy_gettext

STATUS_OPEN, STATUS_WON, STATUS_LOST = "open", "won", "lost"
STATUSES = (STATUS_OPEN, STATUS_WON, STATUS_LOST)

# Where the opportunity came from (seed 002, "Meio de contato").
CONTACT_MEDIA = ("event", "ad", "social", "telemarketing", "website", "referral", "email",
                 "phone", "other")

opportunity_tags = Table(
    "crm_opportunity_tag",
    Base.metadata,
    Column("opportunity_id", ForeignKey("crm_opportunity.id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag_id", ForeignKey("crm_tag.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)

opportunity_watchers = Table(
    "crm_opportunity_watcher",
    Base.metadata,
    Column("opportunity_id", ForeignKey("crm_opportunity.id", ondelete="CASCADE"),
           primary_key=True),
    Column("user_id", ForeignKey(User.id, ondelete="CASCADE"), primary_key=True, index=True),
)


class Stage(db.Model):
    """A step of the funnel, configured by the sales manager (seed 001: at most five)."""

    __tablename__ = "crm_stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=10)
    description: Mapped[str | None] = mapped_column(String(255))

    def __str__(self) -> str:
        return self.name


class LossReason(db.Model):
    """Why a deal was lost ("preço muito alto"...). In use: archive it, never delete."""

    __tablename__ = "crm_loss_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self) -> str:
        return self.name


class Opportunity(Audited, TimestampMixin, db.Model):
    """A subject being negotiated with an account (seed 001 "assunto", 002 "contato de venda")."""

    __tablename__ = "crm_opportunity"
    __audit_name__ = _l("Opportunity")
    __audit_labels__ = labels.OPPORTUNITY_FIELDS
    __audit_choices__ = labels.OPPORTUNITY_CHOICES
    __table_args__ = (
        Index("ix_crm_opportunity_stage_status", "stage_id", "status", "archived"),
        Index("ix_crm_opportunity_account_created", "account_id", "id"),
        Index("ix_crm_opportunity_next_contact", "next_contact_user_id", "next_contact_on"),
        Index("ix_crm_opportunity_internal_contact", "internal_contact_user_id",
              "internal_contact_on"),
        # The list's sorts, read in order within a status (open by default) and archived,
        # the id last for keyset paging (crm 0008, issue 15).
        Index("ix_crm_opportunity_list_created", "status", "archived", "id"),
        Index("ix_crm_opportunity_list_title", "status", "archived", "title", "id"),
        Index("ix_crm_opportunity_list_value", "status", "archived", "estimated_value", "id"),
        Index("ix_crm_opportunity_list_close", "status", "archived", "expected_close_on",
              "id"),
        Index("ix_crm_opportunity_list_next", "status", "archived", "next_contact_on", "id"),
        # The funnel's columns (issue 15): their count and value summed from the index
        # alone (the cards' index follows the class).
        Index("ix_crm_opportunity_open_totals", "status", "archived", "stage_id", "owner_id",
              "estimated_value"),
        # The funnel report's cohort, the opportunities created in a period, counted by
        # (stage, status, furthest stage their history reached) from the index alone: one
        # created_at range per such triple, read in the GROUP BY's order (crm 0013), the
        # won ones' cycle summed as it is (crm 0014).
        Index("ix_crm_opportunity_funnel_report", "stage_id", "status", "furthest_stage_id",
              "created_at", "owner_id", "estimated_value", "cycle_days"),
        # The loss reasons report: the opportunities closed (lost) in a period, read from
        # the index alone (crm 0009).
        # Grouped by the stage where it was lost (crm 0018), not the one it stands in now.
        Index("ix_crm_opportunity_closed", "status", "closed_at", "owner_id", "loss_reason_id",
              "lost_stage_id", "estimated_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey(Contact.id, ondelete="SET NULL"))
    stage_id: Mapped[int] = mapped_column(ForeignKey(Stage.id))
    owner_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    status: Mapped[str] = mapped_column(String(8), default=STATUS_OPEN)
    loss_reason_id: Mapped[int | None] = mapped_column(ForeignKey(LossReason.id), index=True)
    loss_note: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_note: Mapped[str | None] = mapped_column(Text)  # "assunto atual"
    # The kind of attendance (seed 002, "Tipo de atendimento"): one of the company's
    # configured list (crm 0020, issue 17). A type in use is deactivated, never deleted:
    # the key refuses it (NO ACTION, the default: as RESTRICT, within the statement).
    service_type_id: Mapped[int | None] = mapped_column(ForeignKey(ServiceType.id),
                                                        index=True)
    contact_medium: Mapped[str | None] = mapped_column(String(20))
    source_campaign: Mapped[str | None] = mapped_column(String(120))
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    estimated_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    next_contact_user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    next_contact_on: Mapped[date | None] = mapped_column(Date)
    internal_contact_user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    internal_contact_on: Mapped[date | None] = mapped_column(Date)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its code in the system it was imported from: a re-import updates it (issue 19; its
    # index: see account.py).
    external_ref: Mapped[str | None] = mapped_column(String(60))
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The funnel report's summary of the history (crm 0012, issue 15): the stage that,
    # of those its "created" and "stage" rows name, comes furthest in today's funnel
    # (names and order as they are now). Kept by services/funnel_summary.py, never set
    # by hand.
    furthest_stage_id: Mapped[int | None] = mapped_column(Integer)
    # And, when won, its cycle: the days from created_at to closed_at (crm 0014), so the
    # report sums them instead of reading two timestamps of every won opportunity.
    cycle_days: Mapped[float | None] = mapped_column(Float)
    # The stage it stood in when it was lost (crm 0018, issue 19): set by the status
    # service at the loss, cleared when reopened; the losses report groups by it. A plain
    # id like furthest_stage_id (deleting a stage moves it with the opportunities).
    lost_stage_id: Mapped[int | None] = mapped_column(Integer)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)
    contact: Mapped[Contact | None] = relationship()
    stage: Mapped[Stage] = relationship(lazy="joined", innerjoin=True)
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined", innerjoin=True)
    loss_reason: Mapped[LossReason | None] = relationship()
    service_type: Mapped[ServiceType | None] = relationship()
    next_contact_user: Mapped[User | None] = relationship(foreign_keys=[next_contact_user_id])
    internal_contact_user: Mapped[User | None] = relationship(
        foreign_keys=[internal_contact_user_id])
    items: Mapped[list[OpportunityItem]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan",
        order_by="OpportunityItem.position")
    tags: Mapped[list[Tag]] = relationship(secondary=opportunity_tags, lazy="selectin",
                                           order_by=Tag.name)
    watchers: Mapped[list[User]] = relationship(secondary=opportunity_watchers)

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == STATUS_OPEN

    def compute_estimated_value(self) -> Decimal:
        """The sum of the items (seed 002: the value is computed, never typed)."""
        return sum((item.total for item in self.items), Decimal("0")).quantize(Decimal("0.01"))


# The funnel (issue 15): a column's cards read in the column's order (the kanban's sort,
# modules/crm/views/funnel.py), LIMIT before any join; the owner, last, lets the record
# scope be checked in the index.
Index("ix_crm_opportunity_funnel_cards", Opportunity.stage_id, Opportunity.status,
      Opportunity.archived, Opportunity.priority.desc(), Opportunity.next_contact_on.is_(None),
      Opportunity.next_contact_on, Opportunity.id.desc(), Opportunity.owner_id)


external_ref_index(Opportunity.__table__.c.external_ref)  # a re-import's look-up (crm 0019)


class OpportunityItem(db.Model):
    """A product or service being negotiated: description, quantity, unit price."""

    __tablename__ = "crm_opportunity_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey(Opportunity.id, ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("1"))
    unit_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

    opportunity: Mapped[Opportunity] = relationship(back_populates="items")

    @property
    def total(self) -> Decimal:
        return (Decimal(self.quantity) * Decimal(self.unit_price)).quantize(Decimal("0.01"))


class OpportunityChange(db.Model):
    """One recorded change (stage, status, owner, value): who, when, old → new."""

    __tablename__ = "crm_opportunity_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey(Opportunity.id, ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(20))  # "created", "stage", "status", ...
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    # A "created" or "stage" row: the stage it put the opportunity in, by id (crm 0018,
    # issue 19), so a renamed stage keeps its history; new_value keeps the name as it was,
    # for display. NULL when the stage was deleted (or an old row named no stage).
    stage_id: Mapped[int | None] = mapped_column(ForeignKey(Stage.id, ondelete="SET NULL"))

    user: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_crm_opportunity_change_opportunity_at", "opportunity_id", "at"),
        Index("ix_crm_opportunity_change_account_at", "account_id", "at", "id"),
    )


class OpportunityStay(db.Model):
    """The funnel report's summary of an opportunity's time in a stage (crm 0012, issue 15),
    computed from its history by services/funnel_summary.py, never written by hand.

    One row per opportunity and stage (by id, crm 0018: a renamed stage keeps its stays)
    in which it spent time while open: ``days``, the total of its stays there that have
    ended; ``since``, the start of the one going on now, if any (it runs to the
    report's "as of"). The opportunity's ``created_at`` and ``owner_id`` are copied, so
    the report reads a period's rows in the viewer's scope from the covering index
    alone, one created_at range per stage, in the GROUP BY's order (crm 0013)."""

    __tablename__ = "crm_opportunity_stay"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey(Opportunity.id, ondelete="CASCADE"), primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey(Stage.id, ondelete="CASCADE"),
                                          primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    owner_id: Mapped[int] = mapped_column(Integer)
    days: Mapped[float] = mapped_column(Float, default=0.0)
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_crm_opportunity_stay_report", "stage_id", "created_at", "owner_id",
              "days", "since"),
    )
