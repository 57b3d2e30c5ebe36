"""Typed access to an RPC request's operation parameters (query and form body merged)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from openvod.errors import InvalidParameter, MissingParameter


class Params:
    """Read parameters by their wire names; raise MissingParameter / InvalidParameter."""

    def __init__(self, raw: Mapping[str, str]):
        self.raw = raw

    def str(self, name: str, *, required: bool = False, max_bytes: int | None = None, default: str = "") -> str:
        v = self.raw.get(name, "")
        if v == "":
            if required:
                raise MissingParameter(name)
            return default
        if max_bytes is not None and len(v.encode()) > max_bytes:
            raise InvalidParameter(name, f"It must not exceed {max_bytes} bytes.")
        if "\x00" in v:  # never a valid value, and PostgreSQL text cannot hold it (a NUL id was a 500 there)
            raise InvalidParameter(name, "It must not contain NUL characters.")
        return v

    def int(self, name: builtins.str, *, required: builtins.bool = False, default: builtins.int | None = None,
            min_value: builtins.int | None = None, max_value: builtins.int | None = None) -> builtins.int | None:
        v = self.str(name, required=required)
        if v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise InvalidParameter(name, "It must be an integer.") from None
        if (min_value is not None and n < min_value) or (max_value is not None and n > max_value):
            raise InvalidParameter(name, f"It must be between {min_value} and {max_value}.")
        return n

    def bool(self, name: builtins.str, *, default: builtins.bool = False) -> builtins.bool:
        v = self.str(name)
        if v == "":
            return default
        if v.lower() not in ("true", "false"):
            raise InvalidParameter(name, "It must be true or false.")
        return v.lower() == "true"

    def ids(self, name: builtins.str, *, required: builtins.bool = False, max_items: builtins.int) -> list[builtins.str]:
        """A comma-separated id list: stripped, de-duplicated in order, at most ``max_items``."""
        v = self.str(name, required=required)
        items = list(dict.fromkeys(x.strip() for x in v.split(",") if x.strip()))
        if required and not items:
            raise MissingParameter(name)
        if len(items) > max_items:
            raise InvalidParameter(name, f"At most {max_items} values are allowed.")
        if any(len(x) > 128 for x in items):
            raise InvalidParameter(name, "An id is too long.")
        return items
