"""Request parameters as Mastodon clients send them: form fields, JSON or the query string,
with array parameters written `name[]`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from starlette.requests import Request

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

    def integer(self, name: str) -> int | None:
        """An id-like integer parameter, or None."""
        value = self.get(name, "")
        if value == "":
            return None
        if not value.isdigit():
            raise InvalidInput(f"{name} must be a numeric id, not '{value}'.", name)
        return int(value)


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
        for key, value in data.items():
            if value is None:
                continue
            items = value if isinstance(value, list) else [value]
            if isinstance(value, dict):
                raise InvalidInput(f"{key}: nested objects are not supported here.", key)
            params.values[key] = [
                ("true" if v else "false") if isinstance(v, bool) else str(v) for v in items
            ]
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, item in form.multi_items():
            if isinstance(item, str):
                params.values.setdefault(key, []).append(item)
    return params
