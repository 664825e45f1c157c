"""Check-in throughput and latency through the real API, against a minimal endpoint.

Serves the app with waitress on a fresh, migrated SQLite instance and drives
``POST /api/v1/workrooms/<slug>/checkins`` with concurrent keep-alive clients (each
request a new Idempotency-Key: validation, ticket allocation, audit, commit). In the same
run it serves a minimal Flask + SQLAlchemy app whose endpoint inserts one row, with the
same waitress settings and SQLite pragmas, and drives it the same way. Prints both
throughputs, p50/p99 latencies and the ratios (target: the real check-in reaches at
least half the minimal throughput, with p99 at most twice the minimal p99).

Both servers run side by side and are driven in turn for several rounds, so that a
machine that slows down during the run weighs on both alike; the targets are judged on
the median ratios (one round of the minimal endpoint varies by a fifth on SQLite, where
its threads poll for the write lock). The clients check in at several workrooms, two
clients to a workroom by default: each check-in counts the tickets still waiting ahead
of it, and thousands waiting in one workroom's day is not a day a workroom has
(``--workrooms 1`` measures that too).

With ``--postgres URL`` (an empty database the benchmark may fill) it runs the same
pair on PostgreSQL behind gunicorn with 4 workers. Not a test: run it by hand.

    .venv/bin/python benchmarks/checkin.py [--requests 3000] [--clients 16]
        [--threads 8] [--rounds 3] [--workrooms 8]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROOT = Path(__file__).resolve().parent.parent
# Client n checks in at workroom n % --workrooms.
CHECKIN_PATH = "/api/v1/workrooms/bench-room-{room}/checkins"
MINIMAL_PATH = "/rows"
BODY = {
    "category": "environment-noise",
    "name": "测试访客",
    "phone": "138 0013 8000",
    "description": "小区夜间施工噪声扰民，希望尽快处理。",
    "consent": True,
}


# The minimal app: Flask + Flask-SQLAlchemy, one insert per request.


def minimal_app():  # noqa: ANN201
    """The baseline: parse the JSON body, insert one row, commit, answer 201."""
    from flask import Flask, request
    from flask_sqlalchemy import SQLAlchemy

    from workroom.config import DefaultConfig

    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)

    class Row(db.Model):
        __tablename__ = "bench_row"
        id: Mapped[int] = mapped_column(primary_key=True)
        key: Mapped[str] = mapped_column(sa.String(80), unique=True)
        payload: Mapped[str] = mapped_column(sa.Text)
        created_at: Mapped[dt.datetime] = mapped_column()

    url = os.environ["BENCH_MINIMAL_DATABASE_URL"]
    app = Flask("minimal")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    # The real app's engine options (pool pre-ping; SQLite's 30 s lock timeout).
    options = dict(DefaultConfig.SQLALCHEMY_ENGINE_OPTIONS)
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        if url.startswith("sqlite"):
            from workroom.db import configure_sqlite

            # The same pragmas and write-locking BEGIN as the real app.
            configure_sqlite(db.engine)
        db.create_all()

    @app.post(MINIMAL_PATH)
    def insert_row():  # noqa: ANN202
        row = Row(
            key=request.headers.get("Idempotency-Key", ""),
            payload=json.dumps(request.get_json(), ensure_ascii=False),
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
        db.session.add(row)
        db.session.commit()
        return {"id": row.id}, 201

    @app.get("/ping")
    def ping():  # noqa: ANN202
        return "ok"

    return app


def _serve_minimal(port: int, threads: int) -> None:
    from waitress import serve

    serve(minimal_app(), host="127.0.0.1", port=port, threads=threads, ident="minimal")


# Setting up the real app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _real_env(instance: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["WORKROOM_INSTANCE_PATH"] = str(instance)
    env["WORKROOM_CHECKIN_RATE_LIMIT"] = "1000000 per minute"
    env["PYTHONPATH"] = str(ROOT)
    if database_url:
        env["WORKROOM_DATABASE_URL"] = database_url
    return env


def _prepare_real(env: dict[str, str], workrooms: int) -> None:
    """Migrate and add workrooms receiving now: each a published reception day with a
    deputy on duty."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "workroom", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    script = f"""
import datetime as dt
from workroom import create_app
from workroom.db import db
from workroom.clock import utcnow
from workroom.places.models import Area, Workroom
from workroom.people.models import Deputy
from workroom.schedule.models import Assignment, ReceptionDay

app = create_app()
with app.app_context():
    now = utcnow()
    city = Area(name="湘潭市", level="city")
    district = Area(name="岳塘区", level="district", parent=city)
    street = Area(name="下摄司街道", level="street", parent=district)
    deputy = Deputy(name="王建国", level="county")
    db.session.add_all([city, district, street, deputy])
    for n in range({workrooms}):
        room = Workroom(name=f"基准工作室{{n}}", slug=f"bench-room-{{n}}", area=street,
                        liaison_hours="09:00-12:00,14:30-17:30")
        db.session.add(room)
        db.session.flush()
        db.session.add(ReceptionDay(
            workroom_id=room.id, day=(now + dt.timedelta(hours=8)).date(),
            starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=6),
            status="published", published_at=now,
            assignments=[Assignment(deputy_id=deputy.id)],
        ))
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)


# Servers


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    path: str
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_until_up(port: int, path: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early:\n{log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def _start(name: str, command: list[str], env: dict[str, str], path: str, probe: str, work: Path):
    port = _free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    log = work / f"{name}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
    _wait_until_up(port, probe, process, log)
    return Server(name, process, port, path, log)


# Load


def _cpu_seconds(root: int) -> float | None:
    """CPU time used so far by a process and its children (Linux /proc), or None."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0.0, False
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.parent.name), int(fields[1])
        if root in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / tick
            found = True
    return total if found else None


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    server_cpu: float | None = None

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU time per request, in milliseconds."""
        if self.server_cpu is None:
            return None
        return self.server_cpu / len(self.latencies) * 1000

    @property
    def ok(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def drive(server: Server, requests: int, clients: int, prefix: str, workrooms: int = 1) -> Result:
    """Send ``requests`` POSTs from ``clients`` threads, each on its own keep-alive
    connection (client n to workroom n % ``workrooms``), and time every one."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    body = json.dumps(BODY, ensure_ascii=False).encode()
    start = threading.Barrier(clients + 1)

    def client(worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        path = server.path.format(room=worker % workrooms)
        mine, seen = [], {}
        start.wait()
        while next(counter) < requests:
            key = f"{prefix}-{worker}-{len(mine)}"
            headers = {"Content-Type": "application/json", "Idempotency-Key": key}
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                status = 0
            mine.append(time.perf_counter() - began)
            seen[status] = seen.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=client, args=(w,)) for w in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = _cpu_seconds(server.process.pid)
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    cpu_after = _cpu_seconds(server.process.pid)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return Result(server.name, elapsed, latencies, statuses, cpu)


def _row(result: Result) -> str:
    other = sum(n for s, n in result.statuses.items() if s != 201)
    cpu = f"{result.cpu_ms:.2f}" if result.cpu_ms is not None else "n/a"
    return (
        f"{result.name:<10} {len(result.latencies):>8} {result.ok:>6} {other:>6} "
        f"{result.throughput:>8.1f} {result.percentile(50):>8.1f} "
        f"{result.percentile(99):>8.1f} {cpu:>18}"
    )


def report(title: str, rounds: list[tuple[Result, Result]]) -> None:
    """Print each round, then the median ratios against the targets."""
    print(f"\n{title}")
    print(
        f"{'round':<6} {'endpoint':<10} {'requests':>8} {'201':>6} {'other':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'server CPU ms/req':>18}"
    )
    throughputs, p99s = [], []
    for number, (real, minimal) in enumerate(rounds, 1):
        print(f"{number:<6} {_row(minimal)}")
        print(f"{'':<6} {_row(real)}")
        throughputs.append(real.throughput / minimal.throughput)
        p99s.append(real.percentile(99) / minimal.percentile(99))
        bad = {s: n for s, n in real.statuses.items() if s != 201}
        if bad:
            print(f"{'':<6} non-201 answers from the check-in: {bad}")
    ratio, p99 = statistics.median(throughputs), statistics.median(p99s)
    spread = ", ".join(f"{r:.2f}" for r in throughputs)
    print(
        f"throughput check-in/minimal = {ratio:.2f} (median of {spread}; target >= 0.5: "
        f"{'met' if ratio >= 0.5 else 'NOT met'})"
    )
    spread = ", ".join(f"{r:.2f}" for r in p99s)
    print(
        f"p99 check-in/minimal = {p99:.2f} (median of {spread}; target <= 2: "
        f"{'met' if p99 <= 2 else 'NOT met'})"
    )


def run_pair(
    title: str,
    real_cmd: list[str],
    minimal_cmd: list[str],
    real_env: dict[str, str],
    minimal_env: dict[str, str],
    args: argparse.Namespace,
    work: Path,
) -> list[tuple[Result, Result]]:
    """Serve both endpoints at once and drive them in turn, round after round, so that
    a machine that slows down or speeds up during the run weighs on both alike."""
    minimal = _start("minimal", minimal_cmd, minimal_env, MINIMAL_PATH, "/ping", work)
    try:
        real = _start("check-in", real_cmd, real_env, CHECKIN_PATH, "/healthz", work)
    except BaseException:
        minimal.stop()
        raise
    rounds = []
    try:
        for server in (minimal, real):
            drive(server, args.warmup, args.clients, f"warm-{server.name}", args.workrooms)
        for number in range(args.rounds):
            baseline = drive(minimal, args.requests, args.clients, f"run{number}-minimal")
            checkins = drive(
                real, args.requests, args.clients, f"run{number}-check-in", args.workrooms
            )
            rounds.append((checkins, baseline))
    finally:
        real.stop()
        minimal.stop()
    report(title, rounds)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per endpoint")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="turns of both endpoints")
    parser.add_argument(
        "--workrooms", type=int, default=8, help="workrooms the clients check in at"
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--postgres", help="also run on this (empty) PostgreSQL database")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (PostgreSQL)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    args = parser.parse_args()

    print(
        f"{args.rounds} rounds of {args.requests} requests per endpoint, "
        f"{args.clients} concurrent keep-alive clients at {args.workrooms} workrooms, "
        f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    work = Path(tempfile.mkdtemp(prefix="bench-checkin-"))
    try:
        real_env = _real_env(work / "instance", None)
        _prepare_real(real_env, args.workrooms)
        minimal_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "BENCH_MINIMAL_DATABASE_URL": f"sqlite:///{work / 'minimal.sqlite'}",
        }
        threads = str(args.threads)
        run_pair(
            f"SQLite, waitress ({args.threads} threads)",
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "workroom",
                "serve",
                "--no-jobs",
                "--port",
                "{port}",
                "--threads",
                threads,
            ],
            [sys.executable, __file__, "--serve-minimal", "{port}", threads],
            real_env,
            minimal_env,
            args,
            work,
        )
        with sqlite3.connect(work / "instance" / "workroom.sqlite") as conn:
            total, distinct = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT workroom_id || '/' || ticket_date || '/' || "
                "ticket_number) FROM visit"
            ).fetchone()
        print(f"stored: {total} visits with {distinct} distinct tickets")

        if args.postgres:
            pg_env = _real_env(work / "instance-pg", args.postgres)
            _prepare_real(pg_env, args.workrooms)
            gunicorn = str(Path(sys.executable).with_name("gunicorn"))
            # Create the baseline's table once, before four workers race to do it.
            os.environ["BENCH_MINIMAL_DATABASE_URL"] = args.postgres
            minimal_app()
            workers = str(args.workers)
            run_pair(
                f"PostgreSQL, gunicorn ({args.workers} workers)",
                [gunicorn, "-w", workers, "-b", "127.0.0.1:{port}", "workroom:create_app()"],
                [
                    gunicorn,
                    "-w",
                    workers,
                    "-b",
                    "127.0.0.1:{port}",
                    "--chdir",
                    str(ROOT / "benchmarks"),
                    "checkin:minimal_app()",
                ],
                pg_env,
                {
                    **os.environ,
                    "PYTHONPATH": str(ROOT),
                    "BENCH_MINIMAL_DATABASE_URL": args.postgres,
                },
                args,
                work,
            )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-minimal":
        _serve_minimal(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
