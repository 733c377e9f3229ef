"""Secrets out of a recorded flow: each replaced by a placeholder that is the same for the same secret throughout.

The mapping from secrets to placeholders lives in memory only and is never written, so `<token:1>` in one flow and
`<token:1>` in another are the same access token, and the file says nothing more about it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

# JSON keys and query parameters whose values are credentials, and the word their placeholders use.
DEFAULT_FIELDS: Mapping[str, str] = {
    "access_token": "token",
    "refresh_token": "token",
    "id_access_token": "token",
    "login_token": "token",
    "token": "token",  # m.login.token, registration tokens, 3pid validation tokens
    "password": "password",
    "new_password": "password",
    "client_secret": "secret",
    "registration_shared_secret": "secret",
    "shared_secret": "secret",
    "mac": "secret",  # shared-secret registration: the HMAC of the nonce, user, password and admin flag
    "nonce": "secret",
}
# Pushkeys are kept on purpose: they tie a pusher set on the client leg to the notifications on the push leg.

# What a placeholder looks like: its kind and its number.
PLACEHOLDER = re.compile(r"<(token|password|secret|cookie):(\d+)>")

# A known secret this long is also replaced inside other strings; a shorter one only where it is a whole value,
# so that a password like "pass" does not turn the key "password" into "<password:1>word".
MIN_SUBSTRING_LENGTH = 8


class Redactor:
    """Replaces credentials in flow entries (plain data) with stable placeholders like `<token:1>`."""

    def __init__(self, *, fields: Mapping[str, str] = DEFAULT_FIELDS) -> None:
        self.fields = dict(fields)
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    @classmethod
    def configured(cls, *, redact: Iterable[str] = (), keep: Iterable[str] = ()) -> Redactor:
        """The default fields, plus `redact` (as kind "secret"), minus `keep`."""
        fields = {name: kind for name, kind in DEFAULT_FIELDS.items() if name not in set(keep)}
        fields.update({name: "secret" for name in redact if name not in fields})
        return cls(fields=fields)

    def placeholder(self, kind: str, secret: Any) -> str:
        """The placeholder for `secret`, the same every time it is asked for."""
        key = secret if isinstance(secret, str) else json.dumps(secret, sort_keys=True)
        if key not in self._placeholders:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._placeholders[key] = f"<{kind}:{self._counts[kind]}>"
        return self._placeholders[key]

    def known(self) -> int:
        """How many secrets it has learnt (a long-lived redactor is replaced when it knows too many)."""
        return len(self._placeholders)

    def learn(self, secret: str, placeholder: str) -> None:
        """Replace `secret` with `placeholder` from now on: a recording continued keeps its placeholders' meaning."""
        self._placeholders.setdefault(secret, placeholder)
        self.count_past(placeholder)

    def count_past(self, placeholder: str) -> None:
        """Number new placeholders of `placeholder`'s kind past it, so that none means two secrets."""
        if found := PLACEHOLDER.fullmatch(placeholder):
            self._counts[found[1]] = max(self._counts.get(found[1], 0), int(found[2]))

    def redact(self, entry: dict[str, Any]) -> dict[str, Any]:
        """`entry` with every secret replaced: first the known places (learning the secrets), then anywhere else
        a secret already learnt appears."""
        for part in ("request", "response"):
            message = entry.get(part)
            if message is None:
                continue
            message["headers"] = {name: self._header(name, value) for name, value in message["headers"].items()}
            if "query" in message:
                message["query"] = self._fields(message["query"])
            if "body" in message:
                message["body"] = self._fields(message["body"])
            if "text" in message:  # a body that is not JSON: secrets found by key in the raw text
                message["text"] = self._raw_fields(message["text"])
            if "base64" in message:  # nor even UTF-8: the same search, in the bytes as they came
                message["base64"] = self._raw_bytes(message["base64"])
        redacted: dict[str, Any] = self._known(entry)
        return redacted

    def _header(self, name: str, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list):
            return [self._header_value(name, item) for item in value]
        return self._header_value(name, value)

    def _header_value(self, name: str, value: str) -> str:
        if name == "authorization":
            scheme, _, credentials = value.partition(" ")
            if not credentials:
                return self.placeholder("token", value)
            kind = "token" if scheme.lower() == "bearer" else "secret"
            return f"{scheme} {self.placeholder(kind, credentials.strip())}"
        if name in ("cookie", "set-cookie"):
            return self.placeholder("cookie", value)
        return value

    def _fields(self, value: Any) -> Any:
        """JSON-like data with the values under secret keys replaced, at any depth."""
        if isinstance(value, dict):
            return {
                key: self._secret_field(key, item) if key in self.fields else self._fields(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._fields(item) for item in value]
        return value

    def _raw_fields(self, text: str) -> str:
        """`text` with the values of secret keys replaced where they look like JSON (`"password": "..."`, even in
        broken JSON) or a form (`password=...`)."""
        if not any(key in text for key in self.fields):
            return text
        names = "|".join(re.escape(key) for key in sorted(self.fields, key=len, reverse=True))
        json_like = re.compile(r'("(' + names + r')"\s*:\s*")((?:[^"\\]|\\.)*)(")')
        text = json_like.sub(lambda m: m[1] + self.placeholder(self.fields[m[2]], m[3]) + m[4], text)
        # A number where a string belongs (`"password": 1234`): the placeholder goes in as a string.
        json_scalar = re.compile(r'("(' + names + r')"\s*:\s*)(-?\d[\w.+-]*)')
        text = json_scalar.sub(lambda m: m[1] + '"' + self.placeholder(self.fields[m[2]], m[3]) + '"', text)
        form_like = re.compile(r"(?<![\w.])((" + names + r")=)([^&\s\"]+)")
        return form_like.sub(lambda m: m[1] + self.placeholder(self.fields[m[2]], m[3]), text)

    def _raw_bytes(self, encoded: str) -> str:
        """Base64 `encoded` bytes with the secrets in them replaced as in a text body, every other byte kept."""
        # surrogateescape gives each byte that is not UTF-8 a character of its own, and the same byte back.
        text = base64.b64decode(encoded).decode("utf-8", "surrogateescape")
        redacted = self._known_string(self._raw_fields(text))
        if redacted == text:
            return encoded
        return base64.b64encode(redacted.encode("utf-8", "surrogateescape")).decode("ascii")

    def _secret_field(self, key: str, value: Any) -> Any:
        if value is None or value == "":
            return value
        if isinstance(value, list):  # a repeated query parameter
            return [self.placeholder(self.fields[key], item) for item in value]
        return self.placeholder(self.fields[key], value)

    def _known(self, value: Any) -> Any:
        """Every string with the secrets learnt so far replaced, keys included."""
        if isinstance(value, str):
            return self._known_string(value)
        if isinstance(value, dict):
            return {self._known_string(key): self._known(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._known(item) for item in value]
        return value

    def _known_string(self, text: str) -> str:
        if text in self._placeholders:
            return self._placeholders[text]
        for secret, placeholder in self._placeholders.items():
            if len(secret) >= MIN_SUBSTRING_LENGTH and secret in text:
                text = text.replace(secret, placeholder)
        return text
