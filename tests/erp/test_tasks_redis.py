"""The queue on Redis (``ERP_REDIS_URL``): the worker on one side, the app on the other.

A real ``redis-server`` on a free loopback port (installed by ``.ci/run``); skipped, saying
so, on a machine without one.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time

import pytest

from erp import create_app
from erp.auth.models import User
from erp.db import db
from erp.imports import services
from erp.imports.models import DONE, ImportJob
from erp.setup import upgrade_database
from tests.erp.importing import csv_bytes, make_cnpj
from tests.erp.worker import app_config, running_worker, wait_ready, wait_until, worker_env
from tests.smtp import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def test_an_import_goes_through_a_redis_queue_to_the_worker(redis_url, tmp_path):
    env = worker_env(f"sqlite:///{tmp_path / 'erp.sqlite3'}", tmp_path, ERP_REDIS_URL=redis_url)
    app = create_app(app_config(env, REDIS_URL=redis_url))
    upgrade_database(app)
    with app.app_context():
        from erp.auth.seed import ADMIN, ensure_default_roles

        user = User(username="admin", name="Admin", email="admin@example.com",
                    roles=[ensure_default_roles()[ADMIN]])
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.commit()
        content = csv_bytes([["Razão Social", "CNPJ"]] + [
            [f"Conta {n} Ltda", make_cnpj(n)] for n in range(1, 11)])
        job = services.store_upload(io.BytesIO(content), "contas.csv", user=user,
                                    kind="accounts")
        services.save_mapping(job, job.mapping)
        job_id = job.id
        db.session.remove()
    with running_worker(env) as worker:
        wait_ready(worker)
        with app.app_context():
            assert services.start(db.session.get(ImportJob, job_id))
            db.session.remove()

        def finished():
            with app.app_context():
                job = db.session.get(ImportJob, job_id)
                status = job.status if job.finished else None
                db.session.remove()
            return status

        assert wait_until(finished, timeout=60, worker=worker) == DONE
    with app.app_context():
        assert db.session.get(ImportJob, job_id).created_rows == 10
        db.session.remove()
        db.engine.dispose()
