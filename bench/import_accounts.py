"""Spreadsheet import at scale: a generated CSV of N accounts through the import service.

    .venv/bin/python bench/import_accounts.py [N] [--database-url URL] [--batch-size B]
                                              [--write-batch-size W] [--reimport]
                                              [--tracemalloc]

The file is what Excel in Brazil saves: ';'-separated Windows-1252, formatted CNPJs,
pt-BR dates. It goes through the same path as an upload (store, detect, guess the
columns, run): every row validated by the account service in the check pass, then again
in the write pass, which writes batches of W rows (IMPORT_WRITE_BATCH_SIZE, default the
configuration's) in a transaction each. Prints the elapsed time, this process's CPU time
(unlike the wall clock, not inflated by a busy machine) and the peak memory (the
process's maximum RSS; with --tracemalloc also the Python heap's peak, which slows the
run). --reimport imports the file a second time: every row then updates its account
(matched by CNPJ). A PostgreSQL URL names a database the bench empties (drop_all).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from stdnum.br import cnpj

from erp import create_app
from erp.auth.models import User
from erp.auth.seed import ADMIN, ensure_default_roles
from erp.db import db

HEADER = ["Razão Social", "Nome Fantasia", "CNPJ", "E-mail", "Telefone", "CEP", "Cidade", "UF",
          "Data de abertura"]
CITIES = [("São Paulo", "SP"), ("Maceió", "AL"), ("Belém", "PA"), ("Florianópolis", "SC"),
          ("Goiânia", "GO"), ("Ribeirão Preto", "SP")]


def write_csv(path: Path, count: int) -> None:
    """N rows, streamed to disk (the generator must not be what the memory measures)."""
    with open(path, "w", encoding="cp1252", newline="") as handle:
        handle.write(";".join(HEADER) + "\r\n")
        for i in range(count):
            base = f"{i + 1:08d}0001"
            number = base + cnpj.calc_check_digits(base)
            city, state = CITIES[i % len(CITIES)]
            handle.write(";".join([
                f"Comércio e Indústria Ação {i} Ltda", f"Ação {i}", cnpj.format(number),
                f"contato{i}@empresa{i % 997}.com.br", f"(11) 3{i % 10_000_000:07d}",
                f"{1000000 + i % 8_999_999:08d}", city, state,
                f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1990 + i % 30}"]) + "\r\n")


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def cpu_seconds() -> float:
    """This process's CPU time: unlike the wall clock, not inflated by a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_import(app, path: Path, user_id: int) -> None:
    from erp.imports import services
    from erp.imports.models import ImportJob

    marks = set()

    def progress(job) -> None:
        if job.total_rows:
            tenth = 10 * job.processed_rows // job.total_rows
            if tenth not in marks:
                marks.add(tenth)
                print(f"  {job.processed_rows:>7}/{job.total_rows} rows "
                      f"({time.perf_counter() - started:5.1f} s, max RSS {max_rss_mb():.0f} MB)")

    with app.app_context():
        user = db.session.get(User, user_id)
        with open(path, "rb") as stream:
            job = services.store_upload(stream, path.name, user=user, kind="accounts")
        services.save_mapping(job, job.mapping)
        started, cpu = time.perf_counter(), cpu_seconds()
        services.start(job, background=False, on_progress=progress)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        job = db.session.get(ImportJob, job.id)
        print(f"{job.status}: {job.message}")
        print(f"{job.total_rows} rows in {elapsed:.1f} s ({job.total_rows / elapsed:,.0f} rows/s), "
              f"{cpu:.1f} s of CPU; max RSS {max_rss_mb():.0f} MB")
        services.delete_files(job)
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--write-batch-size", type=int)
    parser.add_argument("--reimport", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
              "IMPORT_FOLDER": str(folder / "imports"), "IMPORT_BATCH_SIZE": args.batch_size,
              "IMPORT_MAX_BYTES": 200 * 1024 * 1024, "BABEL_DEFAULT_LOCALE": "en"}
    if args.write_batch_size:
        config["IMPORT_WRITE_BATCH_SIZE"] = args.write_batch_size
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        roles = ensure_default_roles()
        admin = User(username="bench", email="bench@example.com", name="Bench",
                     roles=[roles[ADMIN]], password_hash="!")  # noqa: S106 - cannot log in
        db.session.add(admin)
        db.session.commit()
        user_id = admin.id
        db.session.remove()
    path = folder / "contas.csv"
    write_csv(path, args.count)
    size = path.stat().st_size
    print(f"{args.count} rows, {size / 2**20:.1f} MB, into {url.split(':')[0]}, batches of "
          f"{args.batch_size}; max RSS before the import {max_rss_mb():.0f} MB")
    if args.tracemalloc:
        tracemalloc.start()
    run_import(app, path, user_id)
    if args.reimport:
        print("Again: every row now updates its account")
        run_import(app, path, user_id)
    if args.tracemalloc:
        _current, peak = tracemalloc.get_traced_memory()
        print(f"Python heap peak (tracemalloc): {peak / 2**20:.1f} MB")


if __name__ == "__main__":
    main()
