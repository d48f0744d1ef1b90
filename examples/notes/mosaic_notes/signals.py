"""Signals the Notes module sends. Other modules may listen; Notes needs none of them."""

from blinker import signal

# blinker's named signals: a module that does not depend on Notes can still listen, with
# blinker.signal("notes.note_added").connect(...) — the same object, without an import.
note_added = signal("notes.note_added", doc="""
A note was written on an account (sent after it is committed).

:param sender: the :class:`~.models.Note`
:param user: the user who wrote it
Receivers return nothing.
""")
