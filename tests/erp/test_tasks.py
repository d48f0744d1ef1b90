"""The host's background work: the task API, the serve command, a busy database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
import requests
from sqlalchemy.exc import OperationalError

from erp import tasks
from erp.db import db
from erp.mail import OutboxMessage
from erp.views import BUSY_RETRY_AFTER
from tests.erp.worker import PROJECT_ROOT, worker_env
from tests.smtp import free_port

CALLS: list = []


@tasks.task(name="tests.record_call")
def record_call(value) -> None:
    CALLS.append(value)


def test_a_task_runs_when_its_transaction_commits_never_when_it_rolls_back(app, make_app):
    """``enqueue_after_commit``: once per transaction and arguments, only after a commit."""
    app = make_app()  # built after the task's declaration: it binds it
    CALLS.clear()
    with app.app_context():
        tasks.enqueue_after_commit(record_call, "kept")
        tasks.enqueue_after_commit(record_call, "kept")
        db.session.add(OutboxMessage(to=["a@example.com"], subject="s", body_text="b"))
        assert CALLS == []  # nothing before the commit
        db.session.commit()
        assert CALLS == ["kept"]
        tasks.enqueue_after_commit(record_call, "dropped")
        db.session.add(OutboxMessage(to=["a@example.com"], subject="s", body_text="b"))
        db.session.flush()
        db.session.rollback()
        db.session.commit()
        tasks.enqueue_after_commit(record_call, "past a savepoint")
        with db.session.begin_nested() as savepoint:  # e.g. a retried number
            db.session.add(OutboxMessage(to=["a@example.com"], subject="s", body_text="b"))
            savepoint.rollback()
        db.session.commit()
        db.session.remove()
    assert CALLS == ["kept", "past a savepoint"]


def test_calling_a_task_runs_it_here_and_enqueue_needs_the_queue(make_app):
    CALLS.clear()
    record_call("direct")
    assert CALLS == ["direct"]
    app = make_app()
    with app.app_context():
        record_call.enqueue("queued")  # TASKS_IMMEDIATE in the suite: at once
    assert CALLS == ["direct", "queued"]


def test_the_queue_is_a_sqlite_file_in_the_instance_folder_or_redis(make_app, tmp_path):
    from huey import RedisHuey, SqliteHuey

    app = make_app(TASKS_IMMEDIATE=False, TASKS_FILE=str(tmp_path / "q.sqlite3"))
    assert isinstance(tasks.queue(app).huey, SqliteHuey)
    assert "tests.record_call" in tasks.queue(app).wrappers
    app = make_app(TASKS_IMMEDIATE=False, REDIS_URL="redis://127.0.0.1:1/0")
    assert isinstance(tasks.queue(app).huey, RedisHuey)  # connects lazily


def test_periodic_tasks_are_due_on_their_minutes():
    every_15 = tasks.Task("t", print, every_minutes=15)
    daily = tasks.Task("d", print, at=(3, 15))
    assert [m for m in range(60) if every_15.due(datetime(2026, 1, 1, 10, m))] == [0, 15, 30, 45]
    assert daily.due(datetime(2026, 1, 1, 3, 15)) and not daily.due(datetime(2026, 1, 1, 4, 15))
    with pytest.raises(ValueError):
        tasks.periodic_task(minutes=90)
    with pytest.raises(ValueError):
        tasks.periodic_task()


def test_a_busy_database_is_a_503_to_retry_not_a_crash(app, users, client):
    from tests.conftest import login_as

    def locked():
        raise OperationalError("UPDATE crm_account ...", {}, Exception("database is locked"))

    app.view_functions["_test_locked"] = locked
    app.url_map.add(app.url_rule_class("/_test/locked", endpoint="_test_locked"))
    app.url_map.add(app.url_rule_class("/api/v1/_test/locked", endpoint="_test_locked"))
    login_as(client, users["rep_a"])
    page = client.get("/_test/locked")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == str(BUSY_RETRY_AFTER)
    from tests.crm.api_support import token_for

    token = token_for(app, users["rep_a"])
    api = client.get("/api/v1/_test/locked", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 503 and api.json["error"]["message"]
    assert int(api.headers["Retry-After"]) > 0  # the rate limiter may state a longer wait


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_memory_mapped_reads(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            assert connection.exec_driver_sql("PRAGMA mmap_size").scalar() >= 64 * 2**20


def _children(pid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "args=", "--ppid", str(pid)],  # noqa: S603, S607
                         capture_output=True, text=True, check=False).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.mark.slow
def test_serve_runs_gunicorn_and_the_worker_and_ctrl_c_stops_both(tmp_path):
    port = free_port()
    env = worker_env(f"sqlite:///{tmp_path / 'erp.sqlite3'}", tmp_path)
    subprocess.run([sys.executable, "-m", "flask", "--app", "erp", "upgrade"],  # noqa: S603
                   env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "erp", "serve", "--port", str(port)],
        env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # gunicorn listens before its workers have built the app: the first answer
                # may take a while on a busy machine.
                response = requests.get(f"http://127.0.0.1:{port}/auth/login", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                assert serve.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        assert response.status_code == 200
        children = _children(serve.pid)
        assert any("gunicorn" in c for c in children), children
        assert any(c.endswith("erp worker") for c in children), children
        assert "development server" not in (tmp_path / "serve.log").read_text()
        os.killpg(serve.pid, signal.SIGINT)  # Ctrl+C in a terminal: the whole group
        assert serve.wait(timeout=40) == 0
        assert _children(serve.pid) == []
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        log.close()
