"""What the host offers modules that talk through signals (blinker named signals).

Modules declare their own signals (``modules/<name>/signals.py``); a receiver in
another module connects by name, without importing the sender. Receivers run inside
the sender's transaction. A receiver that must veto the change (e.g. finance when an
invoice with payments is being cancelled) raises :class:`Refused`; the sender catches
it and shows its message to the user, and the transaction is rolled back: a sender does
all of that with :func:`send_vetoable`.
"""

from __future__ import annotations

from .db import db
from .errors import InvalidInput


class Refused(Exception):
    """A receiver's veto of the change being signalled; ``str(exc)`` is for the user."""


def send_vetoable(signal, sender, **kwargs):
    """Send ``signal`` inside the current transaction, where a receiver may veto.

    The session is flushed first (receivers see the change and its ids); a ``user``
    argument that is Flask-Login's ``current_user`` proxy is replaced by the user itself
    (a receiver may keep it beyond the request). A receiver's :class:`Refused` rolls the
    whole transaction back and comes out as ``InvalidInput({"__all__": [message]})``,
    which every view and the API show the user. Returns blinker's ``[(receiver, value)]``.
    """
    db.session.flush()
    user = kwargs.get("user")
    getter = getattr(user, "_get_current_object", None)
    if getter is not None:
        kwargs["user"] = getter()
    try:
        return signal.send(sender, **kwargs)
    except Refused as exc:
        db.session.rollback()
        raise InvalidInput({"__all__": [str(exc)]}) from exc
