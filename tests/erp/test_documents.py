"""The billing-document kit (erp.documents, erp.money, erp.signals.send_vetoable): one line
routine, one line total, installments as rows with one rule, the signal with a veto, and
document numbers that two transactions never share."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from blinker import Namespace

from erp.db import db, writing
from erp.documents import clean_lines, installment_rows, line_total, next_number, schedule
from erp.errors import InvalidInput
from erp.money import Money, Percent, Quantity, installment_plan
from erp.signals import Refused, send_vetoable
from erp.validation import Errors

CATALOG = {7: SimpleNamespace(id=7, name="Implantação", price=Decimal("1500.00"))}


def clean(rows, **options):
    errors = Errors()
    lines = clean_lines(rows, errors, **options)
    return lines, {field: [str(m) for m in ms] for field, ms in errors.by_field.items()}


@pytest.mark.parametrize(("qty", "price", "discount", "expected"), [
    ("1", "10.00", "0", "10.00"), ("3", "33.33", "0", "99.99"), ("1", "0.05", "50", "0.03"),
    ("2.5", "19.90", "10", "44.78"), ("2", "10.00", "100", "0.00")])
def test_line_total_rounds_half_up_to_cents(qty, price, discount, expected):
    assert line_total(Decimal(qty), Decimal(price), Decimal(discount)) == Decimal(expected)


def test_lines_are_parsed_in_pt_br_and_an_empty_row_is_skipped(app):
    with app.test_request_context():
        lines, errors = clean([
            {"description": " Consultoria ", "quantity": "2,5", "unit_price": "1.000,00",
             "discount": "10"},
            {"description": "", "quantity": "", "unit_price": "", "discount": ""},
            {"description": "Licença", "unit_price": "33,33"}])
    assert errors == {}
    assert lines == [
        {"description": "Consultoria", "quantity": Decimal("2.500"),
         "unit_price": Decimal("1000.00"), "discount": Decimal("10.00"),
         "total": Decimal("2250.00")},
        {"description": "Licença", "quantity": Decimal("1.000"), "unit_price": Decimal("33.33"),
         "discount": Decimal("0.00"), "total": Decimal("33.33")}]


def test_a_catalog_product_fills_description_and_price(app):
    with app.test_request_context():
        lines, errors = clean([{"product_id": "7", "quantity": "2"},
                               {"product_id": "__None", "description": "Outro",
                                "unit_price": "1"}],
                              product=CATALOG.get)
    assert errors == {}
    assert [(line["product_id"], line["description"], line["total"]) for line in lines] == [
        (7, "Implantação", Decimal("3000.00")), (None, "Outro", Decimal("1.00"))]


@pytest.mark.parametrize(("row", "field", "message"), [
    ({"product_id": "8", "description": "a", "unit_price": "1"}, "lines-0-product_id",
     "Choose a product of the catalog."),
    ({"product_id": "x", "description": "a", "unit_price": "1"}, "lines-0-product_id",
     "Choose a product of the catalog."),
    ({"quantity": "1", "unit_price": "1"}, "lines-0-description",
     "Describe the product or service."),
    ({"description": "x" * 256, "unit_price": "1"}, "lines-0-description",
     "At most 255 characters."),
    ({"description": "a", "quantity": "0", "unit_price": "1"}, "lines-0-quantity",
     "Use a quantity greater than zero."),
    ({"description": "a", "quantity": "abc", "unit_price": "1"}, "lines-0-quantity",
     "Use a quantity greater than zero."),
    ({"description": "a"}, "lines-0-unit_price", "Use a price such as 1.234,56."),
    ({"description": "a", "unit_price": "-1"}, "lines-0-unit_price",
     "Use a price such as 1.234,56."),
    ({"description": "a", "unit_price": "1e20"}, "lines-0-unit_price",
     "Use a price such as 1.234,56."),
    ({"description": "a", "unit_price": "1", "discount": "100,01"}, "lines-0-discount",
     "Use a discount from 0 to 100 (%)."),
    ({"description": "a", "unit_price": "1", "discount": "-1"}, "lines-0-discount",
     "Use a discount from 0 to 100 (%)."),
    ({"description": "a", "quantity": "999999", "unit_price": "999999999"}, "lines",
     "The total is too large."),
])
def test_each_bad_value_has_its_message_on_its_field(app, row, field, message):
    with app.test_request_context():
        _lines, errors = clean([row], product=CATALOG.get)
    assert errors == {field: [message]}


def test_the_list_rules_and_a_module_s_own_words(app):
    with app.test_request_context():
        assert clean([])[1] == {"lines": ["Add at least one line."]}
        assert clean([{"description": "a", "unit_price": "1"}] * 3, max_lines=2)[1] == {
            "lines": ["At most 2 lines."]}
        # Service's items: no catalog (a product_id is ignored), none required, its words.
        lines, errors = clean([], field="items", required=False)
        assert (lines, errors) == ([], {})
        _lines, errors = clean([{"product_id": "7", "quantity": "2"}], field="items",
                               messages={"description": "Describe the item.",
                                         "unit_price_required": "Give the unit price."})
        assert errors == {"items-0-description": ["Describe the item."],
                          "items-0-unit_price": ["Give the unit price."]}


def test_installments_are_rows_made_with_the_one_rule():
    class Row(SimpleNamespace):
        pass

    rows = installment_rows(Row, Decimal("100.00"), 3, date(2027, 1, 31))
    assert [(r.position, r.due_date, r.amount) for r in rows] == [
        (1, date(2027, 1, 31), Decimal("33.33")), (2, date(2027, 2, 28), Decimal("33.33")),
        (3, date(2027, 3, 31), Decimal("33.34"))]
    assert schedule(reversed(rows)) == installment_plan(Decimal("100"), 3, date(2027, 1, 31))
    # The remainder goes to the last part, however large: the parts always sum to the total.
    assert [a for _d, a in installment_plan(Decimal("200"), 3, date(2027, 1, 1))] == [
        Decimal("66.66"), Decimal("66.66"), Decimal("66.68")]


def test_column_types():
    assert (Money.precision, Money.scale, Money.asdecimal) == (14, 2, True)
    assert (Quantity.precision, Quantity.scale) == (12, 3)
    assert (Percent.precision, Percent.scale) == (5, 2)


def test_send_vetoable_flushes_passes_the_real_user_and_turns_a_veto_into_invalid_input(ctx):
    from erp.auth.models import Team

    ding = Namespace().signal("test.ding")
    team = Team(name="Veto")
    db.session.add(team)
    heard = []

    class Proxy:  # Flask-Login's current_user: a proxy with _get_current_object()
        def _get_current_object(self):
            return "the user"

    def listen(sender, **kwargs):
        heard.append((sender.id, kwargs))
        return "ok"

    with ding.connected_to(listen):
        assert send_vetoable(ding, team, user=Proxy(), n=1) == [(listen, "ok")]
    assert heard == [(team.id, {"user": "the user", "n": 1})] and team.id is not None

    def refuse(sender, **kwargs):
        raise Refused("Not today.")

    with ding.connected_to(refuse), pytest.raises(InvalidInput) as error:
        send_vetoable(ding, team)
    assert error.value.errors == {"__all__": ["Not today."]}
    assert db.session.scalar(db.select(Team).where(Team.name == "Veto")) is None  # rolled back


# --- numbering -------------------------------------------------------------------------------


def test_each_sequence_counts_on_its_own_and_a_rollback_gives_the_number_back(ctx):
    assert [next_number("test.a"), next_number("test.a"), next_number("test.b")] == [1, 2, 1]
    db.session.commit()
    assert next_number("test.a") == 3
    db.session.rollback()
    assert next_number("test.a") == 3


def _in_a_transaction_of_its_own(app, work):
    """Run ``work()`` in a thread, in an app context (its own session and connection) and a
    write transaction, and commit."""
    def run():
        with app.app_context(), writing():
            work()
            db.session.commit()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_concurrent_transaction_waits_for_the_number_and_takes_the_next(app):
    """A takes a number and keeps its transaction open; B asks meanwhile: B waits until A
    commits (PostgreSQL: the row lock; SQLite: the write lock), then gets A's number + 1."""
    got, events = {}, []
    a_has_its_number = threading.Event()

    def first():
        got["a"] = next_number("test.race")
        a_has_its_number.set()
        time.sleep(0.5)
        events.append("a commits")

    def second():
        got["b"] = next_number("test.race")
        events.append("b has its number")

    a = _in_a_transaction_of_its_own(app, first)
    assert a_has_its_number.wait(10)
    b = _in_a_transaction_of_its_own(app, second)
    a.join(20)
    b.join(20)
    assert got == {"a": 1, "b": 2}
    assert events == ["a commits", "b has its number"]


def test_two_connections_taking_numbers_at_once_never_share_one(app):
    taken: dict[str, list[int]] = {"a": [], "b": []}

    def worker(name):
        def work():
            for _ in range(15):
                taken[name].append(next_number("test.burst"))
                db.session.commit()
        return work

    threads = [_in_a_transaction_of_its_own(app, worker(name)) for name in taken]
    for thread in threads:
        thread.join(60)
    numbers = taken["a"] + taken["b"]
    assert sorted(numbers) == list(range(1, 31))  # no duplicate, no gap
    assert taken["a"] == sorted(taken["a"]) and taken["b"] == sorted(taken["b"])
