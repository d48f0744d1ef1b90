"""The accounts' words in name order, for a list searched for a common word and sorted
by name (issue 15).

The trigram index (models/search_index.py) finds every account containing "silva", but
in no useful order: a page sorted by name had to gather all of them (5,822 at 200,000
accounts) and sort them, and walking the name index instead read every name before the
first match ("Almeida…", "Alves…" before "Ana … Silva"). Here each account has a row per
word of its search text (``Account.search_words``: its runs of letters) keyed by the
word, then its legal name and id, so the accounts having one word come in name order
from an index (and by word and owner, for a user who sees some owners' accounts only);
and a vocabulary of those words, with its own trigram index, tells which
words contain a term (services/name_walk.py).

Both tables are kept by the database, in the transaction of each write to an account
(SQLite triggers; a plpgsql function on PostgreSQL), whatever writes it: the ORM, the
bulk import or SQL. A word no account has any more stays in the vocabulary; it costs a
look-up that finds no account.
"""

from __future__ import annotations

from sqlalchemy import DDL, Column, Index, Integer, PrimaryKeyConstraint, String, Table, event

from erp.db import db

from .account import Account
from .search_index import install_search_index

account_word = Table(
    "crm_account_word", db.metadata,
    Column("word", String(200), nullable=False),
    Column("legal_name", String(200), nullable=False),
    Column("account_id", Integer, nullable=False),
    Column("owner_id", Integer, nullable=False),
    PrimaryKeyConstraint("word", "legal_name", "account_id", name="pk_crm_account_word"),
    # A user's (or team's) accounts having a word, in name order: a rep's matches may all
    # sit among the others' in name order (a whole range of names owned by someone else).
    Index("ix_crm_account_word_owner", "word", "owner_id", "legal_name", "account_id"),
    sqlite_with_rowid=False,
)

account_vocabulary = Table(
    "crm_account_vocabulary", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("word", String(200), nullable=False, unique=True),
)
install_search_index(account_vocabulary, "word")


def _sqlite_words(row: str) -> str:
    """The words of ``row`` (new or old) as a table: its space-separated letters-only
    ``search_words`` made a JSON array (no quote or backslash can be in them)."""
    return (f"json_each('[\"' || replace({row}.search_words, ' ', '\",\"') || '\"]') "
            f"WHERE {row}.search_words != ''")


_SQLITE_ADD = (  # names from this module
    "INSERT OR IGNORE INTO crm_account_vocabulary (word) SELECT value FROM "  # noqa: S608  # nosec B608
    + _sqlite_words("new") + "; "
    "INSERT INTO crm_account_word (word, legal_name, account_id, owner_id) "
    "SELECT value, new.legal_name, new.id, new.owner_id FROM " + _sqlite_words("new") + ";"
)
_SQLITE_REMOVE = (  # names from this module
    "DELETE FROM crm_account_word WHERE account_id = old.id AND legal_name = old.legal_name "  # noqa: S608  # nosec B608
    "AND word IN (SELECT value FROM " + _sqlite_words("old") + ");"
)

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER crm_account_words_ai AFTER INSERT ON crm_account BEGIN {_SQLITE_ADD} END",
    "CREATE TRIGGER crm_account_words_au AFTER UPDATE OF search_words, legal_name, owner_id "
    f"ON crm_account BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    f"CREATE TRIGGER crm_account_words_ad AFTER DELETE ON crm_account BEGIN {_SQLITE_REMOVE} END",
]

POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION crm_account_words() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN "
    "DELETE FROM crm_account_word WHERE account_id = OLD.id AND legal_name = OLD.legal_name "
    "AND word = ANY (string_to_array(OLD.search_words, ' ')); END IF; "
    "IF TG_OP <> 'DELETE' THEN "
    "INSERT INTO crm_account_vocabulary (word) "
    "SELECT unnest(string_to_array(NEW.search_words, ' ')) ON CONFLICT DO NOTHING; "
    "INSERT INTO crm_account_word (word, legal_name, account_id, owner_id) "
    "SELECT unnest(string_to_array(NEW.search_words, ' ')), NEW.legal_name, NEW.id, "
    "NEW.owner_id; "
    "END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER crm_account_words AFTER INSERT OR DELETE OR UPDATE OF search_words, "
    "legal_name, owner_id ON crm_account FOR EACH ROW EXECUTE FUNCTION crm_account_words()",
]

DROP_STATEMENTS = {
    "sqlite": [f"DROP TRIGGER IF EXISTS crm_account_words_{suffix}"
               for suffix in ("ai", "au", "ad")],
    "postgresql": ["DROP TRIGGER IF EXISTS crm_account_words ON crm_account",
                   "DROP FUNCTION IF EXISTS crm_account_words()"],
}


def trigger_statements(dialect: str) -> list[str]:
    return SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS


# With the words' table, created after the accounts' (a trigger's body names tables that
# are only read when it fires).
account_word.add_is_dependent_on(Account.__table__)
for _dialect in ("sqlite", "postgresql"):
    for _statement in trigger_statements(_dialect):
        event.listen(account_word, "after_create", DDL(_statement).execute_if(dialect=_dialect))
for _statement in DROP_STATEMENTS["postgresql"]:
    event.listen(account_word, "before_drop", DDL(_statement).execute_if(dialect="postgresql"))
