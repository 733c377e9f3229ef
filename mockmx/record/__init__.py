"""Recording real traffic: `mockmx record` (a mitmproxy addon and its runner) and the recording file format.

`addon.py` is the mitmproxy addon, `run.py` runs it in mitmproxy's DumpMaster; a flow becomes plain data in
`capture.py` (with `entry.py`, which replay's record mode new shares), loses its secrets in `redact.py`, gains its
`links` in `links.py` and is appended by `writer.py`, all in the writer process (`writer_process.py`) the addon
pipes each completed flow to. `loader.py` reads a file back into the `model.py` classes
(YAML through `fastyaml.py`), checked against `schema.json`. The format is described in docs/recording-format.md.

The names below load on first use: the model alone should not load YAML and the schema checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockmx.lazy import exports

if TYPE_CHECKING:
    from mockmx.problems import RecordingError
    from mockmx.record.loader import load_recording, load_recording_text
    from mockmx.record.model import Flow, Leg, Recording

__all__ = ["Flow", "Leg", "Recording", "RecordingError", "load_recording", "load_recording_text"]
_HOMES = {
    "Flow": "mockmx.record.model",
    "Leg": "mockmx.record.model",
    "Recording": "mockmx.record.model",
    "RecordingError": "mockmx.problems",
    "load_recording": "mockmx.record.loader",
    "load_recording_text": "mockmx.record.loader",
}

__getattr__ = exports(__name__, _HOMES)
