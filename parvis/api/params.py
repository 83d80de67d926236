"""Request parameters as Mastodon clients send them: form fields, JSON or the query string,
with array parameters written `name[]`."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from parvis.api.ids import parse_id
from parvis.errors import InvalidInput


@dataclass
class Params:
    """Parsed parameters: single values and lists."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """The last value given for `name`."""
        items = self.values.get(name)
        return items[-1] if items else default

    def has(self, name: str) -> bool:
        """True when the parameter was sent."""
        return name in self.values

    def list(self, name: str) -> list[str]:
        """Every value of an array parameter (`name[]` or repeated `name`)."""
        return self.values.get(f"{name}[]", []) + self.values.get(name, [])

    def boolean(self, name: str, default: bool = False) -> bool:
        """A boolean parameter ("true"/"1"/"false"/"0")."""
        value = self.get(name, "").lower()
        if value == "":
            return default
        if value in ("true", "1", "on", "yes"):
            return True
        if value in ("false", "0", "off", "no"):
            return False
        raise InvalidInput(f"{name} must be true or false.", name)

    def ids(self, name: str) -> builtins.list[int]:
        """An array of numeric ids (`media_ids[]`), refusing anything that is not a digit string."""
        values = self.list(name)
        numbers = [parse_id(value) for value in values]
        for value, number in zip(values, numbers, strict=True):
            if number is None:
                raise InvalidInput(f"{name} must hold numeric ids, not '{value[:40]}'.", name)
        return [n for n in numbers if n is not None]

    def integer(self, name: str) -> int | None:
        """An id-like integer parameter, or None."""
        value = self.get(name, "")
        if value == "":
            return None
        number = parse_id(value)
        if number is None:
            raise InvalidInput(f"{name} must be a numeric id, not '{value[:40]}'.", name)
        return number


async def read_params(request: Request) -> Params:
    """Collect parameters from the query string and a form or JSON body."""
    params = Params()
    for key, value in request.query_params.multi_items():
        params.values.setdefault(key, []).append(value)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise InvalidInput("The request body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise InvalidInput("The request body must be a JSON object.")
        for key, value in _flatten(data):
            if value is None:
                continue
            items = value if isinstance(value, list) else [value]
            params.values[key] = [
                ("true" if v else "false") if isinstance(v, bool) else str(v) for v in items
            ]
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, item in form.multi_items():
            if isinstance(item, str):
                params.values.setdefault(key, []).append(item)
    return params


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """JSON objects as the form fields Rails clients would send: {"poll": {"options": [..]}}
    becomes `poll[options]`, so every parameter is looked up the same way."""
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict):
            yield from _flatten(value, name)
        else:
            yield name, value


async def read_form(request: Request) -> dict[str, str]:
    """Flat parameters for OAuth endpoints: form or JSON body, then the query string.

    OAuth clients send single values only, so the last one given wins.
    """
    params = await read_params(request)
    return {key: values[-1] for key, values in params.values.items() if values}
