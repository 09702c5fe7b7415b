"""`manage.py evaluate_instrument`: the JSON it prints, and a clear message (exit code 1) for bad input.
No test here touches the database: the command works without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from btam.assessments import definitions, engine

EXAMPLES = definitions.INSTRUMENTS_DIR / "examples"


def run(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("evaluate_instrument", *args, stdout=out)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def fails(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("evaluate_instrument", *args, stdout=StringIO())
    return str(caught.value)


def write(tmp_path: Path, data: object, name: str = "answers.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_every_instrument_has_an_example_answers_file() -> None:
    shipped = {instrument.id for instrument in definitions.builtin().instruments()}
    examples = {path.stem for path in EXAMPLES.glob("*.json")}
    assert examples == shipped


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_each_example_answers_file_evaluates(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    instrument = definitions.builtin().instrument(data["instrument"], data["version"])
    answers = engine.load_answers(data, instrument)
    evaluation = engine.evaluate(instrument, answers)
    assert evaluation.outcome is not None
    assert run(path.stem, str(path)) == evaluation.as_dict()


def test_the_tree_example_prints_its_path_and_reasons() -> None:
    result = run("cstag-decision-tree", str(EXAMPLES / "cstag-decision-tree.json"))
    assert result["complete"] is True
    assert result["outcome"] == "substantive-serious"
    assert result["outcome_label"] == "Substantive threat: serious"
    assert [step["step"] for step in result["path"]] == ["step-1-evaluate", "step-3-respond"]
    assert (
        result["reasons"][0]
        == "The threat may express an intent to harm someone. When in doubt, treat it as substantive."
    )
    assert result["next_step"] is None


def test_the_checklist_and_themes_examples() -> None:
    checklist = run("screening-checklist", str(EXAMPLES / "screening-checklist.json"))
    assert (checklist["outcome"], checklist["complete"]) == ("evaluate", True)
    themes = run("ntac-themes", str(EXAMPLES / "ntac-themes.json"))
    assert (themes["outcome"], themes["complete"]) == ("information_gaps", False)
    assert "Concern: Motives and goals" in themes["reasons"]
    assert "Not yet looked at: Access to weapons" in themes["reasons"]


def test_the_output_is_indented_json() -> None:
    out = StringIO()
    call_command("evaluate_instrument", "cstag-decision-tree", str(EXAMPLES / "cstag-decision-tree.json"), stdout=out)
    assert out.getvalue().startswith('{\n  "instrument_id": "cstag-decision-tree",\n  "version": 1,')


def test_an_explicit_version() -> None:
    result = run("cstag-decision-tree", str(EXAMPLES / "cstag-decision-tree.json"), "--version", "1")
    assert result["version"] == 1


def test_an_unfinished_tree_names_the_next_step(tmp_path: Path) -> None:
    path = write(tmp_path, {"instrument": "cstag-decision-tree", "version": 1, "answers": {}})
    result = run("cstag-decision-tree", path)
    assert (result["complete"], result["outcome"], result["next_step"]) == (False, None, "step-1-evaluate")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nabita-rubric",), 'Unknown instrument "nabita-rubric". Instruments: cstag-decision-tree, ntac-themes, '),
        (("virginia",), '"virginia" is a level scheme, not an instrument.'),
        (("cstag-decision-tree", "--version", "2"), '"cstag-decision-tree" has no version 2 (versions: 1).'),
    ],
)
def test_an_unknown_instrument_or_version(args: tuple[str, ...], message: str) -> None:
    instrument_id, *rest = args
    assert message in fails(instrument_id, str(EXAMPLES / "cstag-decision-tree.json"), *rest)


def test_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    assert fails("cstag-decision-tree", str(tmp_path / "nope.json")).endswith("nope.json: no such file.")
    assert fails("cstag-decision-tree", str(tmp_path)).endswith(": is a folder, not an answers file.")
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"a": "ñ"}'.encode("latin-1"))
    assert fails("cstag-decision-tree", str(latin)).endswith("latin.json: is not UTF-8 text.")


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_text('{"instrument": "cstag-decision-tree",\n}', encoding="utf-8")
    message = fails("cstag-decision-tree", str(path))
    assert message.startswith(f"{path}: invalid JSON at line 2 column 1:")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"instrument": "cstag-decision-tree", "version": 2, "answers": {}},
            'These answers are for version 2 of "cstag-decision-tree"; this is version 1.',
        ),
        (
            {"instrument": "ntac-themes", "version": 1, "answers": {}},
            'These answers are for "ntac-themes", not "cstag-decision-tree".',
        ),
        (
            {"instrument": "cstag-decision-tree", "version": 1, "answers": {"step-1-evaluate": "joke"}},
            '"step-1-evaluate": "joke" is not one of the answers (expression-only, intent-or-unclear).',
        ),
        (
            {"instrument": "cstag-decision-tree", "version": 1, "answers": {"step-9": "yes"}},
            '"step-9" is not a step of version 1 of "cstag-decision-tree".',
        ),
        ({"answers": {}}, 'The answers file has no "instrument".\nThe answers file has no "version".'),
    ],
)
def test_answers_that_do_not_fit(tmp_path: Path, data: object, message: str) -> None:
    assert fails("cstag-decision-tree", write(tmp_path, data)) == message


def test_a_broken_definition_file_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "broken.v1.json").write_text("{", encoding="utf-8")
    monkeypatch.setattr(definitions, "INSTRUMENTS_DIR", tmp_path)
    definitions.builtin.cache_clear()
    try:
        message = fails("cstag-decision-tree", str(EXAMPLES / "cstag-decision-tree.json"))
    finally:
        monkeypatch.undo()
        definitions.builtin.cache_clear()
    assert message.startswith("A definition file is invalid: broken.v1.json: line 1 column 2: invalid JSON")


def _manage(*args: str) -> subprocess.CompletedProcess[str]:
    # An unreachable database: the command must not need one.
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none", "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "evaluate_instrument", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_from_the_command_line_without_a_database(tmp_path: Path) -> None:
    done = _manage("cstag-decision-tree", str(EXAMPLES / "cstag-decision-tree.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "substantive-serious"

    bad = _manage(
        "cstag-decision-tree", write(tmp_path, {"instrument": "cstag-decision-tree", "version": 3, "answers": {}})
    )
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert 'These answers are for version 3 of "cstag-decision-tree"; this is version 1.' in bad.stderr
    assert "Traceback" not in bad.stderr
