"""gunicorn's settings for ``flask --app erp serve`` (``--config python:erp.gunicorn_config``);
the command line (erp/serve.py) gives the rest: sync workers, their number, the address.

Sync workers, each answering one request at a time, are right behind a reverse proxy that
buffers slow clients (nginx, see the README): they do not keep connections alive (the proxy
does, to the browsers), so there is no keep-alive setting to tune here.

``post_worker_init``: once a worker has built the app, the objects it made (modules,
models, routes, templates' machinery: some 200,000) are moved out of the garbage
collector's sight with ``gc.freeze()``. They live as long as the worker, and the collector
would otherwise go over them again and again as requests make and drop objects (issue 15:
0.68 ms of collection a request before, 0.28 after, the longest pause 32 ms before, 14 ms
after, on the account page, search and lists at 200,000 accounts). Nothing else changes:
reference counting still frees what requests drop, and what a request makes is still
collected as before.
"""

from __future__ import annotations

import gc


def post_worker_init(worker) -> None:
    gc.freeze()
