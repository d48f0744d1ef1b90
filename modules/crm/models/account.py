"""Accounts: the companies (PJ) and people (PF) the business deals with."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import Base, TimestampMixin, db
from erp.i18n import module_i18n

from .. import labels
from ..services.validation import format_tax_id
from . import search_text
from .phones import PhoneNumbers
from .search_index import install_search_index
from .tag import Tag

_l = module_i18n(__name__).lazy_gettext

LIFECYCLE_PROSPECT, LIFECYCLE_CUSTOMER = "prospect", "customer"
LIFECYCLES = (LIFECYCLE_PROSPECT, LIFECYCLE_CUSTOMER)

account_tags = Table(
    "crm_account_tag",
    Base.metadata,
    Column("account_id", ForeignKey("crm_account.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("crm_tag.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Category(db.Model):
    """A grouping of accounts chosen by the company (e.g. "Indústria", "Varejo")."""

    __tablename__ = "crm_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    def __str__(self) -> str:
        return self.name


class Account(Audited, PhoneNumbers, TimestampMixin, db.Model):
    __tablename__ = "crm_account"
    __audit_name__ = _l("Account")
    __audit_labels__ = labels.ACCOUNT_FIELDS
    __audit_choices__ = labels.ACCOUNT_CHOICES
    # Derived from the others:
    __audit_ignore__ = ("search_text", "search_words", "tax_id_root", "name_key")
    __table_args__ = (
        Index("ix_crm_account_archived_legal_name", "archived", "legal_name"),
        # The list's "last changed" and "newest" sorts (updated_at DESC, id DESC; id DESC),
        # read in index order within the active (or the archived) accounts.
        Index("ix_crm_account_archived_updated", "archived", "updated_at", "id"),
        Index("ix_crm_account_archived_id", "archived", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_type: Mapped[str] = mapped_column(String(2), default="PJ")
    legal_name: Mapped[str] = mapped_column(String(200))
    trade_name: Mapped[str | None] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(60))
    # Normalized: upper case, no punctuation (alphanumeric CNPJ included).
    tax_id: Mapped[str | None] = mapped_column(String(14), unique=True)
    # The first 8 characters of a CNPJ: the company, whatever the branch.
    tax_id_root: Mapped[str | None] = mapped_column(String(8), index=True)
    # The legal name as duplicates compare it (models/duplicates.py: name_key), kept on save.
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)
    state_registration: Mapped[str | None] = mapped_column(String(20))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_category.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    lifecycle: Mapped[str] = mapped_column(String(10), default=LIFECYCLE_PROSPECT, index=True)
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    website: Mapped[str | None] = mapped_column(String(255))
    cep: Mapped[str | None] = mapped_column(String(8))
    street: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    main_activity: Mapped[str | None] = mapped_column(String(255))
    registry_status: Mapped[str | None] = mapped_column(String(40))
    opened_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # Its code in the system it was imported from (the "Código"/"ID" of an Omie, Tiny or
    # Bling export): a re-import finds the account by it first (issue 19, crm 0019).
    external_ref: Mapped[str | None] = mapped_column(String(60))
    # The account this one was merged into (kept archived; its page leads there): crm 0017.
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Its runs of letters, for the words' index in name order (models/search_words.py).
    search_words: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    category: Mapped[Category | None] = relationship(lazy="joined")
    tags: Mapped[list[Tag]] = relationship(secondary=account_tags, lazy="selectin",
                                           order_by=Tag.name)
    contact_links: Mapped[list[AccountContact]] = relationship(  # noqa: F821
        back_populates="account", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.trade_name or self.legal_name

    @property
    def distinct_name(self) -> str:
        """For reports, where two accounts with the same trade name must be told apart: the
        legal name, after the trade name when that differs ("Silva — Silva Peças Ltda.")."""
        if self.trade_name and self.trade_name != self.legal_name:
            return f"{self.trade_name} — {self.legal_name}"
        return self.legal_name

    @property
    def tax_id_formatted(self) -> str:
        return format_tax_id(self.tax_id) if self.tax_id else ""

    @property
    def is_customer(self) -> bool:
        return self.lifecycle == LIFECYCLE_CUSTOMER

    def compute_search_text(self) -> str:
        return search_text.build([self.legal_name, self.trade_name, self.short_name,
                                  self.tax_id, *self.phone_keys(), self.email])


@event.listens_for(Account, "before_insert")
@event.listens_for(Account, "before_update")
def _refresh_account_search_text(mapper, connection, account: Account) -> None:
    account.search_text = account.compute_search_text()
    account.search_words = search_text.words(account.search_text)


install_search_index(Account.__table__)


def external_ref_index(column) -> Index:
    """The index of a record's external reference (crm 0019), named for the look-up that
    names it (services/external_refs.py: external_ref_in). Not partial: SQLite keeps no
    statistics for an empty partial index, and then plans the table's other queries as
    if it had a thousand rows (a table of a few, before an import grows it, was then read
    whole for each batch)."""
    return Index(f"ix_{column.table.name}_external_ref", column)


external_ref_index(Account.__table__.c.external_ref)
