"""Benchmark: the public report form under load, against the floor of a bare Django form view.

    .venv/bin/python bench/intake.py              # 60 s per variant, 50 concurrent reporters
    .venv/bin/python bench/intake.py --quick      # about 10 s per variant, within a minute
    .venv/bin/python bench/intake.py --variants report --duration 30 --worker-class sync --workers 4

The production server (gunicorn, DEBUG and DEMO_MODE off, compressed manifest static files, a
fresh random SECRET_KEY, receipt key and Fernet key) serves the app from PostgreSQL on loopback:
the database ``openbtam_bench_intake`` (another one with BENCH_INTAKE_DATABASE_URL) is dropped and
cloned at each run from ``openbtam_bench_intake_template``, which is migrated once, holds one
fictitious district and school and is rebuilt when the migrations change. One light client
process (asyncio, raw HTTP/1.1 over sockets, no dependencies) runs ``--concurrency`` virtual
reporters, each looping: GET the form (a new visitor: no cookies), parse it generically (every
input, select and textarea of the form with its default; hidden values such as the CSRF and
submission tokens kept; required text and the narrative filled with synthetic text; the honeypot
left empty; the first option of selects and radios), POST it (urlencoded or multipart as the form
says; with one ~2 MB JPEG in the ``report_photo`` variant) and check for a 200 page with a new
receipt code. Variants:

- ``floor``: a bare Django view (bench/floor/) behind the same server, settings and middleware:
  it renders a small form with a CSRF token and a POST inserts one row. The budget is a ratio to it.
- ``report``: the public report form, no attachment.
- ``report_photo``: the public report form with one ~2 MB photo.

The first seconds of each variant are a warm-up, not measured. After the measured window no new
report starts and those in flight finish; then the rows added to the database during the variant
are counted and must equal the receipts the client saw (``*_db_rows`` = ``*_acknowledged``). The
rate counts receipts within the measured window; p50/p99 are POST latencies (``*_cycle_*``: GET
plus POST). ``*_server_cpu`` is the CPU time of gunicorn and of the database's server processes
per report in the window; ``*_machine_cpu`` how busy both cores were; ``*_client_cpu`` the client's
share of one core. The worker is not run: the request path only writes the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import html
import io
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "openbtam_bench_intake"
DISTRICT_SLUG = "bench-intake"
SCHOOL_SLUG = "bench-high"
FLOOR_PATH = "/bench-floor/"
VARIANTS = ("floor", "report", "report_photo")
SEED = 20260301

# Budgets (the issue): without attachments at least half the floor's rate and 100 reports/s, p99
# under 250 ms; with one 2 MB photo each at least 10 reports/s.
BUDGET_RATIO = 0.5
BUDGET_RATE = 100.0
BUDGET_P99_MS = 250.0
BUDGET_PHOTO_RATE = 10.0

# Lookarounds rather than \b: the same matches here, and a quarter less time over a 5 KB page.
CODE_RE = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}(?![0-9A-Za-z_])")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="about 10 s per variant, finishes within a minute")
    parser.add_argument("--duration", type=float, help="measured seconds per variant (default 60; --quick 8)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each variant (default 5; --quick 2)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent reporters (default 50)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (default gthread)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default 2)")
    parser.add_argument(
        "--no-reuse-port",
        dest="reuse_port",
        action="store_false",
        help="one listening socket shared by the workers (default: a socket per worker, SO_REUSEPORT)",
    )
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--form-path", default=f"/report/{SCHOOL_SLUG}/", help="path of the public report form")
    parser.add_argument("--keep-db", action="store_true", help="keep the database (and uploaded files) afterwards")
    args = parser.parse_args()
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(args.variants) - set(VARIANTS)
    if unknown or not args.variants:
        parser.error(f"--variants: unknown {', '.join(sorted(unknown)) or '(none given)'}")
    if args.duration is None:
        args.duration = 8.0 if args.quick else 60.0
    if args.warmup is None:
        args.warmup = 2.0 if args.quick else 5.0
    return args


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# Environment, database, static files ----------------------------------------------------------
def database_url() -> str:
    return os.environ.get("BENCH_INTAKE_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")


def _admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path.lstrip("/"), urlunsplit(parts._replace(path="/postgres"))


def _psql(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


# Migrated once into a template database (with the fixtures), cloned at every run: a fresh database
# in a fraction of a second instead of a migration of a few seconds. The template is rebuilt when
# its fingerprint (migrations, locked packages, this file's fixtures) changes.
FIXTURES = f"""
from django.db import connection
from btam.orgs.models import District, School
district = District.objects.create(slug="{DISTRICT_SLUG}", name="Bench District (fictitious)", state="NY")
School.objects.create(district=district, slug="{SCHOOL_SLUG}", name="Bench High", level=School.Level.HIGH)
with connection.cursor() as cursor:
    cursor.execute(
        "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, body text NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now())"
    )
"""


def fingerprint() -> str:
    digest = hashlib.sha256(FIXTURES.encode())
    for path in sorted([*ROOT.glob("btam/*/migrations/*.py"), ROOT / "requirements.lock"]):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def fresh_database(url: str, env: dict[str, str]) -> None:
    """Drop the benchmark database and clone it from the template (built first if missing or stale)."""
    name, admin_url = _admin(url)
    template = f"{name}_template"
    wanted = f"openbtam bench template {fingerprint()}"
    with _psql(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if row is None or row[0] != wanted:
            started = time.perf_counter()
            conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{template}"')
            template_env = {
                **os.environ,
                **env,
                "DATABASE_URL": urlunsplit(urlsplit(url)._replace(path=f"/{template}")),
            }
            for command in (["migrate", "--no-input", "-v0"], ["shell", "-c", FIXTURES]):
                done = subprocess.run(
                    [sys.executable, "manage.py", *command], cwd=ROOT, env=template_env, stdout=subprocess.DEVNULL
                )
                if done.returncode:
                    conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
                    sys.exit(f"manage.py {command[0]} failed on the template database")
            conn.execute(f"COMMENT ON DATABASE \"{template}\" IS '{wanted}'")
            log(f"template database {template} built in {time.perf_counter() - started:.1f} s")
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def drop_database(url: str) -> None:
    name, admin_url = _admin(url)
    with _psql(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(url: str, workdir: Path, port: int) -> dict[str, str]:
    """Production settings (DEBUG and DEMO_MODE off, fresh secrets) on plain-http loopback."""
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "bench.floor.settings",  # btam.settings plus the floor's URL
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "60",
        "DEBUG": "0",
        "DEMO_MODE": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "BTAM_RECEIPT_KEY": secrets.token_urlsafe(48),
        "BTAM_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain http on loopback: no redirect to https, cookies (session, CSRF) not marked secure.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "BTAM_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # 50 reporters from one address would trip the per-address and per-school limits at once.
        "BTAM_REPORTS_PER_ADDRESS": "0",
        "BTAM_REPORTS_PER_SCHOOL": "0",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(STATIC_ROOT),
        "BTAM_MEDIA_ROOT": str(workdir / "media"),
        "BTAM_VAR_DIR": str(workdir / "var"),
        "PYTHONPATH": str(ROOT),
    }


STATIC_ROOT = ROOT / "var" / "bench" / "intake-static"
STATIC_SOURCES = [ROOT / "static", ROOT / "node_modules/@uswds/uswds/dist", ROOT / "node_modules/htmx.org/dist"]


def static_files(env: dict[str, str]) -> None:
    """``collectstatic`` (manifest and compressed copies, as in production) into a directory kept
    between runs under var/: collected again only when a source is newer than the manifest."""
    manifest = STATIC_ROOT / "staticfiles.json"
    sources = [*STATIC_SOURCES, *ROOT.glob("btam/*/static"), ROOT / "requirements.lock"]
    newest = max((p.stat().st_mtime for d in sources if d.exists() for p in [d, *d.rglob("*")]), default=0.0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return
    started = time.perf_counter()
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    if subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, check=False).returncode != 0:
        sys.exit("collectstatic failed")
    manifest.touch()
    log(f"static files collected in {time.perf_counter() - started:.1f} s into {STATIC_ROOT}")


def db_counts(url: str) -> dict[str, int]:
    with _psql(url) as conn:
        floor = conn.execute("SELECT count(*) FROM bench_floor").fetchone()[0]
        report, abuse = conn.execute("SELECT count(*), count(*) FILTER (WHERE is_abuse) FROM intake_report").fetchone()
        attachments = conn.execute("SELECT count(*) FROM intake_attachment").fetchone()[0]
    return {"floor": floor, "report": report, "abuse": abuse, "attachments": attachments}


# The photo --------------------------------------------------------------------------------------
def make_photo(target: int = 2_000_000) -> bytes:
    """A real 3000x2000 JPEG of about ``target`` bytes, with camera metadata (which the app strips):
    smooth shapes plus sensor-like noise, so it does not compress to nothing."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(SEED)
    w, h = 3000, 2000
    small = Image.new("RGB", (300, 200), (120, 140, 160))
    draw = ImageDraw.Draw(small)
    for _ in range(60):
        x, y = rng.randrange(300), rng.randrange(200)
        rx, ry = rng.randrange(5, 80), rng.randrange(5, 60)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - rx, y - ry, x + rx, y + ry), fill=color)
    scene = small.filter(ImageFilter.GaussianBlur(2)).resize((w, h), Image.Resampling.BICUBIC)
    noise = Image.merge("RGB", [Image.effect_noise((w, h), 64) for _ in range(3)])
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"  # Make
    exif[0x0110] = "BC-1 (fictitious)"  # Model
    exif[0x0132] = "2026:01:05 08:15:00"  # DateTime
    low, high, best = 0.0, 1.0, b""
    for _ in range(9):  # bisect the amount of noise until the file is within 3% of the target
        alpha = (low + high) / 2
        out = io.BytesIO()
        Image.blend(scene, noise, alpha).save(out, "JPEG", quality=88, exif=exif)
        best = out.getvalue()
        if abs(len(best) - target) < target * 0.03:
            break
        low, high = (alpha, high) if len(best) < target else (low, alpha)
    return best


def photo_bytes() -> bytes:
    """The photo, made once and kept under var/ (the same bytes at every run)."""
    path = ROOT / "var" / "bench" / "intake-photo.jpg"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_photo())
    return path.read_bytes()


# Synthetic reports ------------------------------------------------------------------------------
WHO = [
    "A student in my math class", "Someone in our group chat", "A boy in ninth grade", "A girl on my bus",
    "An older student I don't know well", "A kid from the soccer team", "My friend's brother", "A new student",
    "Someone who sits near me at lunch", "A junior named Jordan", "A student called José", "A kid in band",
]  # fmt: skip
SAID = [
    "said that", "posted that", "told a few of us that", "wrote in a message that", "was bragging that",
    "kept saying that", "put a story up saying that",
]  # fmt: skip
WHAT = [
    "they would bring something to school next week to scare people",
    "the people who laughed at them were going to be sorry",
    "nobody would miss them if they were gone",
    "they had found where a teacher lives",
    "they were going to fight someone after practice",
    "they had a list of names",
    "Friday was going to be a day everyone remembers",
    "they were tired of everything and wanted it to stop",
]
WHERE = [
    "near the gym", "in the cafeteria", "by the front office", "in the parking lot", "at the bus stop",
    "in the library", "behind the science building", "in the hallway by room 214",
]  # fmt: skip
MORE = [
    "I am worried because they seemed serious.",
    "Other students saw it too but nobody told an adult.",
    "I don't know their last name.",
    "It happened more than once this week.",
    "I took a screenshot before it was deleted.",
    "They have been very quiet and angry lately.",
    "I don't want them to know I said anything.",
    "A teacher was nearby but did not hear it.",
]


def narrative(rng: random.Random) -> str:
    parts = [f"{rng.choice(WHO)} {rng.choice(SAID)} {rng.choice(WHAT)}."]
    parts.append(f"It was {rng.choice(WHERE)} around {rng.randint(7, 15)}:{rng.choice(('05', '20', '35', '50'))}.")
    parts += rng.sample(MORE, rng.randint(2, 5))
    return " ".join(parts)


# Generic form parsing ---------------------------------------------------------------------------
FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form\s*>", re.I | re.S)
FIELD_RE = re.compile(r"<(input|select|textarea|button)\b([^>]*)>", re.I)
ATTR_RE = re.compile(r"""([^\s"'=<>`/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
OPTION_RE = re.compile(r"<option\b([^>]*)>([^<]*)", re.I)
END_TEXTAREA_RE = re.compile(r"</textarea\s*>", re.I)
END_SELECT_RE = re.compile(r"</select\s*>", re.I)
HONEYPOT_RE = re.compile(r"website|homepage|honeypot|^hp_|_hp$|^url$|^fax$|^company$|leave.*(empty|blank)", re.I)
SKIP_TYPES = {"submit", "image", "reset", "button"}


def attrs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in ATTR_RE.finditer(text):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        out.setdefault(m.group(1).lower(), html.unescape(value) if value else "")
    return out


@dataclass
class FormSpec:
    action: str
    multipart: bool
    fields: list[tuple[str, str]]  # in document order; the narrative marked by NARRATIVE
    files: list[str]
    honeypots: list[str]
    codes_on_page: set[str]
    # (index in fields, offset in the page of the <input> tag) of each hidden input of the form
    hidden_at: list[tuple[int, int]] = field(default_factory=list)


NARRATIVE = "\x00narrative"
SHORT = "\x00short"


def _filler(kind: str) -> str:
    return {
        "email": "\x00email",
        "date": "\x00date",
        "number": "1",
        "range": "1",
        "tel": "555-0100",
        "url": "https://example.test/post",
    }.get(kind, SHORT)


def parse_form(page: str, path: str) -> FormSpec:
    """The POST form of the page holding a textarea (the report), read as a browser would send it."""
    forms = [(attrs(m.group(1)), m.group(2), m.start(2)) for m in FORM_RE.finditer(page)]
    posts = [f for f in forms if f[0].get("method", "get").lower() == "post"]
    if not posts:
        raise ValueError("no POST form on the page")
    form_attrs, body, body_at = max(posts, key=lambda f: ("<textarea" in f[1].lower(), len(FIELD_RE.findall(f[1]))))
    hidden_at: list[tuple[int, int]] = []
    fields: list[tuple[str, str]] = []
    files: list[str] = []
    honeypots: list[str] = []
    radios: dict[str, tuple[int, str]] = {}  # name -> (index in fields, value chosen)
    submitter: tuple[str, str] | None = None
    first_textarea = True
    for m in FIELD_RE.finditer(body):
        tag, a = m.group(1).lower(), attrs(m.group(2))
        name = a.get("name", "")
        if not name or "disabled" in a:
            continue
        trap = bool(HONEYPOT_RE.search(name)) or (a.get("tabindex") == "-1" and a.get("type") != "hidden")
        if trap:
            honeypots.append(name)
        required = "required" in a or a.get("aria-required") == "true"
        if tag == "button":
            if a.get("type", "submit").lower() == "submit" and submitter is None:
                submitter = (name, a.get("value", ""))
            continue
        if tag == "textarea":
            end = END_TEXTAREA_RE.search(body, m.end())
            text = html.unescape(body[m.end() : end.start() if end else m.end()]).removeprefix("\n")
            if not text and not trap and (required or first_textarea):
                text = NARRATIVE
            first_textarea = False
            fields.append((name, text))
            continue
        if tag == "select":
            end = END_SELECT_RE.search(body, m.end())
            inner = body[m.end() : end.start() if end else None]
            options = [(attrs(o), label) for o, label in OPTION_RE.findall(inner)]
            values = [(o.get("value", html.unescape(label).strip()), "selected" in o) for o, label in options]
            if "multiple" in a:
                fields += [(name, v) for v, sel in values if sel]
                continue
            chosen = next((v for v, sel in values if sel), None)
            if chosen is None:
                chosen = next((v for v, _ in values if v), values[0][0] if values else "")
            fields.append((name, chosen))
            continue
        kind = a.get("type", "text").lower()
        value = a.get("value", "")
        if kind in SKIP_TYPES:
            if kind in ("submit", "image") and submitter is None:
                submitter = (name, value)
            continue
        if kind == "file":
            files.append(name)
        elif kind == "radio":
            if name not in radios:
                radios[name] = (len(fields), value or "on")
                fields.append((name, value or "on"))
            elif "checked" in a:
                index = radios[name][0]
                fields[index] = (name, value or "on")
                radios[name] = (index, value or "on")
        elif kind == "checkbox":
            if "checked" in a or (required and not trap):
                fields.append((name, value or "on"))
        elif kind == "hidden" or trap:
            if kind == "hidden":
                hidden_at.append((len(fields), body_at + m.start()))
            fields.append((name, value if kind == "hidden" else ""))
        else:
            fields.append((name, value or (_filler(kind) if required else "")))
    if submitter is not None:
        fields.append(submitter)
    action = urljoin(path, form_attrs.get("action") or path)
    multipart = form_attrs.get("enctype", "").lower() == "multipart/form-data"
    return FormSpec(action, multipart, fields, files, honeypots, set(CODE_RE.findall(page)), hidden_at)


HIDDEN_INPUT_RE = re.compile(r"<input\b[^>]*?\btype\s*=\s*[\"']?hidden\b[^>]*>", re.I)


_QUOTED_VALUE_RE = re.compile(r'\svalue\s*=\s*"([^"&]*)"', re.I)


def _without_hidden_values(page: str) -> tuple[str, list[tuple[int, str]], list[tuple[int, int]] | None]:
    """The page with the values of its hidden inputs left out, (offset, value) of each, and where
    each value stands in the page (None when one is not a plain double-quoted value)."""
    parts: list[str] = []
    found: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] | None = []
    last = 0
    for m in HIDDEN_INPUT_RE.finditer(page):
        tag_attrs = attrs(m.group(0)[6:-1])
        parts += [page[last : m.start()], "<hidden:", tag_attrs.get("name", ""), ">"]
        found.append((m.start(), tag_attrs.get("value", "")))
        quoted = _QUOTED_VALUE_RE.search(m.group(0))
        if spans is not None and quoted is not None and quoted.group(1) == tag_attrs.get("value", ""):
            spans.append((m.start() + quoted.start(1), m.start() + quoted.end(1)))
        else:
            spans = None
        last = m.end()
    parts.append(page[last:])
    return "".join(parts), found, spans


class FormCache:
    """The form last parsed, reused for a page that differs from its page only in the values of
    hidden inputs (the CSRF and one-time tokens, new for every visitor): the form is then the same
    with those values. Parsing the whole 20 KB page again took a millisecond of the client's CPU
    per report, as much as the server spends on some requests. The check: a page of the same length
    whose text between the hidden values is the same (a few string comparisons), else the page
    without its hidden values compared with the last one's (a regular-expression pass). Any other
    difference (an error page, another language) parses the page in full."""

    def __init__(self) -> None:
        self.shape: str | None = None
        self.spec: FormSpec | None = None
        self.slots: list[int] = []  # for each hidden input of the page in order: its field's index, or -1
        self.page: str | None = None
        self.spans: list[tuple[int, int]] | None = None

    def _same_but_values(self, page: str) -> list[str] | None:
        """The hidden values of a page that is the last page but for them (same lengths), or None."""
        last, spans = self.page, self.spans
        if last is None or spans is None or len(page) != len(last):
            return None
        at = 0
        for start, end in spans:
            if page[at:start] != last[at:start]:
                return None
            at = end
        if page[at:] != last[at:]:
            return None
        values = [page[start:end] for start, end in spans]
        return None if any('"' in v or "&" in v for v in values) else values

    def _with_values(self, values: list[str]) -> FormSpec:
        assert self.spec is not None
        fields = list(self.spec.fields)
        for slot, value in zip(self.slots, values, strict=True):
            if slot >= 0:
                fields[slot] = (fields[slot][0], value)
        return FormSpec(
            self.spec.action, self.spec.multipart, fields, self.spec.files, self.spec.honeypots,
            self.spec.codes_on_page, self.spec.hidden_at,
        )  # fmt: skip

    def parse(self, page: str, path: str) -> FormSpec:
        quick = self._same_but_values(page)
        if quick is not None:
            return self._with_values(quick)
        shape, hidden, spans = _without_hidden_values(page)
        if shape == self.shape and self.spec is not None:
            self.page, self.spans = page, spans
            return self._with_values([value for _, value in hidden])
        spec = parse_form(page, path)
        index_at = {offset: index for index, offset in spec.hidden_at}
        self.shape, self.spec, self.slots = shape, spec, [index_at.get(offset, -1) for offset, _ in hidden]
        self.page, self.spans = page, spans
        return spec


def fill(spec: FormSpec, rng: random.Random) -> list[tuple[str, str]]:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    out = []
    for name, value in spec.fields:
        if value == NARRATIVE:
            value = narrative(rng)
        elif value == SHORT:
            value = rng.choice(WHERE)
        elif value == "\x00email":
            value = f"reporter{rng.randrange(10**6)}@example.test"
        elif value == "\x00date":
            value = today
        out.append((name, value))
    return out


def multipart_body(fields: list[tuple[str, str]], files: list[str], photo: bytes | None) -> tuple[bytes, str]:
    """multipart/form-data as a browser sends it: the photo in the first file input, the other file
    inputs as empty parts (no file chosen)."""
    boundary = "----benchintake" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        parts.append(value.encode() + b"\r\n")
    for i, name in enumerate(files):
        if i == 0 and photo is not None:
            filename, ctype, content = "IMG_2041.jpg", "image/jpeg", photo
        else:
            filename, ctype, content = "", "application/octet-stream", b""
        head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}'
        parts += [f"--{boundary}\r\n{head}\r\n\r\n".encode(), content, b"\r\n"]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# A minimal HTTP/1.1 client ----------------------------------------------------------------------
class HttpError(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def cookies(self) -> dict[str, str]:
        out = {}
        for k, v in self.headers:
            if k == "set-cookie":
                pair = v.split(";", 1)[0]
                key, _, value = pair.partition("=")
                out[key.strip()] = value.strip().strip('"')
        return out


class Connection:
    """One keep-alive connection (re-opened when the server closes it)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> Response:
        head = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        raw_head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        for attempt in (1, 2):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                if len(body) < 65536:
                    self.writer.write(raw_head + body)
                else:
                    self.writer.write(raw_head)
                    self.writer.write(body)
                await self.writer.drain()
                response, close = await self._read(method)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                # A kept-alive connection the server closed meanwhile: a GET is retried once on a
                # new one. A POST never is (it may have been received).
                if reused and method == "GET" and attempt == 1:
                    continue
                raise
            if close:
                self.close()
            return response
        raise HttpError("unreachable")

    async def _read(self, method: str) -> tuple[Response, bool]:
        assert self.reader is not None
        reader = self.reader
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status_text = lines[0].split(" ", 2)[:2]
        headers = []
        for line in lines[1:]:
            if line:
                key, _, value = line.partition(":")
                headers.append((key.strip().lower(), value.strip()))
        response = Response(int(status_text), headers, b"")
        connection = (response.get("connection") or "").lower()
        close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        length = response.get("content-length")
        if method == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200:
            pass
        elif "chunked" in (response.get("transfer-encoding") or "").lower():
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            response.body = b"".join(chunks)
        elif length is not None:
            response.body = await reader.readexactly(int(length))
        else:
            response.body = await reader.read()
            close = True
        return response, close


# The load ---------------------------------------------------------------------------------------
@dataclass
class Run:
    variant: str
    host: str
    port: int
    path: str
    photo: bytes | None
    window: tuple[float, float]
    stopping: bool = False
    acknowledged: int = 0
    post_ms: list[float] = field(default_factory=list)
    cycle_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    described: bool = False
    forms: FormCache = field(default_factory=lambda: FormCache())

    def error(self, kind: str, page: str = "") -> None:
        self.errors[kind] += 1
        if page and len(self.error_samples) < 3:
            self.error_samples.append(f"{kind}: {gist(page)}")


def gist(page: str) -> str:
    """The title and the start of the text of an HTML page (for error samples)."""
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.I | re.S)
    main = re.search(r"<main\b.*", page, re.I | re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.group(0) if main else page)).strip()
    return f"[{html.unescape(title.group(1).strip()) if title else '-'}] {html.unescape(text)[:240]}"


def common_headers(run: Run, jar: dict[str, str]) -> list[tuple[str, str]]:
    headers = [
        ("User-Agent", "openbtam-bench-intake/1"),
        ("Accept", "text/html,application/xhtml+xml"),
        ("Accept-Language", "en"),
    ]
    if jar:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items())))
    return headers


async def reporter(run: Run, index: int) -> None:
    rng = random.Random(SEED * 1000 + index)
    conn = Connection(run.host, run.port)
    origin = f"http://{run.host}:{run.port}"
    timeout = 120.0 if run.photo else 60.0
    try:
        while not run.stopping:
            jar: dict[str, str] = {}  # every report is a new visitor
            started = time.perf_counter()
            try:
                page = await asyncio.wait_for(conn.request("GET", run.path, common_headers(run, jar)), timeout)
                jar.update(page.cookies())
                if page.status != 200:
                    run.error(f"GET {page.status}", page.body.decode("utf-8", "replace"))
                    await asyncio.sleep(0.1)
                    continue
                spec = run.forms.parse(page.body.decode("utf-8", "replace"), run.path)
                if not run.described:
                    run.described = True
                    names = ", ".join(dict.fromkeys(n for n, _ in spec.fields))
                    log(
                        f"{run.variant} form: POST {spec.action} ({'multipart' if spec.multipart else 'urlencoded'}); "
                        f"fields: {names}; files: {', '.join(spec.files) or '-'}; "
                        f"honeypot (left empty): {', '.join(spec.honeypots) or '-'}"
                    )
                if run.stopping:
                    break
                values = fill(spec, rng)
                if spec.multipart or (run.photo and spec.files):
                    body, content_type = multipart_body(values, spec.files, run.photo)
                else:
                    body, content_type = urlencode(values).encode(), "application/x-www-form-urlencoded"
                if run.photo is not None and not spec.files:
                    run.error("no file input on the form for the photo")
                    await asyncio.sleep(1)
                    continue
                headers = common_headers(run, jar) + [
                    ("Content-Type", content_type),
                    ("Origin", origin),
                    ("Referer", origin + run.path),
                ]
                posted = time.perf_counter()
                result = await asyncio.wait_for(conn.request("POST", spec.action, headers, body), timeout)
                for _ in range(3):  # follow a redirect to the receipt page, if the app does that
                    location = result.get("location")
                    if result.status not in (301, 302, 303) or not location:
                        break
                    jar.update(result.cookies())
                    target = urlsplit(urljoin(origin + spec.action, location))
                    target_path = target.path + (f"?{target.query}" if target.query else "")
                    result = await asyncio.wait_for(conn.request("GET", target_path, common_headers(run, jar)), timeout)
                done = time.perf_counter()
                text = result.body.decode("utf-8", "replace")
                if result.status != 200:
                    run.error(f"POST {result.status}", text)
                    await asyncio.sleep(0.1)
                    continue
                if not (set(CODE_RE.findall(text)) - spec.codes_on_page):
                    run.error("POST 200 without a receipt code", text)
                    continue
                run.acknowledged += 1
                if run.window[0] <= done < run.window[1]:
                    run.post_ms.append((done - posted) * 1000)
                    run.cycle_ms.append((done - started) * 1000)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                run.error(type(exc).__name__, str(exc))
                conn.close()
                await asyncio.sleep(0.1)
    finally:
        conn.close()


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    fields_ = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields_[3] + fields_[4]
    return sum(fields_) - idle, sum(fields_)


def _ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    after = stat.rsplit(")", 1)[1].split()
    return int(after[11]) + int(after[12])  # utime + stime


def server_ticks(master: int, url: str) -> dict[int, int]:
    """CPU ticks so far of the gunicorn master, its workers and the database's server processes."""
    import psycopg

    pids = [master]
    try:
        pids += [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        pass
    name, admin_url = _admin(url)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]).fetchall()
    pids += [int(r[0]) for r in rows]
    return {pid: _ticks(pid) for pid in pids}


async def run_variant(run: Run, concurrency: int, warmup: float, duration: float, sample: Any) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    run.window = (start + warmup, start + warmup + duration)
    tasks = [loop.create_task(reporter(run, i)) for i in range(concurrency)]
    await asyncio.sleep(warmup)
    cpu0, proc0, server0 = cpu_times(), time.process_time(), sample()
    await asyncio.sleep(max(0.0, run.window[1] - time.perf_counter()))
    cpu1, proc1, server1 = cpu_times(), time.process_time(), sample()
    run.stopping = True
    drain_started = time.perf_counter()
    _, pending = await asyncio.wait(tasks, timeout=150.0)
    if pending:
        log(f"{run.variant}: {len(pending)} reporters still waiting after 150 s: cancelled (their reports are lost)")
        run.errors["abandoned in flight"] += len(pending)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return {
        "machine_cpu": 100.0 * (cpu1[0] - cpu0[0]) / max(1, cpu1[1] - cpu0[1]),
        "client_cpu": 100.0 * (proc1 - proc0) / duration,
        "client_cpu_s": proc1 - proc0,
        "drain": time.perf_counter() - drain_started,
        "server_cpu_s": sum(t - server0.get(pid, 0) for pid, t in server1.items()) / os.sysconf("SC_CLK_TCK"),
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


# The server -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, env: dict[str, str], port: int, workdir: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "gunicorn", "btam.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.threads),
        "--timeout", "120",
        "--graceful-timeout", "10",
        "--log-level", "warning",
        "--error-logfile", str(workdir / "gunicorn.log"),
        "--chdir", str(ROOT),
        "--no-control-socket",  # gunicorn 27's control socket has one default path per user
    ]  # fmt: skip
    if args.reuse_port:
        command.append("--reuse-port")
    return subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, start_new_session=True)


async def _status(port: int, path: str) -> int:
    conn = Connection("127.0.0.1", port)
    try:
        response = await asyncio.wait_for(conn.request("GET", path, [("Accept", "text/html")]), 10)
        return response.status
    finally:
        conn.close()


def wait_ready(server: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if asyncio.run(_status(port, FLOOR_PATH)) == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    log_file = workdir / "gunicorn.log"
    sys.exit(f"gunicorn did not start:\n{log_file.read_text() if log_file.exists() else ''}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGQUIT)  # quick shutdown: nothing is in flight any more
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# Main -------------------------------------------------------------------------------------------
def figures(variant: str, run: Run, extra: dict[str, float], rows: int, duration: float) -> float:
    rate = len(run.post_ms) / duration
    print(f"{variant}_rate: {rate:.1f} reports/s")
    print(f"{variant}_p50: {percentile(run.post_ms, 50):.1f} ms")
    print(f"{variant}_p99: {percentile(run.post_ms, 99):.1f} ms")
    print(f"{variant}_cycle_p50: {percentile(run.cycle_ms, 50):.1f} ms")
    print(f"{variant}_cycle_p99: {percentile(run.cycle_ms, 99):.1f} ms")
    print(f"{variant}_errors: {sum(run.errors.values())} count")
    print(f"{variant}_db_rows: {rows} count")
    print(f"{variant}_acknowledged: {run.acknowledged} count")
    print(f"{variant}_machine_cpu: {extra['machine_cpu']:.0f} %")
    print(f"{variant}_client_cpu: {extra['client_cpu']:.0f} %")
    if run.post_ms:
        server_ms = extra["server_cpu_s"] * 1000 / len(run.post_ms)
        client_ms = extra["client_cpu_s"] * 1000 / len(run.post_ms)
        print(f"{variant}_server_cpu: {server_ms:.1f} ms/report")
        # What the cores would give if this benchmark had them to itself: an estimate from the CPU
        # time spent per report, for a machine shared with other work (not a measurement).
        print(f"{variant}_cpu_capacity: {(os.cpu_count() or 1) * 1000 / (server_ms + client_ms):.0f} reports/s")
    if rows != run.acknowledged:
        print(
            f"# MISMATCH {variant}: {rows} rows in the database but {run.acknowledged} receipts acknowledged",
            file=sys.stderr,
        )
        print(f"{variant}_db_mismatch: {rows - run.acknowledged} count (MISMATCH)")
    if run.errors:
        log(f"{variant} errors: {dict(run.errors)}")
        for sample in run.error_samples:
            log(f"  {sample}")
    log(f"{variant}: drained in {extra['drain']:.1f} s")
    return rate


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    url = database_url()
    workdir = Path(tempfile.mkdtemp(prefix="openbtam-bench-intake-"))
    port = free_port()
    env = production_env(url, workdir, port)
    (workdir / "var").mkdir()
    server: subprocess.Popen[bytes] | None = None
    try:
        fresh_database(url, env)
        static_files(env)
        server = start_server(args, env, port, workdir)
        photo = photo_bytes() if "report_photo" in args.variants else None
        wait_ready(server, port, workdir)
        if any(v.startswith("report") for v in args.variants):
            status = asyncio.run(_status(port, args.form_path))
            if status != 200:
                sys.exit(f"The public report form {args.form_path} answers {status}, not 200: is it there yet?")
        log(f"set up in {time.perf_counter() - began:.1f} s (server on 127.0.0.1:{port}, work dir {workdir})")
        print(f"concurrency: {args.concurrency} count")
        print(f"duration: {args.duration:g} s")
        print(
            f"server_workers: {args.workers} count ({args.worker_class}, {args.threads} thread(s) each, "
            f"{'a listening socket each' if args.reuse_port else 'one shared listening socket'})"
        )
        if photo is not None:
            print(f"photo_size: {len(photo)} bytes")
        print(f"load_average: {os.getloadavg()[0]:.1f} runnable")
        rates: dict[str, float] = {}
        p99s: dict[str, float] = {}
        for variant in args.variants:
            before = db_counts(url)
            path = FLOOR_PATH if variant == "floor" else args.form_path
            run = Run(variant, "127.0.0.1", port, path, photo if variant == "report_photo" else None, (0.0, 0.0))
            log(f"{variant}: {args.concurrency} reporters, {args.warmup:g} s warm-up, {args.duration:g} s measured")
            sample = partial(server_ticks, server.pid, url)
            extra = asyncio.run(run_variant(run, args.concurrency, args.warmup, args.duration, sample))
            after = db_counts(url)
            table = "floor" if variant == "floor" else "report"
            rows = after[table] - before[table]
            rates[variant] = figures(variant, run, extra, rows, args.duration)
            p99s[variant] = percentile(run.post_ms, 99)
            if variant != "floor":
                print(f"{variant}_marked_abuse: {after['abuse'] - before['abuse']} count")
            if variant == "report_photo":
                print(f"{variant}_attachments: {after['attachments'] - before['attachments']} count")
        if "report" in rates:
            if "floor" in rates:
                ratio = rates["report"] / rates["floor"] if rates["floor"] else 0.0
                print(f"report_vs_floor: {ratio:.2f} ratio")
                ok = ratio >= BUDGET_RATIO
                print(f"budget_report_rate_ratio: {ratio:.2f} ratio (>= {BUDGET_RATIO} {verdict(ok)})")
            ok = rates["report"] >= BUDGET_RATE
            print(f"budget_report_rate: {rates['report']:.1f} reports/s (>= {BUDGET_RATE:g} {verdict(ok)})")
            ok = p99s["report"] < BUDGET_P99_MS
            print(f"budget_report_p99: {p99s['report']:.1f} ms (< {BUDGET_P99_MS:g} {verdict(ok)})")
        if "report_photo" in rates:
            ok = rates["report_photo"] >= BUDGET_PHOTO_RATE
            print(
                f"budget_report_photo_rate: {rates['report_photo']:.1f} reports/s "
                f"(>= {BUDGET_PHOTO_RATE:g} {verdict(ok)})"
            )
        print(f"load_average_end: {os.getloadavg()[0]:.1f} runnable")
        log(f"finished in {time.perf_counter() - began:.1f} s")
    finally:
        if server is not None:
            stop_server(server)
        log_file = workdir / "gunicorn.log"
        if log_file.exists() and log_file.stat().st_size:
            log("gunicorn log (tail):\n" + "\n".join(log_file.read_text().splitlines()[-20:]))
        log(f"server stopped at {time.perf_counter() - began:.1f} s")
        if args.keep_db:
            log(f"kept: database {url}, work dir (static files, uploads) {workdir}")
        else:
            drop_database(url)
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
