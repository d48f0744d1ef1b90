"""The account page's "Last contact" is one index seek (issue 15): the newest done, kept
action of the account on the (account_id, done, archived, at) index, read newest first —
not the (account_id, at) index walked past a whale's thousands of planned actions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from erp.db import db, refresh_statistics, utcnow
from modules.crm.account_page import last_contact, last_contact_select
from modules.crm.models import Account, Action
from tests.crm.plans import query_plan

INDEX = "ix_crm_action_account_done_at"


def _whale_actions(account_id: int, user_id: int, planned: int, done: int) -> None:
    """``planned`` actions to come and ``done`` past ones, then fresh planner statistics."""
    now = utcnow().replace(microsecond=0)
    db.session.execute(insert(Action), [
        {"account_id": account_id, "kind": "call", "user_id": user_id, "description": "",
         "at": now + timedelta(hours=n if n <= planned else planned - n),
         "done": n > planned, "archived": False}
        for n in range(1, planned + done + 1)])
    db.session.commit()
    refresh_statistics()


def test_last_contact_seeks_the_done_actions_index_newest_first(app, users, make_account):
    whale = make_account(legal_name="Baleia S.A.")
    with app.app_context():
        _whale_actions(whale, users["rep_a"], planned=2000, done=50)
        plan = query_plan(last_contact_select(whale), forbid_sort=True)
        assert INDEX in plan, plan
        if db.engine.dialect.name == "sqlite":
            assert "TEMP B-TREE" not in plan, plan
        else:
            assert "Sort" not in plan, plan


def test_last_contact_is_the_newest_done_kept_action(app, users, make_account):
    account_id = make_account(legal_name="Contato Ltda.")
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        def action(days: int, done: bool = True, archived: bool = False) -> None:
            db.session.add(Action(account_id=account_id, kind="call", user_id=users["rep_a"],
                                  at=now + timedelta(days=days), done=done,
                                  archived=archived))

        action(-10)
        action(-3)
        action(-1, archived=True)  # archived: not counted
        for days in range(1, 30):  # planned, to come
            action(days, done=False)
        db.session.commit()
        got = last_contact(db.session.get(Account, account_id))
        assert got.replace(tzinfo=None) == (now - timedelta(days=3)).replace(tzinfo=None)
