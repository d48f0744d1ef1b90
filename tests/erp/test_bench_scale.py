"""Issue 15's benchmark cannot rot silently: at a tiny size the generator makes the counts
asked for, the search index knows its rows, and every URL the timing client requests answers
on the generated database (the whale's page among them). No timings here."""

from __future__ import annotations

import importlib.util
import os
import threading
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


def test_compare_mode_interleaves_the_two_servers_and_gives_the_ratio(generated, monkeypatch):
    """--compare-url: each page and role is asked of A, then at once of B, with B's own
    ids; each row gets B's median and p95 and median A / median B, the table a ratio column
    and the JSON the same fields. Two fake servers: B always answers in half A's time."""
    scale_pages = _load("scale_pages")
    app, _result = generated
    f_a = scale_pages.facts(app)
    f_b = dict(f_a, whale=f_a["whale"] + 1_000_000, deep=3)  # B's own ids and deep page
    asked = []

    def fetch(session, base, kind, path, token):
        asked.append((base, path))
        return (10.0 if base == "A" else 5.0), 200, 2048

    monkeypatch.setattr(scale_pages, "login", lambda base, username: username)
    monkeypatch.setattr(scale_pages, "fetch", fetch)
    rows = scale_pages.time_pages("A", f_a, runs=3, warmup=1, log=lambda *_: None,
                                  other=("B", f_b))
    urls_a, urls_b = scale_pages.pages(f_a), scale_pages.pages(f_b)
    per_run = len(urls_a) * len(scale_pages.ROLES) * 2
    assert len(asked) == 4 * per_run
    for i in range(0, per_run, 2):  # A then B, the same page (by position), the same role
        (base_a, path_a), (base_b, path_b) = asked[i], asked[i + 1]
        page = i // (2 * len(scale_pages.ROLES))
        assert (base_a, path_a) == ("A", urls_a[page][2])
        assert (base_b, path_b) == ("B", urls_b[page][2])
    assert len(rows) == len(urls_a) * len(scale_pages.ROLES)
    whale = next(r for r in rows if r["page"] == "account page whale" and r["role"] == "rep")
    assert whale["path_b"] == f"/crm/accounts/{f_b['whale']}"
    assert (whale["median_ms"], whale["median_b_ms"], whale["ratio"]) == (10.0, 5.0, 2.0)
    assert whale["n"] == 3 and whale["status_b"] == 200
    table = scale_pages.markdown(rows, [], [])
    assert "ratio A/B" in table.splitlines()[0]
    assert "| account page whale | rep | 10.0 | 10.0 | 2.0 | 200 | 5.0 | 5.0 | 200 | 2.0 |" \
        in table
    # Without B: the table as before.
    asked.clear()
    plain = scale_pages.time_pages("A", f_a, runs=1, warmup=0, log=lambda *_: None)
    assert "ratio" not in plain[0] and {base for base, _path in asked} == {"A"}
    assert "ratio" not in scale_pages.markdown(plain, [], []).splitlines()[0]


def test_the_throughput_clients_answer_without_errors(generated, tmp_path):
    """The throughput run's cheap client (http.client, the session cookie by hand) and the
    requests one, for a second each against the generated database served over HTTP: every
    request answered, none an error, the CPU per request of the client measured."""
    from werkzeug.serving import make_server

    scale_pages = _load("scale_pages")
    app, _result = generated
    facts = scale_pages.facts(app)
    server = make_server("127.0.0.1", scale_pages.free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        for kind in ("http", "requests"):
            run = scale_pages.throughput(base, facts, 1.0, 2, 0.2, kind, os.getpid())
            assert run["requests"] > 0 and run["errors"] == 0, run
            assert run["client"] == kind and run["client_cpu_ms_per_request"] > 0
            assert run["server_cpu_ms_per_request"] is not None  # this process: /proc read
        assert "| 20% reports/searched lists | requests | 2 |" in scale_pages.markdown(
            [], [], [run])
    finally:
        server.shutdown()
        thread.join()
