"""The README cannot drift: its scenarios pass `mockmx check`, its Python examples run as the tests they are, and
its walk-through runs in a shell against a live mock, each answer what its comment says."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mockmx.scenario.loader import load_scenario_text
from tests.conftest import ROOT, LiveServer

pytest_plugins = ["pytester"]
README = ROOT / "README.md"


def blocks(language: str) -> list[tuple[int, str]]:
    """Every ```language block of the README: the line it starts on, and its text."""
    text = README.read_text()
    return [
        (text.count("\n", 0, found.start()) + 2, found[1])
        for found in re.finditer(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)
    ]


def scenario_example() -> str:
    [(_, scenario)] = [(line, text) for line, text in blocks("yaml") if text.startswith("mockmx: 1")]
    return scenario


@pytest.mark.parametrize(
    ("line", "text"), blocks("yaml"), ids=lambda value: f"line {value}" if isinstance(value, int) else ""
)
def test_every_scenario_in_the_readme_passes_check(line: int, text: str) -> None:
    load_scenario_text(text, f"README.md, the block at line {line}")  # raises ScenarioError naming every problem


def python_example(name: str) -> str:
    """The README's Python example that defines the test `name`."""
    [found] = [text for _, text in blocks("python") if f"def {name}(" in text]
    return found


def test_every_python_example_is_run_here() -> None:
    # An example that is only an illustration (it calls code the reader writes) is a ```py block instead.
    run = [
        python_example("test_my_client_says_hello_in_the_encrypted_room"),
        python_example("test_alice_says_hello"),
        python_example("test_hello_as_recorded"),
    ]
    assert [text for _, text in blocks("python")] == run


def test_the_fixture_example_runs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=python_example("test_alice_says_hello"))
    (pytester.path / "worlds").mkdir()
    (pytester.path / "worlds" / "two-rooms.yaml").write_text(scenario_example())
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


@pytest.mark.timeout(180)
def test_the_record_then_replay_example_runs_as_the_readme_says(pytester: pytest.Pytester, mock: LiveServer) -> None:
    pytester.makepyfile(test_hello=python_example("test_hello_as_recorded"))
    # "pytest --mockmx-record-mode=once --mockmx-upstream URL": the first run records against a homeserver ...
    recorded = pytester.runpytest(
        "-p", "no:cacheprovider", "--mockmx-record-mode=once", f"--mockmx-upstream={mock.url}"
    )
    recorded.assert_outcomes(passed=1)
    assert (pytester.path / "recordings" / "hello.yaml").is_file()
    # ... "pytest --mockmx-strict": every run after replays it, with no homeserver at all.
    replayed = pytester.runpytest("-p", "no:cacheprovider", "--mockmx-strict")
    replayed.assert_outcomes(passed=1)


@pytest.mark.timeout(120)
def test_the_walk_through_runs_in_a_shell_as_written(mock: LiveServer, tmp_path: Path) -> None:
    [(_, walk_through), *_] = [(line, text) for line, text in blocks("sh") if text.startswith("HS=")]
    script = tmp_path / "walk-through.sh"
    script.write_text(walk_through.replace("http://127.0.0.1:8008", mock.url))
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=90)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert '{"user_id":"@alice:localhost","device_id":"ALICEDEV","is_guest":false}' in out
    assert '"access_token":"syt_YWxpY2U_' in out
    assert out.count('"body":"hello bob"') >= 2  # bob's long-polled sync, and the guest reading the lobby
    assert '"type":"org.example.ping"' in out  # the to-device message in bob's sync
    assert out.count('"body":"still there?"') == 2  # woke bob's /events poll, then read by the guest
    assert '"type":"m.room.create"' in out
    for errcode in ("M_MISSING_TOKEN", "M_FORBIDDEN", "M_UNRECOGNIZED"):
        assert f'"errcode":"{errcode}"' in out


def test_the_readme_names_every_errcode_the_mock_answers() -> None:
    from mockmx.errors import Codes

    text = README.read_text()
    assert [code.value for code in Codes if f"`{code.value}`" not in text] == []


@pytest.mark.timeout(180)
def test_the_encrypted_example_runs_from_the_project_folder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_encrypted=python_example("test_my_client_says_hello_in_the_encrypted_room"))
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "encrypted.yaml").write_text((ROOT / "scenarios" / "encrypted.yaml").read_text())
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "js").symlink_to(ROOT / "tests" / "js")  # the project's JS client and Node.js
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
