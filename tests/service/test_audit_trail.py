"""Service orders in the audit trail: creation, status moves on the web and deletion leave
entries with the right user and values; the order's page shows its History to those who
see it."""

from __future__ import annotations

from sqlalchemy import delete, select

from erp.audit import AuditEntry, acting_as
from erp.auth.models import User
from erp.db import db
from modules.service.models import ServiceEvent, ServiceOrder
from tests.conftest import csrf_token, login_as


def entries(record_id: int) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(
        AuditEntry.table_name == "service_order", AuditEntry.record_id == str(record_id))
        .order_by(AuditEntry.id)).all()


def test_a_service_orders_life(app, client, users, make_account, make_order):
    account = make_account(owner="rep_a")
    with app.app_context():
        clerk = db.session.get(User, users["service"])
    with acting_as(clerk):  # the fixture runs the services outside a request
        order_id = make_order(account, hours="2", hourly_rate="80,00")
    login_as(client, users["service"])
    page = f"/service/orders/{order_id}"
    for status in ("in_progress", "done"):
        response = client.post(f"{page}/status", data={"csrf_token": csrf_token(client, page),
                                                        "status": status})
        assert response.status_code == 303
    with app.app_context():
        create, started, done = entries(order_id)
        assert (create.action, create.user_name) == ("create", "Service")
        assert create.changes["total"] == [None, "260.00"]  # 2 × 50,00 + 2 h × 80,00
        assert create.changes["technician_id"] == [None, str(users["service"])]
        assert (started.user_id, started.changes["status"]) == (
            users["service"], ["open", "in_progress"])
        assert started.changes["started_at"][0] is None
        assert done.changes["status"] == ["in_progress", "done"]
    html = client.get(page).get_data(as_text=True)
    assert 'id="history"' in html and "In progress" in html and "Done" in html
    assert "Responsible technician" in html and "Started" in html
    # Another team's manager does not see the account: no page, no history.
    other = make_account(owner="rep_c", legal_name="Conta do C")
    with acting_as(clerk):
        far_order = make_order(other)
    login_as(client, users["manager"])
    assert client.get(f"/service/orders/{far_order}").status_code == 404
    # Deleted (its timeline events first): the last values stay.
    with app.app_context():
        with acting_as(db.session.get(User, users["admin"])):
            db.session.execute(delete(ServiceEvent).where(ServiceEvent.order_id == order_id))
            db.session.delete(db.session.get(ServiceOrder, order_id))
            db.session.commit()
        removed = entries(order_id)[-1]
        assert (removed.action, removed.user_name) == ("delete", "Admin")
        assert removed.changes["status"] == ["done", None]
        assert removed.record_label == "OS 000001"
