"""Recording real traffic: `mockmx record` (a mitmproxy addon and its runner) and the recording file format.

`addon.py` is the mitmproxy addon, `run.py` runs it in mitmproxy's DumpMaster; a flow becomes plain data in
`capture.py` (with `entry.py`, which replay's record mode new shares), loses its secrets in `redact.py`, gains its
`links` in `links.py` and is appended by `writer.py`, all in the writer process (`writer_process.py`) the addon
pipes each completed flow to. `loader.py` reads a file back into the `model.py` classes
(YAML through `fastyaml.py`), checked against `schema.json`. The format is described in docs/recording-format.md.
"""

from mockmx.problems import RecordingError
from mockmx.record.loader import load_recording, load_recording_text
from mockmx.record.model import Flow, Leg, Recording

__all__ = ["Flow", "Leg", "Recording", "RecordingError", "load_recording", "load_recording_text"]
