"""Fault rules from a scenario file: what they do to matching requests, with the errcode and message filled in."""

from __future__ import annotations

from typing import Any

from mockmx.errors import Codes
from mockmx.jsonpath import JsonPath
from mockmx.scenario.document import Document
from mockmx.scenario.durations import duration
from mockmx.scenario.model import FaultSpec

_DEFAULT_ERRCODES = {429: Codes.LIMIT_EXCEEDED, 404: Codes.NOT_FOUND, 403: Codes.FORBIDDEN}


def fault_rule(document: Document, path: JsonPath, entry: dict[str, Any]) -> FaultSpec | None:
    """The rule at `path`, or None when it is too broken to build (its problems are reported)."""
    answers = {"status", "rate_limit"} & entry.keys()
    if document.get(path, entry, "lose_answer") and not answers:
        # Only an error answer can be lost: a delay alone still delivers the real one.
        document.report(path, "'lose_answer' needs 'status' or 'rate_limit'", key="lose_answer")
    elif not answers and "delay" not in entry:
        document.report(path, "expected at least one of 'delay', 'status', 'rate_limit'")
    if len(answers) == 2:
        document.report(path, "'status' and 'rate_limit' exclude each other; give one", key="rate_limit")
    glob = document.get(path, entry, "path")
    if glob is None:
        return None
    line = document.line(path)
    status = document.get(path, entry, "status")
    rate_limit = document.get(path, entry, "rate_limit")
    retry_after_ms = None if rate_limit is None else document.get((*path, "rate_limit"), rate_limit, "retry_after_ms")
    if retry_after_ms is not None:
        status = 429
    errcode = document.get(path, entry, "errcode")
    if status is not None and errcode is None:
        errcode = _DEFAULT_ERRCODES.get(status, Codes.UNKNOWN).value
    error = document.get(path, entry, "error")
    if status is not None and error is None:
        error = f"Injected fault (scenario rule at line {line})"
    times = document.get(path, entry, "times")
    return FaultSpec(
        path=glob,
        method=document.get(path, entry, "method"),
        after=int(document.get(path, entry, "after") or 0),
        times=None if times is None else int(times),
        delay=duration(document, path, entry, "delay") or 0.0,
        status=None if status is None else int(status),
        errcode=errcode,
        error=error,
        retry_after_ms=None if retry_after_ms is None else int(retry_after_ms),
        lose_answer=bool(document.get(path, entry, "lose_answer")),
        line=line,
    )
