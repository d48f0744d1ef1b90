"""crm: the accounts' words in name order, for a list searched for a common word (issue 15)

``crm_account.search_words``: the runs of letters of each account's search text, filled
here from ``search_text`` and kept on save from now on. ``crm_account_word``: a row per
account and word, keyed by the word, the legal name and the id, and indexed by the word,
the owner, the name and the id; ``crm_account_vocabulary``: the words, with a trigram
index. Both are kept by triggers on ``crm_account`` (a plpgsql function on PostgreSQL),
which fill them here as the words are filled. The way back drops them all.

Revision ID: 0025_crm_account_words
Revises: 0024_crm_loss_month
Create Date: 2026-11-30 15:00:00
"""

import sqlalchemy as sa
from alembic import op

from modules.crm.models.search_index import postgresql_statements, sqlite_statements
from modules.crm.models.search_text import words
from modules.crm.models.search_words import DROP_STATEMENTS, trigger_statements

revision = "0025_crm_account_words"
down_revision = "0024_crm_loss_month"
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.add_column("crm_account", sa.Column("search_words", sa.Text(), nullable=False,
                                           server_default=""))
    op.create_table(
        "crm_account_vocabulary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_account_vocabulary")),
        sa.UniqueConstraint("word", name=op.f("uq_crm_account_vocabulary_word")),
    )
    index = sqlite_statements if dialect == "sqlite" else postgresql_statements
    for statement in index("crm_account_vocabulary", "word"):
        op.execute(statement)
    op.create_table(
        "crm_account_word",
        sa.Column("word", sa.String(length=200), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word", "legal_name", "account_id",
                                name=op.f("pk_crm_account_word")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_crm_account_word_owner", "crm_account_word",
                    ["word", "owner_id", "legal_name", "account_id"])
    # The triggers, then the words from the search text in batches by id: each account's
    # update fills its rows and the vocabulary through them, as a save would.
    for statement in trigger_statements(dialect):
        op.execute(statement)
    accounts = sa.table("crm_account", sa.column("id", sa.Integer),
                        sa.column("search_text", sa.Text), sa.column("search_words", sa.Text))
    last = 0
    while True:
        rows = bind.execute(sa.select(accounts.c.id, accounts.c.search_text)
                            .where(accounts.c.id > last).order_by(accounts.c.id)
                            .limit(BATCH)).all()
        if not rows:
            break
        filled = [{"row_id": row.id, "words": words(row.search_text)} for row in rows]
        filled = [row for row in filled if row["words"]]
        if filled:  # a batch of accounts without a word: nothing to write
            bind.execute(accounts.update().where(accounts.c.id == sa.bindparam("row_id"))
                         .values(search_words=sa.bindparam("words")), filled)
        last = rows[-1].id
    op.execute("ANALYZE crm_account_word")


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in DROP_STATEMENTS[dialect]:
        op.execute(statement)
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS crm_account_vocabulary_fts")
    op.drop_table("crm_account_word")
    op.drop_table("crm_account_vocabulary")
    # In place (SQLite 3.35+): a rebuild of the accounts' table would drop its triggers.
    op.execute("ALTER TABLE crm_account DROP COLUMN search_words")
