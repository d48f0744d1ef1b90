"""The real background worker (``flask --app erp worker``) in a subprocess, for tests.

Tests run tasks at once in the caller (``TASKS_IMMEDIATE``); these helpers are for the few
that need the real thing: a separate process consuming the queue file, stopped by a signal
or killed. Typical use::

    from tests.erp.worker import running_worker, stop_worker, wait_until, worker_env

    env = worker_env(f"sqlite:///{tmp_path / 'erp.sqlite3'}", tmp_path,
                     ERP_MAIL_SERVER="127.0.0.1")
    app = create_app(app_config(env))     # the same database and queue, in the test
    ...                                   # create the schema first (upgrade_database)
    with running_worker(env) as worker:   # a subprocess.Popen
        some_task.enqueue(...)            # within app.app_context()
        wait_until(lambda: done(), worker=worker)
        assert stop_worker(worker) == 0   # SIGINT: finishes the tasks in hand, exits

The worker's stdout and stderr go to a log file (``worker_log(worker)``), shown in the
message of a failed :func:`wait_until`. Whatever the test does, the process is gone when
the ``with`` block ends (SIGINT, then SIGKILL after ``stop_timeout`` seconds).

Isolation: every ``ERP_*`` variable of the outer environment is dropped; the database,
the queue file (``ERP_TASKS_FILE``), the import folder and the secret key are set to
``folder``, so the worker writes nothing into the project's ``instance/`` folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "worker: "  # logged by erp.tasks.run_worker just before consuming


def worker_env(database_url: str, folder: Path | str, **settings: Any) -> dict[str, str]:
    """The environment of a worker on ``database_url`` with its files in ``folder``.

    ``settings`` are more variables, e.g. ``ERP_MAIL_SERVER="127.0.0.1"`` (values are
    turned into strings; ``None`` removes the variable).
    """
    folder = Path(folder)
    env = {name: value for name, value in os.environ.items() if not name.startswith("ERP_")}
    env.update({
        "ERP_DATABASE_URL": database_url,
        "ERP_TASKS_FILE": str(folder / "tasks.sqlite3"),
        "ERP_IMPORT_FOLDER": str(folder / "imports"),
        "ERP_SECRET_KEY": "worker-test-secret",
        "PYTHONUNBUFFERED": "1",  # the log file shows what happened, as it happens
    })
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def app_config(env: Mapping[str, str], **overrides: Any) -> dict:
    """``create_app`` settings for the test process matching a :func:`worker_env`: the same
    database and queue file, tasks queued (not run at once)."""
    config = {
        "TESTING": True,
        "SECRET_KEY": env["ERP_SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": env["ERP_DATABASE_URL"],
        "TASKS_FILE": env["ERP_TASKS_FILE"],
        "TASKS_IMMEDIATE": False,
        "IMPORT_FOLDER": env["ERP_IMPORT_FOLDER"],
    }
    config.update(overrides)
    return config


@contextmanager
def running_worker(env: Mapping[str, str], *, args: tuple[str, ...] = (),
                   log_path: Path | str | None = None,
                   stop_timeout: float = 20.0) -> Iterator[subprocess.Popen]:
    """Start ``python -m flask --app erp worker *args`` with ``env``; yield the Popen.

    Not waited for: use :func:`wait_ready` if the test needs the consumer running (tasks
    enqueued before are not lost). The log goes to ``log_path`` (default: ``worker.log``
    beside the queue file). At the end the worker is stopped if it still runs.
    """
    if log_path is None:
        log_path = Path(env["ERP_TASKS_FILE"]).parent / "worker.log"
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "flask", "--app", "erp", "worker", *args],
            env=dict(env), cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl+C in the terminal is for pytest only
        )
    process.log_path = log_path
    try:
        yield process
    finally:
        if process.poll() is None:
            # Killed if it hangs; the test's own failure (if any) is the one to report.
            with suppress(AssertionError):
                stop_worker(process, timeout=stop_timeout)


def stop_worker(process: subprocess.Popen, sig: int = signal.SIGINT,
                timeout: float = 20.0) -> int:
    """Send ``sig`` (default SIGINT, a graceful stop; SIGKILL to simulate a crash) and wait;
    returns the exit status. Killed, then AssertionError, if it outlives ``timeout``."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"the worker did not stop within {timeout} s after signal "
                             f"{sig}\n{worker_log(process)}") from None


def worker_log(process: subprocess.Popen) -> str:
    """What the worker printed so far (stdout and stderr)."""
    path = getattr(process, "log_path", None)
    return path.read_text(errors="replace") if path and path.exists() else ""


def wait_until(predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2,
               worker: subprocess.Popen | None = None, message: str = "") -> Any:
    """Poll ``predicate`` until it returns something true, and return that; AssertionError
    (with the worker's log) after ``timeout`` seconds, or at once if ``worker`` exited."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker exited ({worker.returncode}) {message}\n"
                                 f"{worker_log(worker)}")
        if time.monotonic() > deadline:
            log = worker_log(worker) if worker is not None else ""
            raise AssertionError(f"not done within {timeout} s {message}\n{log}")
        time.sleep(interval)


def wait_ready(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Wait until the worker has run its start-up hooks and consumes the queue."""
    wait_until(lambda: READY_LINE in worker_log(process), timeout=timeout, worker=process,
               message="waiting for the worker to start")
