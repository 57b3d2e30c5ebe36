"""SearchMedia's ``Match`` protocol: ``Field = 'value'``, ``Field in ('a','b')``, ranges
``CreationTime = ('2024-01-01T00:00:00Z','2024-02-01T00:00:00Z')``, joined with ``and``.

Fields: Title and Description (fuzzy: case-insensitive substring), Tags (one of the tags), Status,
MediaId / VideoId, CateId, StorageLocation, AppId (exact), CreationTime / ModificationTime (ranges,
either bound may be ''), and openvod's AI fields (docs/upload.md): AiLabel (a label of the AIVideoTag
result, case-insensitive) and AiText (a substring of a label or of the text read on screen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openvod.errors import InvalidParameter

FIELDS = {
    "title": "Title", "description": "Description", "tags": "Tags", "status": "Status", "mediaid": "MediaId",
    "videoid": "MediaId", "imageid": "MediaId", "cateid": "CateId", "storagelocation": "StorageLocation",
    "appid": "AppId", "creationtime": "CreationTime", "modificationtime": "ModificationTime",
    "ailabel": "AiLabel", "aitext": "AiText",
}
RANGE_FIELDS = {"CreationTime", "ModificationTime"}

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\")|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>!=|=|\(|\)|,)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class Cond:
    """One condition: ``field`` (canonical name), ``op`` (eq | in | range | ne) and its values."""

    field: str
    op: str
    values: tuple[str, ...]


def _bad(detail: str) -> InvalidParameter:
    return InvalidParameter("Match", detail)


def _unquote(tok: str) -> str:
    body = tok[1:-1]
    if tok[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _bad(f"Cannot read the expression at position {pos}.")
        kind = m.lastgroup or ""
        val = m.group(kind)
        out.append((kind, _unquote(val) if kind == "str" else val))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def parse_match(text: str) -> list[Cond]:
    """Parse a Match expression; InvalidParameter naming Match on any error."""
    if not text.strip():
        return []
    toks = tokenize(text)
    conds: list[Cond] = []
    i = 0

    def need(k: int) -> tuple[str, str]:
        if k >= len(toks):
            raise _bad("The expression ends too early.")
        return toks[k]

    while True:
        kind, word = need(i)
        if kind != "word" or word.lower() not in FIELDS:
            raise _bad(f"Unknown field {word!r}. Allowed: {', '.join(sorted(set(FIELDS.values())))}.")
        field = FIELDS[word.lower()]
        kind, op = need(i + 1)
        i += 2
        if kind == "word" and op.lower() == "in":
            op = "in"
        elif kind != "op" or op not in ("=", "!="):
            raise _bad(f"Expected =, != or in after {field}.")
        kind, val = need(i)
        if kind == "op" and val == "(":
            values: list[str] = []
            i += 1
            while True:
                k2, v2 = need(i)
                if k2 not in ("str", "num"):
                    raise _bad("A list holds quoted strings or numbers.")
                values.append(v2)
                k3, v3 = need(i + 1)
                i += 2
                if v3 == ")":
                    break
                if v3 != ",":
                    raise _bad("Separate list values with commas.")
            if op == "=" and field in RANGE_FIELDS:
                if len(values) != 2:
                    raise _bad(f"A {field} range is ('start','end').")
                conds.append(Cond(field, "range", tuple(values)))
            elif op in ("in", "="):
                conds.append(Cond(field, "in", tuple(values)))
            else:
                raise _bad("!= takes one value.")
        elif kind in ("str", "num"):
            i += 1
            if op == "in":
                conds.append(Cond(field, "in", (val,)))
            else:
                conds.append(Cond(field, "eq" if op == "=" else "ne", (val,)))
        else:
            raise _bad(f"Expected a value for {field}.")
        if field == "CateId" and any(not v.lstrip("-").isdigit() for v in conds[-1].values):
            raise _bad("CateId takes integers.")
        if i >= len(toks):
            return conds
        kind, word = toks[i]
        if kind != "word" or word.lower() != "and":
            raise _bad(f"Expected 'and' before {word!r} (or is not supported).")
        i += 1
