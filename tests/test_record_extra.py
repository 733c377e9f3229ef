"""Recording is an extra (`pip install "mockmx[record]"`): without mitmproxy, `mockmx record` says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mockmx.cli import main


def test_record_without_mitmproxy_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "mitmproxy", None)  # as if not installed: importing it fails
    for name in ("run", "addon", "writer_process", "capture"):  # the recorder's modules, which import it
        monkeypatch.delitem(sys.modules, f"mockmx.record.{name}", raising=False)
    status = main(["record", "--upstream", "http://127.0.0.1:1", "--out", "never.yaml"])
    assert status == 2
    assert (
        capsys.readouterr().err == 'mockmx record: recording needs mitmproxy, an extra: pip install "mockmx[record]"\n'
    )


def test_serving_and_replaying_import_no_mitmproxy() -> None:
    code = (
        "import sys\n"
        "import mockmx.cli, mockmx.app, mockmx.replay.app, mockmx.testing.plugin, mockmx.record.loader\n"
        "assert not [m for m in sys.modules if m.startswith('mitmproxy')], sorted(sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
