"""The open pipeline's totals (crm 0023, issue 15).

* Kept by triggers: after the funnel aggregate's random commands (create, edit the value,
  move, win, lose, reopen, change owner, archive, delete, bulk commands, merges, stages
  reordered and deleted, the admin's form, raw SQL), the API's writes and an import,
  ``crm_pipeline_total`` equals a recount from ``crm_opportunity`` (the funnel test's
  commands are run here with this check added to its own, not copied).
* Its readers give the old statements' figures: the home page's "my open opportunities
  by stage" for every user, the kanban's columns' count and value for every scope and
  filter (the aggregate only where the filters are on its key; the others still count
  the opportunities).
* Structure: both read the aggregate as a range of its key, and crm_opportunity not at
  all (plans on both databases).
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

import pytest
from flask_login import current_user, login_user
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db, refresh_statistics
from erp.params import id_arg
from modules.crm import dashboard
from modules.crm.models import STATUS_OPEN, Opportunity, PipelineTotal, Stage, Tag
from modules.crm.services import kanban
from modules.crm.views import funnel as kanban_view
from tests.crm import test_funnel_month as funnel_month
from tests.crm.plans import default_statistics, forget_statistics, full_scans, query_plan  # noqa: F401
from tests.crm.test_funnel_plans import _seed
from tests.erp.importing import import_dir_fixture  # noqa: F401 (the import_dir fixture)


def recount() -> dict:
    """From crm_opportunity, in Python: (status, archived, owner or 0, stage) ->
    (opportunities, value in cents)."""
    counted = defaultdict(lambda: [0, 0])
    for o in db.session.scalars(select(Opportunity)):
        figures = counted[(o.status, bool(o.archived), o.owner_id or 0, o.stage_id)]
        figures[0] += 1
        figures[1] += int(Decimal(o.estimated_value or 0) * 100)
    return {key: tuple(figures) for key, figures in counted.items()}


def kept() -> dict:
    """crm_pipeline_total in :func:`recount`'s shape; a key whose opportunities all left
    holds zeros (and is left out)."""
    rows = {}
    for row in db.session.scalars(select(PipelineTotal)):
        if row.opportunities == 0:
            assert row.value_cents == 0, row
            continue
        rows[(row.status, bool(row.archived), row.owner_id, row.stage_id)] = (
            row.opportunities, row.value_cents)
    return rows


def assert_totals_are_the_recount(step: str) -> None:
    db.session.expire_all()
    assert kept() == recount(), step


@pytest.fixture
def also_the_totals(monkeypatch):
    """The funnel aggregate's tests check crm_pipeline_total too, after each step."""
    funnel_check = funnel_month.assert_aggregate_is_the_recount

    def both(step: str) -> None:
        funnel_check(step)
        assert_totals_are_the_recount(step)

    monkeypatch.setattr(funnel_month, "assert_aggregate_is_the_recount", both)


@pytest.mark.usefixtures("also_the_totals")
@pytest.mark.parametrize("seed", [3, 4])
def test_the_totals_are_the_opportunities_after_any_commands(
        app, users, pipeline, make_account, monkeypatch, seed):
    funnel_month.test_the_aggregate_is_the_opportunities_after_any_commands(
        app, users, pipeline, make_account, monkeypatch, seed)
    with app.app_context():
        assert len({key[2] for key in kept()}) > 1  # several owners


@pytest.mark.usefixtures("also_the_totals")
def test_the_apis_writes_are_counted(app, users, pipeline, api_client, make_account):
    funnel_month.test_the_apis_writes_are_counted(app, users, pipeline, api_client,
                                                  make_account)


@pytest.mark.usefixtures("also_the_totals", "import_dir")
def test_imported_opportunities_are_counted(app, users, pipeline, make_account):
    funnel_month.test_imported_opportunities_are_counted(app, users, pipeline, make_account)


# --- the readers: the old statements' figures -----------------------------------------------


@pytest.fixture
def accounts(make_account):
    return [make_account(owner=owner, legal_name=f"Conta {owner} Ltda.")
            for owner in ("rep_a", "rep_b", "rep_c")]


@pytest.fixture
def seeded(app, users, pipeline, accounts):
    _seed(app, users, pipeline, accounts, 600)
    with app.app_context():  # a few of no value, and one owner's all archived
        db.session.execute(Opportunity.__table__.update()
                           .where(Opportunity.id % 11 == 0).values(estimated_value=0))
        db.session.execute(Opportunity.__table__.update()
                           .where(Opportunity.owner_id == users["rep_c"])
                           .values(archived=True))
        tag = Tag(name="Quente")
        db.session.add(tag)
        db.session.flush()
        tagged = db.session.scalars(select(Opportunity).limit(40)).all()
        for opportunity in tagged:
            opportunity.tags.append(tag)
        db.session.commit()
        assert_totals_are_the_recount("seeded")
        return tag.id


def _old_pipeline(user_id: int) -> list[tuple]:
    """The old home widget's figures: every stage in funnel order, the user's open, kept
    opportunities in it counted and summed from crm_opportunity."""
    rows = []
    for stage_id, name in db.session.execute(select(Stage.id, Stage.name)
                                             .order_by(Stage.sequence, Stage.id)):
        mine = db.session.execute(
            select(db.func.count(), db.func.coalesce(db.func.sum(Opportunity.estimated_value), 0))
            .where(Opportunity.owner_id == user_id, Opportunity.status == STATUS_OPEN,
                   Opportunity.archived.is_(False), Opportunity.stage_id == stage_id)).one()
        rows.append((stage_id, name, mine[0], Decimal(str(mine[1])).quantize(Decimal("0.01"))))
    return rows


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a", "rep_b", "rep_c"])
def test_the_home_pipeline_has_the_old_figures(app, users, seeded, who):
    with app.test_request_context():
        user = db.session.get(User, users[who])
        summary = dashboard.pipeline_summary(user)
        got = [(s.stage_id, s.name, s.count, s.value) for s in summary.stages]
        assert got == _old_pipeline(user.id)
        if who in ("rep_a", "rep_b"):
            assert summary.count > 0
        if who == "rep_c":  # all archived: every stage there, empty
            assert got and summary.count == 0


def _kanban_totals(app, users, who: str, query: str):
    """The kanban's totals for a request as ``who`` sees it: (statement used, whether it
    is the aggregate's, its figures, the old statement's figures)."""
    with app.test_request_context(f"/crm/funnel{query}"):
        login_user(db.session.get(User, users[who]))
        args = kanban_view._open_filters()
        where = kanban_view.open_opportunities(args)
        statement = kanban.totals_select(current_user, args, where, id_arg("owner", args))
        new = kanban.column_figures(db.session.execute(statement))
        old = {stage_id: (count, Decimal(str(value)).quantize(Decimal("0.01")))
               for stage_id, count, value in db.session.execute(kanban.column_totals(where))}
        return statement, kanban.on_the_totals(args), new, old


def _queries(users, tag: int) -> list[tuple[str, bool]]:
    """The kanban's filters, and whether the aggregate answers them."""
    return [("", True), (f"?owner={users['rep_b']}", True),
            (f"?owner={users['rep_c']}", True), ("?owner=x", True),
            ("?sort=-value&status=won&archived=1", True),  # the kanban fixes both
            ("?priority=0", True), ("?q=%20", True), ("?tag=", True),
            ("?priority=1", False), ("?q=Oportunidade%201", False),
            (f"?tag={tag}", False), (f"?owner={users['rep_a']}&priority=1", False),
            ("?account=1", False), ("?other=1", False)]


@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_kanban_totals_are_the_old_statements(app, users, seeded, who):
    with app.app_context():
        for query, aggregate in _queries(users, seeded):
            _statement, used, new, old = _kanban_totals(app, users, who, query)
            assert used == aggregate, query
            assert {k: v for k, v in new.items() if v[0]} == old, query
            if query == "":
                assert sum(count for count, _value in old.values()) > 0


def test_the_kanban_page_shows_the_aggregates_figures(app, users, seeded, client_as):
    """The page's columns: the old statement's count and value, every stage."""
    with app.app_context():
        _statement, used, _new, old = _kanban_totals(app, users, "manager", "")
        stages = db.session.scalars(select(Stage.id)).all()
    assert used
    page = client_as("manager").get("/crm/funnel").get_data(as_text=True)
    shown = {int(m.group(1)): (int(m.group(2)), Decimal(m.group(3)))
             for m in re.finditer(r'data-stage-id="(\d+)" data-count="(\d+)" '
                                  r'data-total="([^"]*)"', page)}
    assert set(shown) == set(stages)
    for stage_id in stages:
        assert shown[stage_id] == old.get(stage_id, (0, Decimal("0.00"))), stage_id


# --- structure: what they read --------------------------------------------------------------


@pytest.fixture
def statistics(app):
    yield
    with app.app_context():
        forget_statistics()


def _reads_the_totals_by_key(plan: str, owner: bool) -> None:
    assert "crm_opportunity" not in plan, plan
    assert "crm_pipeline_total" in plan, plan
    assert not full_scans(plan, "crm_pipeline_total"), plan
    if db.engine.dialect.name == "sqlite":
        wanted = r"SEARCH crm_pipeline_total USING .*\(status=\? AND archived=\?"
        if owner:
            wanted += r" AND owner_id=\?"
        assert re.search(wanted, plan), plan
    else:
        wanted = r"on crm_pipeline_total\b.*?Index Cond: [^\n]*status\b[^\n]*archived = "
        if owner:
            wanted += r"[^\n]*owner_id = "
        assert re.search(wanted, plan, re.S), plan


@pytest.mark.usefixtures("default_statistics", "statistics")
@pytest.mark.parametrize("who", ["admin", "manager", "rep_a"])
def test_the_readers_read_the_totals_by_key_range(app, users, seeded, who):
    """The home widget: one owner's range of the aggregate's key; the kanban: the open,
    kept range (the scope's owners within it); neither reads crm_opportunity. On the old
    code both read crm_opportunity's (status, archived, stage, owner, value) index."""
    with app.app_context():
        for analysed in (False, True):
            if analysed:
                refresh_statistics()
            if not (analysed or db.engine.dialect.name == "sqlite"):
                continue
            with app.test_request_context():
                user = db.session.get(User, users[who])
                _reads_the_totals_by_key(query_plan(dashboard.pipeline_select(user)), True)
            for query, aggregate in _queries(users, seeded):
                if aggregate:
                    statement, *_rest = _kanban_totals(app, users, who, query)
                    owner = who == "rep_a" or "owner=" in query and "owner=x" not in query
                    _reads_the_totals_by_key(query_plan(statement), owner)
