"""Contacts (people) and their links to accounts, each link with the person's role there."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import TimestampMixin, db, utcnow
from erp.i18n import module_i18n

from .. import labels
from . import search_text
from .account import Account
from .phones import PhoneNumbers
from .search_index import install_search_index

_l = module_i18n(__name__).lazy_gettext


class Contact(Audited, PhoneNumbers, TimestampMixin, db.Model):
    __tablename__ = "crm_contact"
    __audit_name__ = _l("Contact")
    __audit_labels__ = labels.CONTACT_FIELDS
    __audit_ignore__ = ("search_text",)  # derived from the others
    __table_args__ = (
        # The contacts list by name, read in order, the id last for keyset paging
        # (crm 0008, issue 15). Not led by archived (few are): an equality on it would
        # make this index look best to lists in id order (the API's), then sorted.
        Index("ix_crm_contact_name", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(120))  # job title
    # The system the person uses today (seed 002, "Sistema atual"; crm 0015, issue 17).
    current_system: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    archived: Mapped[bool] = mapped_column(default=False)
    # The contact this one was merged into (kept archived): crm 0017.
    merged_into_id: Mapped[int | None] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    account_links: Mapped[list[AccountContact]] = relationship(
        back_populates="contact", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    def __str__(self) -> str:
        return self.name

    def compute_search_text(self) -> str:
        return search_text.build([self.name, *self.phone_keys(), self.email])


class AccountContact(db.Model):
    """A contact works with an account, in a role ("Compras", "Diretor financeiro"...)."""

    __tablename__ = "crm_account_contact"

    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id, ondelete="CASCADE"),
                                            primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey(Contact.id, ondelete="CASCADE"),
                                            primary_key=True, index=True)
    role: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account] = relationship(back_populates="contact_links")
    contact: Mapped[Contact] = relationship(back_populates="account_links")


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _refresh_contact_search_text(mapper, connection, contact: Contact) -> None:
    contact.search_text = contact.compute_search_text()


install_search_index(Contact.__table__)
