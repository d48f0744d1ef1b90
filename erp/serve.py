"""``flask --app erp serve``: the web server and the background worker, as one unit.

Two child processes in one process group: gunicorn (or, with ``--dev``, Flask's
development server with its reloader and debugger) and ``flask --app erp worker``.
Ctrl+C or SIGTERM stops both; if either exits on its own, the other is stopped and
``serve`` exits with its status, so a supervisor (systemd, a container runtime) sees
the failure and restarts the whole unit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

STOP_TIMEOUT = 20  # seconds each child gets to finish its work before it is killed


def commands(host: str, port: int, workers: int, dev: bool, app: str = "erp") -> list[list[str]]:
    python = sys.executable
    if dev:
        web = [python, "-m", "flask", "--app", app, "run", "--debug",
               "--host", host, "--port", str(port)]
    else:
        web = [python, "-m", "gunicorn", "--config", "python:erp.gunicorn_config",
               "--workers", str(workers), "--bind", f"{host}:{port}",
               "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1",
               "--graceful-timeout", str(STOP_TIMEOUT - 5), f"{app}:create_app()"]
    worker = [python, "-m", "flask", "--app", app, "worker"]
    return [web, worker]


def run(host: str, port: int, workers: int, dev: bool) -> int:
    """Start both children and wait; returns the exit status for the command."""
    children: list[subprocess.Popen] = []
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for command in commands(host, port, workers, dev):
            children.append(subprocess.Popen(command, env=os.environ.copy()))  # noqa: S603
        status = 0
        while not stopping:
            ended = [child for child in children if child.poll() is not None]
            if ended:
                status = ended[0].returncode or 1
                print(f"serve: {' '.join(ended[0].args[2:4])} stopped "
                      f"(exit {ended[0].returncode}); stopping the rest", file=sys.stderr)
                break
            time.sleep(0.2)
        return status
    finally:
        _stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_all(children: list[subprocess.Popen]) -> None:
    # gunicorn stops gracefully on SIGTERM; huey's consumer on SIGINT (SIGTERM would
    # abandon the task in hand at once).
    for child, sig in zip(children, (signal.SIGTERM, signal.SIGINT), strict=False):
        if child.poll() is None:
            child.send_signal(sig)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
