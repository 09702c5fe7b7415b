"""Benchmark: OneRoster import of a synthetic district on PostgreSQL.

    .venv/bin/python bench/people_import.py            # 100,000 students, 10,000 staff, ~500,000 enrolments
    .venv/bin/python bench/people_import.py --quick    # 5,000 students: within a minute

Makes a fresh database (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/openbtam_bench_import), migrates it, writes the bundle with
``btam.people.roster_gen``, then runs ``manage.py import_oneroster`` twice in a child process: the
first import, and the re-import of the same bundle (everything unchanged). Wall time and the
child's peak RSS (``os.wait4``) are measured per run. Prints ``name: value unit`` lines.
Budgets (full size, 2 cores): import under 120 s, peak RSS under 500 MB, re-import under 30 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CPU_SECONDS: list[float] = []
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/openbtam_bench_import"


def env_for(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DEMO_MODE")}
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_urlsafe(50),
        BTAM_ENCRYPTION_KEYS="ZGV2ZWxvcG1lbnQtb25seS1rZXktMDAwMDAwMDAwMDA=",
        ALLOWED_HOSTS="localhost",
        LOG_LEVEL="WARNING",
    )
    return env


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """Run manage.py; return (seconds, peak RSS in MB, output). The child's CPU seconds (user + system,
    not counting PostgreSQL) are kept in CPU_SECONDS: wall time is unreliable on a busy machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({proc.returncode}):\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 students: finishes within a minute")
    parser.add_argument("--students", type=int, help="number of students (default 100,000; 5,000 with --quick)")
    parser.add_argument("--keep", action="store_true", help="keep the bundle (printed) and the database")
    args = parser.parse_args()
    students = args.students or (5_000 if args.quick else 100_000)
    staff = students // 10
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    env = env_for(url)

    from btam.people.roster_gen import write_bundle

    recreate_database(url)
    manage(env, "migrate", "--no-input", "-v0")
    manage(
        env, "shell", "-c",
        "from btam.orgs.models import District; "
        "District.objects.create(slug='bench', name='Benchmark District (fictitious)', store_demographics=True)",
    )  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="bench-roster-"))
    bundle = folder / "roster.zip"
    start = time.perf_counter()
    stats = write_bundle(bundle, students=students, staff=staff)
    generate_seconds = time.perf_counter() - start
    rows = sum(stats.rows.values())
    imported_rows = sum(stats.rows[n] for n in ("orgs.csv", "users.csv", "enrollments.csv", "demographics.csv"))

    import_seconds, import_rss, output = manage(env, "import_oneroster", str(bundle), "--district", "bench")
    if "Imported" not in output:
        raise SystemExit(output)
    reimport_seconds, reimport_rss, output = manage(env, "import_oneroster", str(bundle), "--district", "bench")
    if "Nothing changed" not in output:
        raise SystemExit(f"the re-import changed something:\n{output}")

    print(f"students: {stats.students} people")
    print(f"staff: {stats.staff} people")
    print(f"guardians: {stats.guardians} people")
    print(f"enrollments: {stats.rows['enrollments.csv']} rows")
    print(f"bundle_rows: {rows} rows")
    print(f"bundle_size: {bundle.stat().st_size / 1e6:.1f} MB")
    print(f"generate_seconds: {generate_seconds:.1f} s")
    print(f"import_seconds: {import_seconds:.1f} s")
    print(f"import_cpu_seconds: {CPU_SECONDS[-2]:.1f} s")
    print(f"import_peak_rss: {import_rss:.0f} MB")
    print(f"rows_per_second: {imported_rows / import_seconds:.0f} rows/s")
    print(f"reimport_seconds: {reimport_seconds:.1f} s")
    print(f"reimport_cpu_seconds: {CPU_SECONDS[-1]:.1f} s")
    print(f"reimport_peak_rss: {reimport_rss:.0f} MB")
    print(f"load_average: {os.getloadavg()[0]:.1f} processes")
    if args.keep:
        print(f"# bundle kept at {bundle}; database at {url}")
    else:
        bundle.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
