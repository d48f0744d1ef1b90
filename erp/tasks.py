"""Background work: a huey queue, one worker process, and the small API modules use.

Long or failure-prone work (imports, outgoing mail, clean-ups) never runs in a web
request: the request *enqueues* a task and answers at once; the worker
(``flask --app erp worker``, started by ``make run`` and ``flask --app erp serve``)
runs it with an app context of its own.

Where the queue lives (``app.config``; each also from the environment with ``ERP_``):

``REDIS_URL``
    ``redis://host:6379/0``: a Redis queue, for several machines serving one database.
    Unset (the default): a SQLite file in the instance folder (``TASKS_FILE``,
    default ``instance/tasks.sqlite3``), enough for one machine.
``TASKS_IMMEDIATE``
    ``True`` runs each task at once in the caller, in an app context of its own (the
    test suite's default; never in production).
``WORKER_THREADS``
    tasks run at once by the worker, default 2.

A module declares its tasks at import time (in a file its ``register()`` imports)::

    from erp.tasks import periodic_task, task

    @task()
    def recount(account_id: int) -> None:
        ...                                # runs in the worker, app context pushed

    @periodic_task(minutes=15)
    def tidy() -> None:
        ...

and enqueues after committing what the task will read: ``recount.enqueue(42)``.
Arguments must be picklable: pass ids, never ORM objects. Calling ``recount(42)``
runs the function here and now (tests, the command line).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.api import Huey
from sqlalchemy import event
from sqlalchemy.orm import Session

from .db import background_work, db, refresh_statistics

__all__ = ["Task", "enqueue_after_commit", "on_worker_start", "periodic_task", "queue",
           "run_worker", "task"]

log = logging.getLogger(__name__)

_TASKS: dict[str, Task] = {}
# Seconds a stopping worker (SIGINT) waits for the tasks in hand; work cut short is found
# and recovered by the next worker's start-up hooks (see on_worker_start).
SHUTDOWN_TIMEOUT = 15


@dataclass(eq=False)
class Task:
    """A function the worker may run; declared with :func:`task` or :func:`periodic_task`."""

    name: str
    function: Callable[..., Any]
    retries: int = 0
    retry_delay: int = 0
    every_minutes: int | None = None  # periodic: run every N minutes (1-60), or ...
    at: tuple[int, int] | None = None  # ... once a day at (hour, minute), server time

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def enqueue(self, *args, **kwargs):
        """Hand the call to the worker (needs an app context); returns huey's result handle."""
        return queue().wrappers[self.name](*args, **kwargs)

    def due(self, moment: datetime) -> bool:
        if self.at is not None:
            return (moment.hour, moment.minute) == self.at
        return moment.minute % (self.every_minutes or 1) == 0


def _declare(function: Callable, **options) -> Task:
    name = options.pop("name", None) or f"{function.__module__}.{function.__qualname__}"
    declared = Task(name=name, function=function, **options)
    _TASKS[name] = declared  # declared again (a module reloaded): the newest wins
    return declared


def task(*, name: str | None = None, retries: int = 0, retry_delay: int = 0):
    """Declare a background task; ``retries`` more tries, ``retry_delay`` seconds apart."""

    def decorate(function: Callable) -> Task:
        return _declare(function, name=name, retries=retries, retry_delay=retry_delay)

    return decorate


def periodic_task(*, minutes: int | None = None, at: tuple[int, int] | None = None,
                  name: str | None = None):
    """Declare a task the worker runs by itself: every ``minutes`` minutes, or daily ``at``
    (hour, minute). Both are checked once a minute; a periodic task takes no arguments."""
    if (minutes is None) == (at is None):
        raise ValueError("give either minutes or at")
    if minutes is not None and not 1 <= minutes <= 60:
        raise ValueError("minutes must be between 1 and 60")

    def decorate(function: Callable) -> Task:
        return _declare(function, name=name, every_minutes=minutes, at=at)

    return decorate


@dataclass
class TaskQueue:
    """The app's huey instance and a huey wrapper per declared task."""

    huey: Huey
    wrappers: dict[str, Any]

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)


def queue(app: Flask | None = None) -> TaskQueue:
    return (app or current_app).extensions["erp_tasks"]


def _make_huey(app: Flask) -> Huey:
    config = app.config
    name = config.get("TASKS_NAME") or "mosaic-erp"
    if config.get("TASKS_IMMEDIATE"):
        return MemoryHuey(name, immediate=True, results=False)
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"], results=False)
    path = Path(config.get("TASKS_FILE") or Path(app.instance_path) / "tasks.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    # The queue file is separate from the application's database: enqueueing never waits
    # for the application's write lock, and the worker's polling never takes it.
    return SqliteHuey(name, filename=str(path), results=False, timeout=10)


def _in_app(app: Flask, declared: Task) -> Callable:
    def run(*args, **kwargs):
        with app.app_context(), background_work():
            try:
                return declared.function(*args, **kwargs)
            finally:
                db.session.remove()

    run.__name__ = declared.name
    return run


def init_app(app: Flask) -> None:
    huey = _make_huey(app)
    wrappers = {}
    for declared in _TASKS.values():
        if declared.every_minutes or declared.at:
            wrapper = huey.periodic_task(declared.due, name=declared.name)(
                _in_app(app, declared))
        else:
            wrapper = huey.task(name=declared.name, retries=declared.retries,
                                retry_delay=declared.retry_delay)(_in_app(app, declared))
        wrappers[declared.name] = wrapper
    app.extensions["erp_tasks"] = TaskQueue(huey, wrappers)


# --- enqueueing after a commit --------------------------------------------------------


def enqueue_after_commit(declared: Task, *args) -> None:
    """Enqueue ``declared(*args)`` once the current transaction commits (never if it rolls
    back): what the task reads is then visible to it. Repeated calls with the same
    arguments within one transaction enqueue once."""
    session = db.session()
    pending = session.info.setdefault("erp_after_commit", {})
    pending[(declared.name, args)] = (current_app._get_current_object(), declared, args)


def _after_commit(session) -> None:
    pending = session.info.pop("erp_after_commit", None)
    if not pending:
        return
    for app, declared, args in pending.values():
        with app.app_context():
            try:
                declared.enqueue(*args)
            except Exception:  # the queue is down: the periodic pass will catch up
                log.exception("could not enqueue %s", declared.name)


def _after_rollback(session, previous) -> None:
    if not previous.nested:  # a savepoint rolled back: the transaction may still commit
        session.info.pop("erp_after_commit", None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", _after_rollback)


# --- the worker -----------------------------------------------------------------------


def run_worker(app: Flask, threads: int | None = None) -> None:
    """Run the queue's consumer until SIGINT/SIGTERM: the tasks, and the periodic ones."""
    tasks = queue(app)
    if tasks.immediate:
        raise RuntimeError("TASKS_IMMEDIATE is set: there is no queue to consume")
    threads = int(threads or app.config.get("WORKER_THREADS") or 2)
    for hook in _STARTUP:
        with app.app_context():
            try:
                hook()
            except Exception:
                log.exception("worker start-up hook %s failed", hook.__qualname__)
            finally:
                db.session.remove()
    consumer = tasks.huey.create_consumer(workers=threads, worker_type="thread",
                                          periodic=True, check_worker_health=True,
                                          shutdown_timeout=SHUTDOWN_TIMEOUT)
    log.info("worker: %d thread(s), queue %s", threads, type(tasks.huey).__name__)
    consumer.run()


_STARTUP: list[Callable[[], None]] = []


def on_worker_start(function: Callable[[], None]) -> Callable[[], None]:
    """Run ``function`` (with an app context) each time a worker starts, before any task:
    e.g. to recover work that a worker which died left half done."""
    _STARTUP.append(function)
    return function


# --- the host's own periodic work -----------------------------------------------------


@periodic_task(minutes=60, name="erp.refresh_statistics")
def refresh_planner_statistics() -> None:
    """Hourly: the query planner's statistics follow the tables' growth, without anyone
    having to think of it (SQLite never analyses by itself)."""
    refresh_statistics()
