"""Render response bodies as JSON or XML.

The list style of each field is fixed by the shape of the mapping a handler returns: a wrapper
list is ``{"AIJobList": {"AIJob": [...]}}``; a plain array is ``{"AIImageJobList": [...]}``. In XML a
list under key K always becomes repeated ``<K>`` elements, which yields both styles of spec §1.6.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import escape

JSON_TYPE = "application/json;charset=utf-8"
XML_TYPE = "text/xml;charset=utf-8"


def to_json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# Characters XML 1.0 cannot carry at all (escaping does not help): replaced by U+FFFD.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return escape(_XML_INVALID.sub("\ufffd", str(v)))


def _element(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _element(name, item, out)
    elif isinstance(value, dict):
        out.append(f"<{name}>")
        for k, v in value.items():
            _element(k, v, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(value)}</{name}>")


def to_xml(root: str, body: dict[str, Any]) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _element(root, body, out)
    return "".join(out).encode()
