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


# A district's own files (--definition), byte-order marks, deep nesting (review finding 10) ---------


def _own_checklist(version: int = 1, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((definitions.INSTRUMENTS_DIR / "screening-checklist.v1.json").read_text("utf-8"))
    data.update({"id": "our-checklist", "version": version, "title": "Our checklist"}, **changes)
    return data


def _own_answers(tmp_path: Path, version: int = 1) -> str:
    example = json.loads((EXAMPLES / "screening-checklist.json").read_text(encoding="utf-8"))
    example.update({"instrument": "our-checklist", "version": version})
    return write(tmp_path, example)


def test_a_districts_own_instrument_is_evaluated_with_definition(tmp_path: Path) -> None:
    definition = write(tmp_path, _own_checklist(), "our-checklist.v1.json")
    result = run("our-checklist", _own_answers(tmp_path), "--definition", definition)
    assert (result["instrument_id"], result["version"], result["outcome"]) == ("our-checklist", 1, "evaluate")


def test_definition_is_repeatable_and_the_latest_version_is_used(tmp_path: Path) -> None:
    first = write(tmp_path, _own_checklist(), "our-checklist.v1.json")
    second = write(tmp_path, _own_checklist(2), "our-checklist.v2.json")
    result = run("our-checklist", _own_answers(tmp_path, 2), "--definition", first, "--definition", second)
    assert result["version"] == 2
    older = run(
        "our-checklist", _own_answers(tmp_path, 1), "--definition", first, "--definition", second, "--version", "1"
    )
    assert older["version"] == 1


def test_a_definition_file_with_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "our-checklist.v1.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_own_checklist()).encode("utf-8"))
    assert run("our-checklist", _own_answers(tmp_path), "--definition", str(path))["outcome"] == "evaluate"


def test_a_scheme_file_may_name_the_districts_own_kinds(tmp_path: Path) -> None:
    scheme = json.loads((definitions.INSTRUMENTS_DIR / "virginia.v1.json").read_text(encoding="utf-8"))
    scheme.update({"id": "our-levels"})
    scheme["levels"][0]["interventions"]["suggested"].append("peer-mentoring")
    path = write(tmp_path, scheme, "our-levels.v1.json")
    answers = str(EXAMPLES / "cstag-decision-tree.json")
    assert '"peer-mentoring" is not a known intervention kind' in fails(
        "cstag-decision-tree", answers, "--definition", path
    )
    assert run("cstag-decision-tree", answers, "--definition", path, "--kind", "peer-mentoring")["complete"] is True


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "our-checklist.v1.json",
            json.dumps(_own_checklist(description="a\u0000b")).encode(),
            "The definition file is invalid: our-checklist.v1.json: description: holds a control character (U+0000)",
        ),
        (
            "our-checklist.v1.json",
            json.dumps(_own_checklist(version=10**7)).encode(),
            "our-checklist.v1.json: version: must be at most 1,000,000",
        ),
        ("our-checklist.v1.json", b"[" * 100_000, "our-checklist.v1.json: invalid JSON: nested too deeply"),
        ("our-checklist.v1.json", b"\xff\xfe{}", "our-checklist.v1.json: is not UTF-8 text"),
        ("our-checklist.v1.json", b" " * (256 * 1024 + 1), "our-checklist.v1.json: is larger than 256 KB"),
        (
            "other-name.v1.json",
            json.dumps(_own_checklist()).encode(),
            '"our-checklist" does not match the file name: name the file our-checklist.v1.json',
        ),
        (
            "screening-checklist.v1.json",
            json.dumps(_own_checklist(id="screening-checklist")).encode(),
            "The definition files do not go together: screening-checklist.v1.json: version: "
            'version 1 of "screening-checklist" is already defined',
        ),
    ],
    ids=["nul", "huge version", "deep", "not utf-8", "too large", "wrong name", "shipped version"],
)
def test_a_bad_definition_file_is_a_clear_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert message in fails(
        "screening-checklist", str(EXAMPLES / "screening-checklist.json"), "--definition", str(path)
    )


def test_a_missing_definition_file_or_a_folder(tmp_path: Path) -> None:
    answers = str(EXAMPLES / "screening-checklist.json")
    missing = fails("screening-checklist", answers, "--definition", str(tmp_path / "nope.v1.json"))
    assert missing.endswith("nope.v1.json: no such file.")
    assert fails("screening-checklist", answers, "--definition", str(tmp_path)).endswith(
        ": is a folder, not a definition file."
    )


def test_an_answers_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_bytes(b"\xef\xbb\xbf" + (EXAMPLES / "cstag-decision-tree.json").read_bytes())
    assert run("cstag-decision-tree", str(path))["outcome"] == "substantive-serious"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 200_000 + "]" * 200_000, "invalid JSON: nested too deeply."),
        ('{"version": ' + "9" * 5000 + "}", "invalid JSON: a number is too long."),
    ],
    ids=["deep", "long number"],
)
def test_answers_json_python_cannot_read_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    assert fails("cstag-decision-tree", str(path)) == f"{path}: {message}"


def test_deep_answers_from_the_command_line_print_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    done = _manage("cstag-decision-tree", str(path))
    assert done.returncode == 1
    assert "nested too deeply" in done.stderr
    assert "Traceback" not in done.stderr
