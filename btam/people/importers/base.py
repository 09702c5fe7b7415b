"""The format-independent half of roster imports: reading a bundle safely, row errors, the per-file
summary and the apply engine. A format (``oneroster.py``; a Clever module would be one more)
subclasses :class:`FormatImporter` and supplies ``validate`` (pass 1) and ``apply`` (pass 2).

Reading never loads a whole file: every CSV member is streamed through ``csv`` over a
``TextIOWrapper`` (UTF-8, BOM accepted, any newline), with a cap on line length, on members, on
total uncompressed bytes and on the compression ratio, so that a zip bomb or a damaged upload
is refused with a clear error instead of filling memory.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, ClassVar

from django.db import connection, models, reset_queries
from django.utils import timezone

if TYPE_CHECKING:
    from btam.accounts.models import User
    from btam.orgs.models import District
    from btam.people.models import ImportRun

# Limits. Module constants (not settings) so that tests can lower them.
MAX_BUNDLE_BYTES = 1 << 30  # 1 GiB: the zip (or folder) as uploaded
MAX_UNCOMPRESSED_BYTES = 4 << 30  # 4 GiB: all members, decompressed
MAX_COMPRESSION_RATIO = 200  # per member, over MIN_RATIO_CHECK_BYTES
MIN_RATIO_CHECK_BYTES = 1 << 20
MAX_MEMBERS = 100
MAX_LINE_CHARS = 1 << 20  # one physical line
MAX_FIELD_CHARS = 1 << 17  # one field (the csv module's own limit, made explicit)
MAX_ERRORS = 1000  # errors (and warnings) kept on the run; the rest are counted
BATCH_SIZE = 2000
PROGRESS_EVERY = 5000

ProgressCallback = Callable[[int, int, str], None]

_IGNORED_MEMBERS = re.compile(r"(^|/)(__MACOSX/|\.[^/]*$|Thumbs\.db$|desktop\.ini$)", re.IGNORECASE)
_SURROGATE = re.compile("[\udc80-\udcff]")


class BundleError(Exception):
    """The bundle itself cannot be read: not a zip, a zip bomb, too large, a damaged member..."""

    def __init__(self, reason: str, *, file: str = "", line: int = 0, column: str = "") -> None:
        super().__init__(reason)
        self.issue = Issue(file, line, column, reason)


@dataclass(frozen=True, slots=True)
class Issue:
    """One error or warning, with the place it was found (line 1 is the header, 0 the whole file)."""

    file: str
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        return format_issue(self.as_dict())


def format_issue(issue: dict[str, Any]) -> str:
    """``users.csv:4:birthDate: reason`` (the place is left out where it is unknown)."""
    place = [str(issue.get("file") or "bundle")]
    if issue.get("line"):
        place.append(str(issue["line"]))
    if issue.get("column"):
        place.append(str(issue["column"]))
    return f"{':'.join(place)}: {issue.get('reason', '')}"


class IssueList:
    """Errors or warnings, in the order found; keeps the first MAX_ERRORS and counts the rest."""

    def __init__(self) -> None:
        self.items: list[Issue] = []
        self.count = 0
        self.rows_by_file: dict[str, int] = {}  # rows with at least one issue (consecutive issues of a row)
        self._last: tuple[str, int] = ("", 0)

    def add(self, file: str, line: int, column: str, reason: str) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(Issue(file, line, column, reason))
        if line > 1 and (file, line) != self._last:
            self.rows_by_file[file] = self.rows_by_file.get(file, 0) + 1
        self._last = (file, line)

    def __bool__(self) -> bool:
        return self.count > 0

    def __len__(self) -> int:
        return self.count

    def as_list(self) -> list[dict[str, Any]]:
        out = [i.as_dict() for i in self.items]
        if self.count > len(self.items):
            more = self.count - len(self.items)
            out.append({"file": "", "line": 0, "column": "", "reason": f"... and {more} more not listed"})
        return out


SUMMARY_KEYS = ("created", "updated", "deactivated", "unchanged", "rejected")


@dataclass
class FileSummary:
    """What one file did. ``not_in_file`` counts existing rows of a bulk file's kind that the file
    did not mention (they are kept, see the importer's docstring)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    rejected: int = 0
    not_in_file: int | None = None
    note: str = ""
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, **{k: getattr(self, k) for k in SUMMARY_KEYS}}
        if self.not_in_file is not None:
            out["not_in_file"] = self.not_in_file
        if self.note:
            out["note"] = self.note
        out.update(self.extra)
        return out


def row_hash(*values: object) -> str:
    """A short, stable fingerprint of the imported fields: same hash, nothing to write."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def row_hash_text(text: str) -> str:
    """:func:`row_hash` of text already joined (the fast path for large files)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# Parsing helpers shared by formats ----------------------------------------------------------------


def parse_date(value: str) -> dt.date:
    """An ISO date (YYYY-MM-DD); raises ValueError."""
    if len(value) != 10:
        raise ValueError(value)
    return dt.date.fromisoformat(value)


def parse_datetime(value: str) -> dt.datetime:
    """An ISO date or date-time; a date alone is midnight UTC, a time without zone is UTC."""
    if len(value) == 10:
        d = dt.date.fromisoformat(value)
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    if len(value) < 10 or value[10] not in "T ":
        raise ValueError(value)
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def parse_bool(value: str) -> bool | None:
    low = value.strip().lower()
    if low in ("true", "1", "yes", "y", "t"):
        return True
    if low in ("false", "0", "no", "n", "f"):
        return False
    return None


# Reading bundles ----------------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """Counts decompressed bytes and stops a member that grows past its declared size or the limit."""

    def __init__(self, raw: IO[bytes], name: str, declared: int, budget: list[int]) -> None:
        self._raw = raw
        self._name = name
        self._declared = declared
        self._budget = budget  # [bytes left for this read-through of the bundle], shared by members
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            chunk = self._raw.read(len(buffer))
        except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
            raise BundleError(f"the file is damaged in the zip ({exc})", file=self._name) from None
        n = len(chunk)
        self._read += n
        self._budget[0] -= n
        if self._read > self._declared:
            raise BundleError("the file is larger than the zip header says; refused", file=self._name)
        if self._budget[0] < 0:
            raise BundleError(
                f"the bundle holds more than {MAX_UNCOMPRESSED_BYTES // (1 << 20)} MB of data; refused",
                file=self._name,
            )
        buffer[:n] = chunk
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass(frozen=True)
class Member:
    name: str  # the bare file name, e.g. "users.csv"
    path: str  # where it is in the zip or folder
    size: int


class Bundle:
    """A zip or a folder of CSV files, checked before anything is read.

    ``csv_files`` maps each CSV's bare name (one folder level inside a zip is fine) to its member.
    A non-CSV file is an error; system clutter (``__MACOSX/``, dotfiles) is skipped.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.csv_files: dict[str, Member] = {}
        self.errors: list[Issue] = []
        self._zip: zipfile.ZipFile | None = None
        self._budget = [MAX_UNCOMPRESSED_BYTES]
        if path.is_dir():
            self._open_folder()
        elif path.is_file():
            self._open_zip()
        else:
            raise BundleError("no such file or folder")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_total(self, total: int) -> None:
        if total > MAX_UNCOMPRESSED_BYTES:
            raise BundleError(
                f"the bundle holds {_mb(total)} of data; the limit is {_mb(MAX_UNCOMPRESSED_BYTES)}; refused"
            )

    def _add(self, name: str, path: str, size: int) -> None:
        if not name.lower().endswith(".csv"):
            self.errors.append(Issue(name, 0, "", "not a CSV file (a bundle holds only .csv files)"))
            return
        if name in self.csv_files:
            self.errors.append(Issue(name, 0, "", "the bundle holds two files of this name"))
            return
        self.csv_files[name] = Member(name, path, size)

    def _open_folder(self) -> None:
        entries = [p for p in sorted(self.path.iterdir()) if not p.name.startswith(".")]
        if len(entries) > MAX_MEMBERS:
            raise BundleError(f"the folder holds {len(entries)} files; the limit is {MAX_MEMBERS}")
        total = 0
        for entry in entries:
            if entry.is_dir():
                self.errors.append(Issue(entry.name, 0, "", "a folder inside the bundle folder (not read)"))
                continue
            size = entry.stat().st_size
            total += size
            self._add(entry.name, str(entry), size)
        self._check_total(total)
        if total > MAX_BUNDLE_BYTES:
            raise BundleError(f"the bundle is {_mb(total)}; the limit is {_mb(MAX_BUNDLE_BYTES)}")

    def _open_zip(self) -> None:
        size = self.path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise BundleError(f"the file is {_mb(size)}; the limit is {_mb(MAX_BUNDLE_BYTES)}")
        if not zipfile.is_zipfile(self.path):
            raise BundleError("not a zip file or a folder of CSV files")
        try:
            self._zip = zipfile.ZipFile(self.path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise BundleError(f"the zip file is damaged ({exc})") from None
        if len(infos) > MAX_MEMBERS:
            raise BundleError(f"the zip holds {len(infos)} entries; the limit is {MAX_MEMBERS}")
        total = 0
        kept: list[zipfile.ZipInfo] = []
        for info in infos:
            raw = info.filename
            if raw.startswith(("/", "\\")) or ".." in PurePosixPath(raw.replace("\\", "/")).parts or ":" in raw:
                raise BundleError(f"unsafe path in the zip: {raw!r}")
            if info.is_dir() or _IGNORED_MEMBERS.search(raw):
                continue
            if info.flag_bits & 0x1:
                raise BundleError("the file is encrypted in the zip", file=raw)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise BundleError("the file uses an unsupported compression method", file=raw)
            total += info.file_size
            self._check_total(total)
            if info.file_size > MIN_RATIO_CHECK_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
                info.compress_size, 1
            ):
                raise BundleError(
                    f"compressed more than {MAX_COMPRESSION_RATIO}:1 ({_mb(info.compress_size)} to "
                    f"{_mb(info.file_size)}): refused as a possible zip bomb",
                    file=raw,
                )
            kept.append(info)
        # One common folder inside the zip ("export/users.csv") is fine; deeper structure is not read.
        for info in kept:
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if len(parts) > 2:
                self.errors.append(Issue(info.filename, 0, "", "a file nested in folders (not read)"))
                continue
            self._add(parts[-1], info.filename, info.file_size)

    def has(self, name: str) -> bool:
        return name in self.csv_files

    def start_pass(self) -> None:
        """Every read-through of the bundle (validation, apply) gets the full byte budget."""
        self._budget = [MAX_UNCOMPRESSED_BYTES]

    def open_binary(self, name: str) -> IO[bytes]:
        member = self.csv_files[name]
        if self._zip is None:
            return open(member.path, "rb")  # noqa: SIM115 (closed by the caller)
        raw = self._zip.open(member.path)
        return io.BufferedReader(_CountingReader(raw, name, member.size, self._budget), 1 << 16)

    def reader(self, name: str, issues: IssueList, tick: Callable[[int], None] | None = None) -> CsvFile:
        return CsvFile(self, name, issues, tick)


def _mb(n: int) -> str:
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GB"
    return f"{n / (1 << 20):.1f} MB"


def _norm_header(name: str) -> str:
    return name.strip().strip("\ufeff").lower()


class CsvFile:
    """One CSV member, streamed. Open it with ``with``; ``header`` and ``col(name)`` first, then
    iterate ``rows()`` for ``(line, fields)``: line is the physical line where the record starts.

    Unreadable input (invalid UTF-8, a NUL byte, a line or field past the limits, a damaged zip
    member) becomes an error naming the file and line, and the file stops there. ``tick(n)`` is
    called every 1,000 rows (progress).
    """

    def __init__(self, bundle: Bundle, name: str, issues: IssueList, tick: Callable[[int], None] | None = None) -> None:
        self.name = name
        self.issues = issues
        self._bundle = bundle
        self._tick = tick
        self._binary: IO[bytes] | None = None
        self._reader: Any = None
        self.header: list[str] = []
        self.index: dict[str, int] = {}
        self.failed = False

    def __enter__(self) -> CsvFile:
        self._binary = self._bundle.open_binary(self.name)
        # Strict decoding: fast. On a decoding error the file is read again to find the place.
        text = io.TextIOWrapper(self._binary, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(_limited_lines(text), strict=True)
        header = next(self._records(), None)
        if header is None:
            if not self.failed:
                self.issues.add(self.name, 1, "", "the file is empty (no header row)")
            self.failed = True
            return self
        self.header = [h.strip() for h in header[1]]
        for i, h in enumerate(self.header):
            self.index.setdefault(_norm_header(h), i)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._binary is not None:
            self._binary.close()

    def col(self, name: str) -> int | None:
        return self.index.get(name.lower())

    def missing(self, required: Iterable[str]) -> list[str]:
        return [c for c in required if c.lower() not in self.index]

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """Non-blank records with their first line; stops (after recording an error) on bad input."""
        reader = self._reader
        start = reader.line_num + 1
        try:
            for fields in reader:
                if fields and (len(fields) > 1 or fields[0].strip()):
                    yield start, fields
                start = reader.line_num + 1
        except _LineTooLong:
            self._fail(start, f"a line longer than {MAX_LINE_CHARS} characters: not a roster CSV file")
        except csv.Error as exc:
            self._fail(start, f"not a readable CSV file ({exc})")
        except UnicodeDecodeError:
            self._locate_bad_text()

    def _locate_bad_text(self) -> None:
        """Read the file again, decoding leniently, to name the line and column of the bad bytes."""
        with self._bundle.open_binary(self.name) as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
            reader = csv.reader(_limited_lines(text))
            start = 1
            header: list[str] = []
            try:
                for fields in reader:
                    header = header or [h.strip() for h in fields]
                    for i, value in enumerate(fields):
                        if _SURROGATE.search(value):
                            column = header[i] if i < len(header) and start > 1 else f"column {i + 1}"
                            self._fail(start, "not valid UTF-8 text (save the file as UTF-8)", column)
                            return
                    start = reader.line_num + 1
            except (csv.Error, _LineTooLong):
                pass
        self._fail(start, "not valid UTF-8 text (save the file as UTF-8)")

    def _fail(self, line: int, reason: str, column: str = "") -> None:
        self.failed = True
        self.issues.add(self.name, line, column, reason)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self.failed:
            return
        width = len(self.header)
        tick = self._tick
        count = 0
        for line, fields in self._records():
            count += 1
            if count == 1000:
                if tick is not None:
                    tick(count)
                count = 0
            if len(fields) < width:
                self.issues.add(self.name, line, "", f"the row has {len(fields)} fields; the header has {width}")
                continue
            yield line, fields
        if tick is not None and count:
            tick(count)


class _LineTooLong(Exception):
    pass


def _limited_lines(text: io.TextIOWrapper) -> Iterator[str]:
    readline = text.readline
    limit = MAX_LINE_CHARS
    while True:
        line = readline(limit)
        if not line:
            return
        if len(line) >= limit and line[-1] != "\n":
            raise _LineTooLong
        yield line


csv.field_size_limit(MAX_FIELD_CHARS)
codecs.lookup("utf-8-sig")  # fail at import, not mid-import, if the codec were missing


# The apply engine ---------------------------------------------------------------------------------


class Upserter:
    """Creates, updates or deactivates rows of one model by ``source_id``, in batches.

    The district's existing rows are loaded once as ``{source_id: hash}`` (streamed from the
    database), so an unchanged row costs one dictionary look-up and no query. New rows are
    written in batches (PostgreSQL ``COPY``, elsewhere ``bulk_create``); changed rows are
    looked up by id and updated in batches. ``add`` takes the model field values (by attname);
    ``deactivate`` marks a ``tobedeleted`` row: it updates an existing row (to the inactive
    values given) and creates nothing. After ``flush``, ``remaining`` counts the district's rows
    that the file did not mention.
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        district_id: int,
        fields: list[str],
        summary: FileSummary,
        batch_size: int = BATCH_SIZE,
        inactive: str = "inactive",
        on_flush: Callable[[], None] | None = None,
    ) -> None:
        self.model = model
        self.district_id = district_id
        self.update_fields = [*fields, "source_hash"]
        self.summary = summary
        self.batch_size = batch_size
        self.inactive = inactive
        self.on_flush = on_flush
        rows = (
            model._default_manager.filter(district_id=district_id)
            .exclude(source_id="")
            .values_list("source_id", "source_hash")
        )
        self.existing: dict[str, str] = dict(rows.iterator(chunk_size=20000))
        self.existing_total = len(self.existing)
        self._creates: list[dict[str, Any]] = []
        self._changes: list[tuple[str, dict[str, Any], str, bool]] = []

    @property
    def remaining(self) -> int:
        return len(self.existing)

    @property
    def seen(self) -> int:
        return self.existing_total - len(self.existing)

    def skip_unchanged(self, source_id: str, digest: str) -> bool:
        """True (and counted) when the row is stored with this hash: nothing to build or write."""
        if self.existing.get(source_id) == digest:
            del self.existing[source_id]
            self.summary.unchanged += 1
            return True
        return False

    def add(self, source_id: str, values: dict[str, Any], digest: str, *, deactivate: bool = False) -> None:
        old = self.existing.pop(source_id, None)
        if old is None:
            if deactivate:
                self.summary.unchanged += 1  # nothing to deactivate
                return
            values["district_id"] = self.district_id
            values["source_id"] = source_id
            values["source_hash"] = digest
            self._creates.append(values)
            self.summary.created += 1
            if len(self._creates) >= self.batch_size:
                self._flush_creates()
        elif old == digest:
            self.summary.unchanged += 1
        else:
            self._changes.append((source_id, values, digest, deactivate))
            if len(self._changes) >= 500:
                self._flush_changes()

    def flush(self) -> None:
        self._flush_creates()
        self._flush_changes()

    def _flush_creates(self) -> None:
        if not self._creates:
            return
        insert_rows(self.model, self._creates)
        self._creates = []
        self._after_flush()

    def _flush_changes(self) -> None:
        if not self._changes:
            return
        pending, self._changes = self._changes, []
        found = {
            sid: (pk, status)
            for sid, pk, status in self.model._default_manager.filter(
                district_id=self.district_id, source_id__in=[p[0] for p in pending]
            ).values_list("source_id", "pk", "status")
        }
        updates = []
        for source_id, values, digest, deactivate in pending:
            pk, old_status = found[source_id]
            updates.append(self.model(pk=pk, source_hash=digest, **values))
            if deactivate and old_status != self.inactive:
                self.summary.deactivated += 1
            else:
                self.summary.updated += 1
        self.model._default_manager.bulk_update(updates, self.update_fields, batch_size=500)
        self._after_flush()

    def _after_flush(self) -> None:
        reset_queries()  # under DEBUG, Django keeps every query; a large import would pile them up
        if self.on_flush is not None:
            self.on_flush()


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows given as ``{attname: value}`` (other columns take their defaults).

    On PostgreSQL through ``COPY`` (several times faster than INSERT for large imports), elsewhere
    with ``bulk_create``. Auto-now fields are set to now; JSON fields take Python values.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
        return
    now = timezone.now()
    columns: list[tuple[str, Any, bool]] = []  # (attname, default, is_json)
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default: Any = now
        else:
            default = f.get_default()
        columns.append((f.attname, default, isinstance(f, models.JSONField)))
    names = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields if not f.primary_key)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row.get(att, default)) if is_json else row.get(att, default)
                    for att, default, is_json in columns
                ]
            )


# The import run -----------------------------------------------------------------------------------


class ImportContext:
    """Everything a format's importer needs: the run, its district, the bundle, the issues found,
    the summary being built and the progress callback."""

    def __init__(
        self,
        run: ImportRun,
        bundle: Bundle,
        *,
        actor: User | None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.run = run
        self.district: District = run.district
        self.bundle = bundle
        self.actor = actor
        self.errors = IssueList()
        self.warnings = IssueList()
        self.summary: dict[str, FileSummary] = {}
        self.version = ""
        self.rows_done = 0
        self.rows_total = 0
        self.phase = ""
        self._progress = progress
        self._last_report = 0

    def error(self, file: str, line: int, column: str, reason: str) -> None:
        self.errors.add(file, line, column, reason)

    def warn(self, file: str, line: int, column: str, reason: str) -> None:
        self.warnings.add(file, line, column, reason)

    def file_summary(self, name: str) -> FileSummary:
        return self.summary.setdefault(name, FileSummary())

    def start_phase(self, phase: str, total: int) -> None:
        self.phase = phase
        self.rows_done = 0
        self.rows_total = total
        self._last_report = 0
        self.bundle.start_pass()
        if self._progress is not None:
            self._progress(0, total, phase)

    def tick(self, n: int = 1) -> None:
        self.rows_done += n
        if self._progress is not None and self.rows_done - self._last_report >= PROGRESS_EVERY:
            self._last_report = self.rows_done
            self._progress(self.rows_done, self.rows_total, self.phase)

    def open(self, name: str, *, count: bool = True) -> CsvFile:
        """A file of the bundle; its rows count towards progress unless ``count`` is false."""
        return self.bundle.reader(name, self.errors, self.tick if count else None)


class FormatImporter:
    """One roster format. Subclasses set ``name`` and implement the three methods."""

    name: ClassVar[str] = ""

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx

    @classmethod
    def sniff(cls, bundle: Bundle) -> bool:
        """Whether the bundle looks like this format (file names only)."""
        raise NotImplementedError

    def validate(self) -> None:
        """Pass 1: read every file, record every error and warning; write nothing."""
        raise NotImplementedError

    def apply(self) -> None:
        """Pass 2 (only when pass 1 found no error), inside the import transaction."""
        raise NotImplementedError
