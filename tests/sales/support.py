"""Helpers of the sales service tests: lines, counts, signals caught, refusals read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from blinker import signal
from flask import Flask
from flask_babel import Babel
from sqlalchemy import func, select

from erp.clock import local_today
from erp.config import default_config
from erp.db import db
from erp.errors import InvalidInput


def users_today() -> date:
    """Today as the test users see it (erp.clock.local_today): they have no zone of their
    own, so the app's default zone — not the server's date, which differs for some hours a
    day. Computed in an app context with the default configuration."""
    app = Flask(__name__)
    app.config.update(default_config(Path(app.instance_path)))
    Babel(app)
    with app.app_context():
        return local_today()


TODAY = users_today()
LATER = TODAY + timedelta(days=30)


def line(description: str = "Consultoria", quantity: str = "1", unit_price: str = "100,00",
         discount: str = "", **extra) -> dict:
    """One row of a document's lines, as the form sends it."""
    return {"description": description, "quantity": quantity, "unit_price": unit_price,
            "discount": discount, **extra}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@contextmanager
def caught(name: str) -> Iterator[list[tuple[object, dict]]]:
    """The (sender, kwargs) of every ``name`` signal sent inside the block."""
    seen: list[tuple[object, dict]] = []

    def receiver(sender, **kwargs):
        seen.append((sender, kwargs))

    signal(name).connect(receiver)
    try:
        yield seen
    finally:
        signal(name).disconnect(receiver)


@contextmanager
def vetoed(name: str, message: str = "Vetado.") -> Iterator[list[dict]]:
    """Every ``name`` signal sent inside the block is refused with ``message``."""
    from erp.signals import Refused

    seen: list[dict] = []

    def veto(sender, **kwargs):
        seen.append(kwargs)
        raise Refused(message)

    signal(name).connect(veto)
    try:
        yield seen
    finally:
        signal(name).disconnect(veto)


def refused(call, *args, **kwargs) -> dict[str, list[str]]:
    """The messages of the InvalidInput ``call`` raises (the session rolled back after)."""
    with pytest.raises(InvalidInput) as error:
        call(*args, **kwargs)
    db.session.rollback()
    return error.value.errors
