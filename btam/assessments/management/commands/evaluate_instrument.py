"""Evaluate an answers file against a shipped instrument and print the evaluation as JSON.

    python manage.py evaluate_instrument cstag-decision-tree answers.json [--version 1]

The answers file is ``{"instrument": id, "version": n, "answers": {...}}`` (docs/assessments.md);
``btam/assessments/instruments/examples/`` holds one per instrument. Needs no database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from btam.assessments import definitions, engine

MAX_ANSWERS_BYTES = 5_000_000


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

    def handle(self, *args: Any, **options: Any) -> None:
        instrument = self._instrument(options["instrument_id"], options["instrument_version"])
        data = self._read(Path(options["answers_file"]))
        try:
            answers = engine.load_answers(data, instrument)
            evaluation = engine.evaluate(instrument, answers)
        except engine.AnswersError as exc:
            raise CommandError("\n".join(exc.messages)) from None
        self.stdout.write(json.dumps(evaluation.as_dict(), indent=2, ensure_ascii=False))

    def _instrument(self, instrument_id: str, version: int | None) -> definitions.Instrument:
        try:
            registry = definitions.builtin()
        except definitions.DefinitionError as exc:
            raise CommandError(f"A definition file is invalid: {exc}") from None
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
            text = path.read_text(encoding="utf-8")
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
