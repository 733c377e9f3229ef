"""Every supported Python: on each other than the one running the suite, a smoke of what a user does first, in a
venv from the locks (tests/pythons.py): serve, check, record in front of the mock, replay that, and the plugin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from mockmx.testing.recorder import free_port, record_command, started_recorder
from tests.pythons import ROOT, clean_env, ensure_python_venv, other_pythons, serving

pytestmark = [pytest.mark.pythons, pytest.mark.timeout(180)]

WHOAMI = "/_matrix/client/v3/account/whoami"
ALICE = {"Authorization": "Bearer alice-token"}


@pytest.fixture(params=other_pythons())
def bin_dir(request: pytest.FixtureRequest) -> Path:
    """The bin directory of the venv for one other supported Python (built before the tests run)."""
    found = ensure_python_venv(request.param)
    if found is None:
        pytest.skip(f"no Python {request.param} here (python{request.param} on the PATH, or pyenv install it)")
    return found


def test_the_venv_runs_its_python_with_mitmproxy_12_and_the_fixed_h11(bin_dir: Path) -> None:
    code = (
        "import sys, h11, mitmproxy.version; print(*sys.version_info[:2], mitmproxy.version.VERSION, h11.__version__)"
    )
    out = subprocess.run([str(bin_dir / "python"), "-c", code], capture_output=True, text=True, env=clean_env())
    assert out.returncode == 0, out.stderr
    major, minor, mitmproxy, h11 = out.stdout.split()
    assert bin_dir.parent.name == f".venv-py{major}.{minor}"
    # 12.x fixes CVE-2025-43859 through h11 0.16; 11.0.2, the last release for 3.11, holds h11 at 0.14.
    assert mitmproxy.startswith("12."), out.stdout
    assert tuple(int(part) for part in h11.split(".")[:2]) >= (0, 16), out.stdout


def test_serve_answers_whoami(bin_dir: Path, tmp_path: Path) -> None:
    with serving([str(bin_dir / "mockmx"), "serve", "--port", "0"], home=tmp_path) as url:
        r = httpx.get(url + WHOAMI, headers=ALICE)
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == "@alice:localhost"


def test_check_passes_the_shipped_scenarios(bin_dir: Path) -> None:
    scenarios = sorted(str(path) for path in (ROOT / "scenarios").glob("*.yaml"))
    run = subprocess.run(
        [str(bin_dir / "mockmx"), "check", *scenarios], capture_output=True, text=True, env=clean_env()
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count(": ok (") == len(scenarios), run.stdout


def test_record_in_front_of_serve_then_replay_it(bin_dir: Path, tmp_path: Path) -> None:
    out, port = tmp_path / "session.yaml", free_port()
    with serving([str(bin_dir / "mockmx"), "serve", "--port", "0"], home=tmp_path) as upstream:
        command = [str(bin_dir / "python"), *record_command(upstream, out, port)[1:]]
        with started_recorder(command, out=out, port=port, env=clean_env(HOME=str(tmp_path))) as recorder:
            recorded = httpx.get(recorder.url + WHOAMI, headers=ALICE)
            assert recorded.status_code == 200, recorded.text
            assert recorder.stop() == 0, recorder.output()
    assert "<token:1>" in out.read_text(), out.read_text()  # the token left out, as it is by default

    replay = [str(bin_dir / "mockmx"), "replay", str(out), "--port", "0", "--token", "@alice:localhost=alice-token"]
    with serving(replay, home=tmp_path) as url:
        replayed = httpx.get(url + WHOAMI, headers=ALICE)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == recorded.json()


def test_the_plugin_serves_a_test(bin_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "test_uses_the_mock.py").write_text(
        "import httpx\n\n\n"
        "def test_whoami(mockmx_server):\n"
        f"    r = httpx.get(mockmx_server.url + {WHOAMI!r}, headers={ALICE!r})\n"
        "    assert r.status_code == 200, r.text\n"
    )
    run = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_uses_the_mock.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(HOME=str(tmp_path)),
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout, run.stdout
