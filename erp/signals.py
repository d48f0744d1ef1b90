"""What the host offers modules that talk through signals (blinker named signals).

Modules declare their own signals (``modules/<name>/signals.py``); a receiver in
another module connects by name, without importing the sender. Receivers run inside
the sender's transaction. A receiver that must veto the change (e.g. finance when an
invoice with payments is being cancelled) raises :class:`Refused`; the sender catches
it and shows its message to the user, and the transaction is rolled back.
"""


class Refused(Exception):
    """A receiver's veto of the change being signalled; ``str(exc)`` is for the user."""
