"""The mock push gateway against the push gateway spec: schemathesis makes `POST /_matrix/push/v1/notify` requests from
the spec's OpenAPI, ones that fit it and ones that do not, and sends them over real HTTP. A fitting one must be taken
(200 and the documented body), a misfit refused with a Matrix 400, never a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response

from tests.conftest import LiveServer, serve
from tests.test_conformance import ERROR_SCHEMA, matrix_error_body

PUSH_GATEWAY = Path(__file__).parents[2] / "shared" / "matrix-spec" / "merged" / "push-gateway.json"
NOTIFY = "/_matrix/push/v1/notify"
SEED = 1722
# One operation: as many examples as the whole client-server run gives a handful of operations, well under a minute.
EXAMPLES = 200

if not PUSH_GATEWAY.is_file():
    pytest.skip(f"no Matrix spec data at {PUSH_GATEWAY}", allow_module_level=True)


def served_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec`, changed in place for the mock: its quirks fixed (SOURCE.md beside it), and the refusal documented."""
    del spec["servers"]  # matrix.org: every request goes to the live mock instead
    operation = spec["paths"][NOTIFY]["post"]
    notification = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["notification"]
    # Synapse's badge-only updates carry `"type": null`, which the schema's string does not allow: a gateway takes it.
    notification["properties"]["type"]["type"] = ["string", "null"]
    # A notification for no device is one no homeserver means to send: Sygnal, the reference gateway, refuses it, and
    # so does the mock, which is there to catch such bugs in the homeserver that pushes to it.
    notification["properties"]["devices"]["minItems"] = 1
    # The spec documents only the 200; a gateway refuses a request it cannot read with a 400 (Sygnal does), here a
    # Matrix error. Documented, it leaves any other status to the status-code check.
    error = yaml.safe_load(ERROR_SCHEMA.read_text(encoding="utf-8"))
    operation["responses"]["400"] = {
        "description": "The request is not a notification.",
        "content": {"application/json": {"schema": error}},
    }
    return spec


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"deterministic": True, "database": "none", "max-examples": EXAMPLES, "mode": "all"},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            # A misfit must be refused; 400 is the only refusal the gateway has.
            "negative_data_rejection": {"enabled": True, "expected-statuses": ["400"]},
        },
        "phases": {"stateful": {"enabled": False}},
        "request-timeout": 10,
    }
)
schema = schemathesis.openapi.from_dict(
    served_spec(json.loads(PUSH_GATEWAY.read_text(encoding="utf-8"))), config=CONFIG
)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One mock for the module; the gateway keeps what it took, which later requests' answers do not depend on."""
    with serve() as server:
        yield server


def fitting_data_accepted(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """A request that fits the schema is taken, unless it holds an integer outside int64 (in a field the schema leaves
    open): the one JSON gate refuses those by design, as for every endpoint (mockmx/web/json_gate.py)."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code == 200:
        return
    if response.status_code == 400 and response.json().get("errcode") == "M_BAD_JSON" and _beyond_int64(case.body):
        return
    raise AssertionError(f"a request that fits the spec got {response.status_code}: {response.text[:300]}")


def _beyond_int64(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_beyond_int64(child) for child in value.values())
    if isinstance(value, list):
        return any(_beyond_int64(child) for child in value)
    return isinstance(value, int) and not -(2**63) <= value < 2**63


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_notify_conforms(case: Case[Any], live: LiveServer) -> None:
    response = case.call(base_url=live.url)
    case.validate_response(response, additional_checks=[matrix_error_body, fitting_data_accepted])
