"""Old import files go: uploads and rejects files are not kept forever.

An upload is needed until its import has run (or been retried); a rejects file until its
user has downloaded it. Files older than ``IMPORT_RETENTION_DAYS`` (default 30; 0 keeps
everything), by their modification time, are removed once a day by the worker, whatever
their job's status, except the files of an import that is queued or running. Files the
folder holds without a job (an upload cut short) go too. The jobs stay, as history: their
pages then say the file is no longer kept.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ..db import db
from ..tasks import periodic_task
from .models import ACTIVE, ImportJob
from .runner import import_folder, rejects_path, stored_path

__all__ = ["remove_old_files"]

log = logging.getLogger(__name__)

DAY_SECONDS = 24 * 60 * 60


def _retention_days() -> int:
    return int(current_app.config.get("IMPORT_RETENTION_DAYS") or 0)


def _files_in_use() -> set[str]:
    """The file names of the imports that are queued or running."""
    jobs = db.session.scalars(select(ImportJob).where(ImportJob.status.in_(ACTIVE))).all()
    return {path.name for job in jobs for path in (stored_path(job), rejects_path(job))}


def remove_old_files(now: datetime | float | None = None) -> int:
    """Delete the import folder's files older than the retention; how many were deleted.

    ``now`` (a datetime or a timestamp; default: the clock) is for tests. Only the folder's
    own regular files are considered: no sub-folders, links or hidden files.
    """
    days = _retention_days()
    folder = import_folder()
    if days <= 0 or not folder.is_dir():
        return 0
    if now is None:
        moment = time.time()
    else:
        moment = now.timestamp() if isinstance(now, datetime) else float(now)
    cutoff = moment - days * DAY_SECONDS
    old = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_file(follow_symlinks=False) and (
                        entry.stat(follow_symlinks=False).st_mtime < cutoff):
                    old.append(entry)
            except OSError:  # gone meanwhile
                continue
    if not old:
        return 0
    # Asked after the listing, just before deleting: a job started meanwhile keeps its file.
    in_use = _files_in_use()
    removed = 0
    for entry in old:
        if entry.name in in_use:
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue
        except OSError:
            log.warning("could not remove the old import file %s", entry.path, exc_info=True)
            continue
        removed += 1
    return removed


@periodic_task(at=(3, 15), name="erp.imports.remove_old_files")
def remove_old_import_files() -> None:
    """Daily: the import files older than IMPORT_RETENTION_DAYS."""
    removed = remove_old_files()
    if removed:
        log.info("removed %d import file(s) older than %d days", removed, _retention_days())
