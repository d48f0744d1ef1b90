"""Duplicates (issues 17 and 18): accounts with a similar name, contacts with the same
e-mail or phone when one is saved, and the scan of existing records for likely pairs.

Similar names: the name keys (models/duplicates.py: accents, case, punctuation and
company-type suffixes gone) compared by pg_trgm's trigram similarity, at or above
``CRM_SIMILAR_NAME_THRESHOLD`` (0.6 by default). The candidates come from the search's
trigram index (the FTS5 table on SQLite, pg_trgm's GIN index on PostgreSQL): the accounts
whose search text holds the name's longest words (with three words or more, any two of
the three longest: one misspelt word still finds them), newest first, at most
``NAME_CANDIDATES``.

The scan reads ``crm_duplicate_key``'s keys held by two or more records, kind by kind in
order of confidence, and each page's records by their indexed key columns: its cost is
the duplicates it walks, not the table's size; a page costs a bounded number of queries.

Similar names that are not equal (issue 18): ``crm_duplicate_candidate`` holds the pairs,
scored, found by the same trigram look-up as the warning, one look-up per account created
or renamed (by the worker once the change commits: :func:`_refresh_at_commit`), and for the
existing accounts by :func:`rebuild_candidates` (``flask --app erp crm
duplicates-rebuild``, in batches, resumable). Contacts: the contacts of the same account
with similar names, kept the same way. The scan reads the pairs best score first.
"""

from .candidates import rebuild_candidates, refresh_candidates, refresh_candidates_task
from .contacts import check_contact_duplicates, contact_duplicate_checks, find_contact_duplicates
from .names import (
    DEFAULT_THRESHOLD,
    NAME_CANDIDATES,
    name_candidates,
    name_duplicates,
    similar_names,
    threshold,
)
from .scan import (  # the private ones for the structural tests and the benchmark
    SCAN_PAGE,
    Pair,
    ScanKind,
    ScanPage,
    _candidates_select,
    _groups_select,
    _kinds,
    _members_select,
    _model,
    _visible,
    decode_cursor,
    dismiss,
    encode_cursor,
    get_record_or_none,
    scan,
)

__all__ = [
    "DEFAULT_THRESHOLD", "NAME_CANDIDATES", "SCAN_PAGE", "Pair", "ScanKind", "ScanPage",
    "_candidates_select", "_groups_select", "_kinds", "_members_select", "_model", "_visible",
    "check_contact_duplicates", "contact_duplicate_checks", "decode_cursor", "dismiss",
    "encode_cursor", "find_contact_duplicates", "get_record_or_none", "name_candidates",
    "name_duplicates", "rebuild_candidates", "refresh_candidates", "refresh_candidates_task",
    "scan", "similar_names", "threshold",
]
