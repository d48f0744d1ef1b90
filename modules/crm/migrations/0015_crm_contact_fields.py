"""crm: the fields the daily use asks for: the contact's current system, the
opportunity's kind of attendance from a list (issue 17, point 12)

* ``crm_contact.current_system``: the system the person uses today (seed 002's
  "Sistema atual"); empty for the existing contacts.
* ``crm_opportunity.service_type`` becomes a key of seed 002's list ("Tipo de
  atendimento": sales, first_contact, demonstration, visit, proposal, negotiation,
  post_sale, other), shown translated. The free text typed so far is migrated: a text
  that names a kind (its key, or its name in Portuguese or English, case and accents
  aside) becomes that key; any other text becomes ``other`` with the text kept in the new
  ``service_type_other``, so nothing is lost and it still shows.

The way back puts each key's Portuguese name (or the kept text) back as free text.

Revision ID: 0015_crm_contact_fields
Revises: 0014_crm_funnel_cycle
Create Date: 2026-11-30 02:30:00
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0015_crm_contact_fields"
down_revision = "0014_crm_funnel_cycle"
branch_labels = None
depends_on = None

# Each kind's key -> the names a user may have typed for it (the first is its Portuguese
# name, written back on the way down). Fixed here: the migration means what it meant.
KINDS = {
    "sales": ("Acompanhamento de vendas", "Sales follow-up", "vendas", "venda",
              "follow-up", "follow up", "followup", "sales"),
    "first_contact": ("Primeiro contato", "First contact", "prospeccao", "prospecção"),
    "demonstration": ("Demonstração", "Demonstration", "demo", "apresentacao",
                      "apresentação"),
    "visit": ("Visita", "Visit", "visita comercial", "visita tecnica", "visita técnica"),
    "proposal": ("Proposta", "Proposal", "orçamento", "orcamento"),
    "negotiation": ("Negociação", "Negotiation"),
    "post_sale": ("Pós-venda", "After-sales", "pos venda", "pós venda", "posvenda",
                  "after sales"),
    "other": ("Outro", "Other", "outros"),
}


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_-]+", " ", plain.lower()).strip()


def _key_of(value: str) -> str | None:
    typed = _fold(value)
    for key, names in KINDS.items():
        if typed in {_fold(key), *(_fold(name) for name in names)}:
            return key
    return None


def upgrade():
    op.add_column("crm_contact", sa.Column("current_system", sa.String(length=120),
                                           nullable=True))
    op.add_column("crm_opportunity", sa.Column("service_type_other", sa.String(length=80),
                                               nullable=True))
    bind = op.get_bind()
    typed = [row[0] for row in bind.execute(sa.text(
        "SELECT DISTINCT service_type FROM crm_opportunity WHERE service_type IS NOT NULL"))]
    for value in typed:  # a few distinct texts: one statement each
        key = _key_of(value) if value.strip() else None
        if value.strip() and key is None:
            key, other = "other", value.strip()[:80]
        else:
            other = None
        bind.execute(sa.text(
            "UPDATE crm_opportunity SET service_type = :key, service_type_other = :other"
            # (not the rows an earlier text already made "other" with their text)
            " WHERE service_type = :value AND service_type_other IS NULL"),
            {"key": key, "other": other, "value": value})


def downgrade():
    bind = op.get_bind()
    for key, names in KINDS.items():
        bind.execute(sa.text(
            "UPDATE crm_opportunity SET service_type = COALESCE(service_type_other, :name)"
            " WHERE service_type = :key"), {"key": key, "name": names[0]})
    op.drop_column("crm_opportunity", "service_type_other")
    op.drop_column("crm_contact", "current_system")
