"""Issue 15's benchmark cannot rot silently: at a tiny size the generator makes the counts
asked for, the search index knows its rows, and every URL the timing client requests answers
on the generated database (the whale's page among them). No timings here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from erp.auth.models import User
from erp.db import db
from tests.conftest import base_config, login_as

pytestmark = pytest.mark.slow  # migrations and a generated database: 10-25 s

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    scale_data = _load("scale_data")
    url = f"sqlite:///{tmp_path_factory.mktemp('scale') / 'scale.sqlite3'}"
    app = scale_data.prepare(url, base_config(url))
    with app.app_context():
        result = scale_data.generate(200, 1_000, 500, 20, log=lambda *_: None)
        db.session.remove()
    return app, result


def test_the_generator_makes_the_counts_asked(generated):
    from modules.crm.models import Account, AccountContact, Action
    from modules.finance.models import Receivable
    from modules.sales.models import Invoice, Quote

    app, result = generated
    with app.app_context():
        whale = result["whale"]
        count = lambda q: db.session.scalar(q)  # noqa: E731
        assert count(select(func.count(Account.id)).where(Account.id >= whale)) == 200
        assert count(select(func.count(Action.id)).where(Action.account_id >= whale)) == 1_000
        assert count(select(func.count(Action.id)).where(Action.account_id == whale)) == 500
        assert count(select(func.count(Quote.id)).where(Quote.account_id == whale)) == 20
        assert count(select(func.count(Invoice.id)).where(Invoice.account_id == whale)) == 5
        assert count(select(func.count(Receivable.id))
                     .where(Receivable.account_id == whale)) == 20
        assert count(select(func.count()).select_from(AccountContact)
                     .where(AccountContact.account_id == whale)) == 100
        assert result["accounts"] == 200 and result["events"] == 1_000
        # The trigram index has every account, and the planner has statistics.
        assert count(text("SELECT count(*) FROM crm_account_fts WHERE crm_account_fts "
                          "MATCH '\"baleia\"'")) == 1
        assert count(text("SELECT count(*) FROM sqlite_stat1")) > 0
        # Valid-looking tax ids, as the services would accept them.
        from modules.crm.services.validation import validate_tax_id

        for person_type, tax_id in db.session.execute(
                select(Account.person_type, Account.tax_id).where(Account.id >= whale)):
            assert validate_tax_id(tax_id, person_type) == tax_id


def test_every_url_of_the_timing_client_answers(generated):
    scale_pages = _load("scale_pages")
    app, result = generated
    facts = scale_pages.facts(app)
    assert facts["whale"] == result["whale"]
    client = app.test_client()
    with app.app_context():
        admin = db.session.scalar(select(User.id).where(User.username == "admin"))
    login_as(client, admin)
    for name, kind, path in scale_pages.pages(facts):
        headers = {"Authorization": f"Bearer {facts['tokens']['admin']}"} if kind == "api" else {}
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (name, path, response.status_code)
        if name == "account page whale":
            assert "Baleia" in response.get_data(as_text=True)
