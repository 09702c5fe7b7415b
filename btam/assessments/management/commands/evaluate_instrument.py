"""Evaluate an answers file against an instrument and print the evaluation as JSON.

    python manage.py evaluate_instrument cstag-decision-tree answers.json [--version 1]
    python manage.py evaluate_instrument our-checklist answers.json --definition our-checklist.v1.json

The answers file is ``{"instrument": id, "version": n, "answers": {...}}`` (docs/assessments.md);
``btam/assessments/instruments/examples/`` holds one per instrument. ``--definition FILE`` (repeatable)
adds a district's own definition files on top of the shipped ones, checked as an upload is (size,
UTF-8 with or without a byte-order mark, the schema, no version of a shipped file redefined);
``--kind CODE`` (repeatable) names the district's own intervention kinds its scheme files may use.
Needs no database.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from btam.assessments import definitions, engine

MAX_ANSWERS_BYTES = 5_000_000
# As an upload (settings_actions.MAX_DEFINITION_BYTES; not imported: that module needs the models).
MAX_DEFINITION_BYTES = 256 * 1024


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(name: str) -> str:
    """A file name as it may be printed (a name the file system gave in another encoding)."""
    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in name)


class Command(BaseCommand):
    help = "Evaluate an answers file against an assessment instrument and print the result as JSON."
    requires_system_checks: list[str] = []  # a broken definition file is reported by the command itself
    requires_migrations_checks = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Django's own --version (print Django's version) gives way to the instrument's --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instrument_id", help="the instrument's id, such as cstag-decision-tree")
        parser.add_argument("answers_file", help="a JSON answers file")
        parser.add_argument(
            "--version",
            dest="instrument_version",
            type=int,
            metavar="N",
            help="the instrument's version (default: the latest)",
        )
        parser.add_argument(
            "--definition",
            dest="definitions",
            action="append",
            default=[],
            metavar="FILE",
            help="a district's own definition file (<id>.v<version>.json) to use with the shipped ones; repeatable",
        )
        parser.add_argument(
            "--kind",
            dest="kinds",
            action="append",
            default=[],
            metavar="CODE",
            help="a district's own intervention kind that a --definition scheme file names; repeatable",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        registry = self._registry(options["definitions"], options["kinds"])
        instrument = self._instrument(registry, options["instrument_id"], options["instrument_version"])
        path = Path(options["answers_file"])
        data = self._read(path)
        try:
            answers = engine.load_answers(data, instrument)
            evaluation = engine.evaluate(instrument, answers)
        except engine.AnswersError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        except RecursionError:
            raise CommandError(f"{path}: the answers are nested too deeply.") from None
        text = json.dumps(evaluation.as_dict(), indent=2, ensure_ascii=False)
        if not text.isascii() and not _encodable(text):  # an unpaired surrogate from the answers
            text = json.dumps(evaluation.as_dict(), indent=2)
        self.stdout.write(text)

    def _registry(self, files: list[str], kinds: list[str]) -> definitions.Registry:
        """The shipped definitions plus ``files``, each checked as an upload is."""
        try:
            registry = definitions.builtin()
        except definitions.DefinitionError as exc:
            raise CommandError(f"A definition file is invalid: {exc}") from None
        extra: list[definitions.Definition] = []
        for name in files:
            path = Path(name)
            if path.is_dir():
                raise CommandError(f"{_printable(name)}: is a folder, not a definition file.")
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                raise CommandError(f"{_printable(name)}: no such file.") from None
            except OSError as exc:
                raise CommandError(f"{_printable(name)}: cannot be read ({exc.strerror or exc}).") from None
            try:
                extra.append(
                    definitions.parse_bytes(
                        raw, source=_printable(path.name), extra_interventions=kinds, max_bytes=MAX_DEFINITION_BYTES
                    )
                )
            except definitions.DefinitionError as exc:
                raise CommandError(f"The definition file is invalid: {exc}") from None
        if not extra:
            return registry
        try:
            return registry.with_extra(extra)
        except definitions.DefinitionError as exc:
            raise CommandError(f"The definition files do not go together: {exc}") from None

    def _instrument(
        self, registry: definitions.Registry, instrument_id: str, version: int | None
    ) -> definitions.Instrument:
        try:
            return registry.instrument(instrument_id, version)
        except KeyError:
            pass
        known = ", ".join(instrument.id for instrument in registry.instruments())
        if registry.versions(instrument_id) and any(s.id == instrument_id for s in registry.schemes()):
            raise CommandError(f'"{instrument_id}" is a level scheme, not an instrument. Instruments: {known}.')
        if registry.versions(instrument_id):
            versions = ", ".join(str(v) for v in registry.versions(instrument_id))
            raise CommandError(f'"{instrument_id}" has no version {version} (versions: {versions}).')
        raise CommandError(f'Unknown instrument "{instrument_id}". Instruments: {known}.')

    def _read(self, path: Path) -> object:
        try:
            size = path.stat().st_size
            if size > MAX_ANSWERS_BYTES:
                raise CommandError(f"{path}: the answers file is larger than {MAX_ANSWERS_BYTES // 1_000_000} MB.")
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write is not an error
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except IsADirectoryError:
            raise CommandError(f"{path}: is a folder, not an answers file.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path}: is not UTF-8 text.") from None
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None
        except RecursionError:
            raise CommandError(f"{path}: invalid JSON: nested too deeply.") from None
        except ValueError:  # a number of more than 4,300 digits
            raise CommandError(f"{path}: invalid JSON: a number is too long.") from None
