"""Timeline paging at scale: one account with N events, page 1 vs a page deep in history.

    .venv/bin/python bench/timeline.py [N] [--database-url URL]

Actions are bulk-inserted (one a minute, going back in time) for one account among a
few; then the merged timeline is fetched from the top and from a cursor near the
oldest event, and the account page's queries are counted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert

from erp import create_app
from erp.auth.models import User
from erp.auth.seed import ADMIN, ensure_default_roles
from erp.db import db
from erp.registry import TimelineSource
from erp.timeline import Cursor, fetch_page

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    from modules.crm.models import Account, Action

    with app.app_context():
        db.drop_all()
        db.create_all()
        admin = User(username="bench", email="bench@example.com", name="Bench",
                     roles=[ensure_default_roles()[ADMIN]], password_hash="!")  # noqa: S106
        db.session.add(admin)
        db.session.flush()
        accounts = [Account(legal_name=f"Conta {i}", owner_id=admin.id) for i in range(3)]
        db.session.add_all(accounts)
        db.session.commit()
        target = accounts[1].id
        started = time.perf_counter()
        for offset in range(0, args.count, 20_000):
            db.session.execute(insert(Action), [
                {"account_id": target, "kind": "call", "user_id": admin.id, "done": True,
                 "at": T0 - timedelta(minutes=i), "description": "", "created_at": T0,
                 "updated_at": T0}
                for i in range(offset, min(offset + 20_000, args.count))])
            db.session.commit()
        print(f"{args.count} events inserted in {time.perf_counter() - started:.1f} s "
              f"({db.engine.dialect.name})")
        sources = app.extensions["erp"].items(TimelineSource, None, check_permission=False)
        deep = Cursor(T0 - timedelta(minutes=args.count - 30), "crm.actions", 0)
        with app.test_request_context():
            for label, cursor in (("page 1", None), ("near the oldest", deep)):
                timings = []
                for _ in range(args.runs):
                    db.session.expire_all()
                    started = time.perf_counter()
                    page = fetch_page(sources, target, cursor=cursor, limit=25)
                    timings.append((time.perf_counter() - started) * 1000)
                print(f"{label:16} {len(page.events):3d} events  median "
                      f"{statistics.median(timings):6.2f} ms  worst {max(timings):6.2f} ms")
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = admin.get_id()  # "<id>:<session token>"
        client.get(f"/crm/accounts/{target}")  # the first render compiles the templates
        queries = []
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: queries.append(1))
        timings = []
        for _ in range(args.runs):
            queries.clear()
            started = time.perf_counter()
            response = client.get(f"/crm/accounts/{target}")
            timings.append((time.perf_counter() - started) * 1000)
        print(f"account page: HTTP {response.status_code}, {len(queries)} queries, median "
              f"{statistics.median(timings):.1f} ms  worst {max(timings):.1f} ms")


if __name__ == "__main__":
    main()
