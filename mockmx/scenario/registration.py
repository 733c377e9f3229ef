"""Registration in a scenario file: whether clients may create accounts with `POST /register`."""

from __future__ import annotations

from typing import Any

from mockmx.scenario.document import Document
from mockmx.scenario.model import RegistrationSpec


def registration_spec(document: Document, data: dict[str, Any]) -> RegistrationSpec:
    """The top-level `registration`; without it (or with a value already reported as wrong) registration is off."""
    registration = document.get((), data, "registration")
    if registration is None:
        return RegistrationSpec()
    return RegistrationSpec(enabled=document.get(("registration",), registration, "enabled") is True)
