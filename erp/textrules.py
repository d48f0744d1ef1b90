"""What text a user may send us: the one rule the web forms and the JSON API share.

Refused: NUL, which PostgreSQL cannot store (a web form used to accept it, and the save
failed later, on PostgreSQL only); the other control characters, which no one types and
which only hide things (in a name shown in a list, or written into an e-mail header);
unpaired surrogates, which are not text at all (UTF-8 cannot encode them). Tab, line
feed and carriage return are allowed where text may span lines (a notes box, the API's
text fields), not in a one-line field.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

__all__ = ["API_TEXT_PATTERN", "MESSAGE", "MESSAGE_ONE_LINE", "storable"]

# What a user is told (next to the field, in a form).
MESSAGE = _l("Remove the control characters (such as NUL or ESC) from this text.")
MESSAGE_ONE_LINE = _l("Remove the control characters (such as NUL, tab or a line break) "
                      "from this one-line text.")

# C0 controls and DEL; the multi-line rule keeps \t, \n and \r.
_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The multi-line rule as a JSON Schema pattern, for the API's documentation.
API_TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"


def storable(text: str, *, multiline: bool = True) -> bool:
    """Whether ``text`` may be saved as typed."""
    if (_MULTI_LINE if multiline else _ONE_LINE).search(text):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True
