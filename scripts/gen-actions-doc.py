#!/usr/bin/env python3
"""Write docs/actions.md, the Action reference, from the code.

Everything comes from the code, nothing is listed by hand, so a new Action shows up on the next run:

* the Actions: the registry in ``openvod.api.rpc.ACTIONS`` (every ``@action``), with the handler's
  docstring as its description;
* parameters: every ``ctx.p.str|int|bool|ids("Name", …)`` call in the handler (and in the module's
  helpers it calls with ``ctx``), with the type, ``required``, ``max_bytes``, ``min_value`` /
  ``max_value``, ``max_items`` and ``default`` given there;
* response keys: the dict literals the handler returns (nested dicts and lists of dicts as paths),
  each marked standard when the official SDK's ``<Action>ResponseBody`` model knows it, else as an
  openvod extra (the SDK models ignore unknown keys);
* error codes: every ``raise`` of an ``openvod.errors.VodError`` subclass (or ``VodError(code=…)``)
  reachable from the handler: its module's helpers, the ``ctx.rt.<service>.<method>`` it calls
  (services are found from ``Runtime.__init__``), their ``self.…`` methods, the methods of the services
  they were given in their constructor (``self.media.get_row``) and the functions they
  call, a few levels deep; plus the errors every request can get.

Run it after adding or changing an Action: ``python scripts/gen-actions-doc.py`` (``--check`` exits
1 when docs/actions.md is stale; tests/unit/test_docs.py does the same). It needs the test extra
(the ``alibabacloud_vod20170321`` SDK) to tell standard keys from extras.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import sys
import textwrap
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "actions.md"
sys.path.insert(0, str(REPO / "src"))

import openvod.api.actions  # noqa: E402,F401  (registers every Action)
from openvod import errors  # noqa: E402
from openvod.api import rpc  # noqa: E402

pending_required: set[str] = set()
TYPES = {"str": "String", "int": "Integer", "bool": "Boolean", "ids": "String (comma-separated ids)"}
MAX_DEPTH = 4


@dataclass
class Param:
    name: str
    kind: str
    required: bool = False
    limits: list[str] = field(default_factory=list)
    default: str = ""


@dataclass
class ActionDoc:
    name: str
    module: str
    summary: str
    read_only: bool
    params: dict[str, Param] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- AST helpers
def _tree(fn: Callable[..., Any]) -> ast.FunctionDef | None:
    try:
        src = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    node = ast.parse(src).body[0]
    return node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None  # type: ignore[return-value]


def _const(node: ast.AST | None) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value
    if isinstance(node, ast.BinOp):  # 30 * 24 * 3600
        try:
            return eval(compile(ast.Expression(node), "<limit>", "eval"), {})  # noqa: S307 (constants only)
        except Exception:
            return None
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return ast.unparse(node)
    return None


def _local_imports(fn_node: ast.AST, module: ModuleType) -> dict[str, Any]:
    """Names imported inside a function body, resolved."""
    out: dict[str, Any] = {}
    for n in ast.walk(fn_node):
        if isinstance(n, ast.ImportFrom) and n.module:
            try:
                mod = importlib.import_module(n.module)
            except Exception:
                continue
            for a in n.names:
                if hasattr(mod, a.name):
                    out[a.asname or a.name] = getattr(mod, a.name)
    return out


def _is_ctx_p(node: ast.AST) -> bool:
    """``ctx.p`` (the handler's Params)."""
    return isinstance(node, ast.Attribute) and node.attr == "p" and isinstance(node.value, ast.Name)


def _params(fn_node: ast.AST, doc: ActionDoc, names: dict[str, Any]) -> None:
    for n in ast.walk(fn_node):
        # raise MissingParameter("VideoId") in the handler: the parameter is required in effect
        if (isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call) and isinstance(n.exc.func, ast.Name)
                and n.exc.func.id == "MissingParameter" and n.exc.args and isinstance(n.exc.args[0], ast.Constant)):
            pending_required.add(str(n.exc.args[0].value))
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and _is_ctx_p(n.func.value)):
            continue
        kind = n.func.attr
        if kind not in TYPES or not n.args or not isinstance(n.args[0], ast.Constant):
            continue
        name = str(n.args[0].value)
        kw = {k.arg: _const(k.value) for k in n.keywords if k.arg}
        d = next((k.value for k in n.keywords if k.arg == "default"), None)
        if isinstance(d, ast.Name) and isinstance(names.get(d.id), str | int | float):
            kw["default"] = names[d.id]
        p = doc.params.setdefault(name, Param(name, kind))
        p.required = p.required or bool(kw.get("required"))
        lim = []
        if kw.get("max_bytes") is not None:
            lim.append(f"at most {kw['max_bytes']} bytes")
        if kw.get("min_value") is not None or kw.get("max_value") is not None:
            lim.append(f"{kw.get('min_value', '…')} to {kw.get('max_value', '…')}")
        if kw.get("max_items") is not None:
            lim.append(f"at most {kw['max_items']} ids")
        for x in lim:
            if x not in p.limits:
                p.limits.append(x)
        if kw.get("default") not in (None, "") and not p.default:
            p.default = str(kw["default"])


def _dict_keys(node: ast.AST, prefix: str, out: list[str]) -> None:
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values, strict=False):
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                path = prefix + k.value
                if path not in out:
                    out.append(path)
                _dict_keys(v, path + ".", out)
    elif isinstance(node, ast.ListComp | ast.List):
        elts = [node.elt] if isinstance(node, ast.ListComp) else node.elts
        for e in elts:
            _dict_keys(e, prefix[:-1] + "[].", out)
    elif isinstance(node, ast.Call):
        # {**f(...), "Snapshots": …} or dict(...) — keys of the call are not visible; nothing to add
        return


def _returned_callee(f: ast.AST, names: dict[str, Any]) -> Any:
    """The function ``return f(...)`` calls: a name, or a service method ``ctx.rt.<service>.<method>``."""
    if isinstance(f, ast.Name):
        return names.get(f.id)
    if isinstance(f, ast.Attribute):
        m = re.fullmatch(r"ctx\.rt\.(\w+)", ast.unparse(f.value))
        cls = _services().get(m.group(1)) if m else None
        return getattr(cls, f.attr, None) if cls is not None else None
    return None


def _response_keys(fn_node: ast.AST, names: dict[str, Any], depth: int = 0) -> list[str]:
    """Keys of the dicts a function returns: dict literals, a variable built as one (``out = {…}``,
    ``out["K"] = …``), or what an openvod function it returns the result of returns."""
    out: list[str] = []
    returned: set[str] = set()
    for n in ast.walk(fn_node):
        if isinstance(n, ast.Return) and n.value is not None:
            _dict_keys(n.value, "", out)
            if isinstance(n.value, ast.Name):
                returned.add(n.value.id)
            elif isinstance(n.value, ast.Call) and depth < 2:
                callee = _returned_callee(n.value.func, names)
                node = _tree(callee) if inspect.isfunction(callee) and callee.__module__.startswith("openvod") else None
                if node is not None:
                    mod = sys.modules[callee.__module__]
                    for k in _response_keys(node, {**vars(mod), **_local_imports(node, mod)}, depth + 1):
                        if k not in out:
                            out.append(k)
    for n in ast.walk(fn_node):
        if isinstance(n, ast.Assign | ast.AnnAssign):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id in returned and n.value is not None:
                    _dict_keys(n.value, "", out)
                if (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in returned
                        and isinstance(t.slice, ast.Constant) and isinstance(t.slice.value, str)
                        and t.slice.value not in out):
                    out.append(t.slice.value)
    return out


# ---------------------------------------------------------------------------------------------- error codes
def _services() -> dict[str, type]:
    """Runtime attribute -> service class, read from Runtime.__init__ (``self.media = MediaService(self)``)."""
    from openvod import runtime

    out: dict[str, type] = {}
    node = _tree(runtime.Runtime.__init__)
    if node is None:
        return out
    names = {**vars(runtime), **_local_imports(node, runtime)}
    for n in ast.walk(node):
        if (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Attribute)
                and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name)):
            cls = names.get(n.value.func.id)
            if inspect.isclass(cls):
                out[n.targets[0].attr] = cls
    return out


def _error_code(exc: ast.AST, names: dict[str, Any]) -> tuple[str, int] | None:
    call = exc if isinstance(exc, ast.Call) else None
    target = call.func if call else exc
    obj: Any = None
    if isinstance(target, ast.Name):
        obj = names.get(target.id)
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        obj = getattr(names.get(target.value.id), target.attr, None)
    if not (inspect.isclass(obj) and issubclass(obj, errors.VodError)):
        return None
    code, status = obj.code, obj.http_status
    if call:
        kw = {k.arg: _const(k.value) for k in call.keywords if k.arg}
        if isinstance(kw.get("code"), str):
            code = kw["code"]
        if isinstance(kw.get("http_status"), int):
            status = kw["http_status"]
    return code, status


def _dependency(owner: type, attr: str) -> type | None:
    """The class of a service's constructor parameter ``attr`` (services get what they use there)."""
    try:
        hints = typing.get_type_hints(owner.__init__)
    except Exception:
        return None
    cls = hints.get(attr)
    return cls if inspect.isclass(cls) else None


class CodeFinder:
    """Error codes raised by a function and what it calls (within openvod, a few levels deep)."""

    def __init__(self) -> None:
        self.services = _services()
        self.seen: set[Any] = set()

    def codes(self, fn: Any, depth: int = 0, owner: type | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        fn = inspect.unwrap(fn)
        if depth > MAX_DEPTH or fn in self.seen or not getattr(fn, "__module__", "").startswith("openvod"):
            return out
        self.seen.add(fn)
        node = _tree(fn)
        if node is None:
            return out
        module = sys.modules[fn.__module__]
        names = {**vars(module), **_local_imports(node, module)}
        for n in ast.walk(node):
            if isinstance(n, ast.Raise) and n.exc is not None:
                found = _error_code(n.exc, names)
                if found:
                    out.setdefault(*found)
            if isinstance(n, ast.Call):
                for callee, cls in self._callees(n.func, names, owner):
                    for k, v in self.codes(callee, depth + 1, cls).items():
                        out.setdefault(k, v)
        return out

    def _callees(self, f: ast.AST, names: dict[str, Any], owner: type | None) -> list[tuple[Any, type | None]]:
        if isinstance(f, ast.Name):
            obj = names.get(f.id)
            return [(obj, None)] if inspect.isfunction(obj) else []
        if not isinstance(f, ast.Attribute):
            return []
        chain = ast.unparse(f.value)
        # ctx.rt.media.register / self.rt.media.register / rt.media.register
        m = re.fullmatch(r"(?:ctx\.rt|self\.rt|rt)\.(\w+)", chain)
        if m and m.group(1) in self.services:
            cls = self.services[m.group(1)]
            meth = getattr(cls, f.attr, None)
            return [(meth, cls)] if inspect.isfunction(meth) else []
        if chain == "self" and owner is not None:
            meth = getattr(owner, f.attr, None)
            return [(meth, owner)] if inspect.isfunction(meth) else []
        # self.media.get_row inside a service: the service its constructor was given for ``media``
        m = re.fullmatch(r"self\.(\w+)", chain)
        if m and owner is not None:
            dep = _dependency(owner, m.group(1))
            meth = getattr(dep, f.attr, None) if dep is not None else None
            return [(meth, dep)] if inspect.isfunction(meth) else []
        if isinstance(f.value, ast.Name):  # module.function or Class.method
            obj = getattr(names.get(f.value.id), f.attr, None)
            return [(obj, None)] if inspect.isfunction(obj) else []
        return []


# ---------------------------------------------------------------------------------------------- SDK models
def _sdk_model(action: str) -> type | None:
    try:
        models = importlib.import_module("alibabacloud_vod20170321.models")
    except ImportError:
        return None
    return getattr(models, f"{action}ResponseBody", None)


def _sdk_fields(cls: type) -> dict[str, type | None]:
    """Wire key -> nested model class (or None) from the model's from_map source."""
    try:
        src = inspect.getsource(cls.from_map)  # type: ignore[attr-defined]
    except (OSError, TypeError, AttributeError):
        return {}
    models = sys.modules[cls.__module__]
    out: dict[str, type | None] = {}
    for block in re.split(r"\n\s*if m\.get\(", src)[1:]:
        km = re.match(r"'([^']+)'\)", block)
        if not km:
            continue
        nested = re.search(r"(?:main_models|models)\.(\w+)\(\)", block)
        out[km.group(1)] = getattr(models, nested.group(1), None) if nested else None
    return out


def _is_standard(action: str, key: str) -> bool | None:
    """Whether the SDK's response model has this key path (None: no model for the Action)."""
    cls = _sdk_model(action)
    if cls is None:
        return None
    parts = key.replace("[]", "").split(".")
    for part in parts:
        fields = _sdk_fields(cls)
        if part not in fields:
            return False
        nested = fields[part]
        if nested is None:
            return True  # the model keeps what is below as plain data
        cls = nested
    return True


# ---------------------------------------------------------------------------------------------- collect
ALWAYS = {
    "MissingParameter": 400, "InvalidParameter": 400,
}
COMMON = [errors.InvalidAccessKeyIdNotFound, errors.InvalidAccessKeyIdInactive, errors.SignatureDoesNotMatch,
          errors.IncompleteSignature, errors.SignatureNonceUsed, errors.InvalidTimeStampExpired,
          errors.InvalidTimeStampFormat, errors.UnsupportedSignatureMethod, errors.InvalidVersion,
          errors.InvalidActionNotFound, errors.ThrottlingUser, errors.InternalError]


# Common errors whose message is built per request (so the class has no fixed one).
WHEN = {"SignatureDoesNotMatch": "The signature does not match the server's (the message has the server's string to sign).",
        "InternalError": "An unexpected server error (logged with the RequestId)."}


def collect() -> list[ActionDoc]:
    finder = CodeFinder()
    docs = []
    for name, fn in rpc.ACTIONS.items():
        module = sys.modules[fn.__module__]
        node = _tree(fn)
        doc = ActionDoc(name, module.__name__, inspect.getdoc(fn) or "", name in rpc.READ_ONLY)
        pending_required.clear()
        if node is not None:
            names = {**vars(module), **_local_imports(node, module)}
            _params(node, doc, names)
            # module helpers that take ctx (e.g. _video_id(ctx)) read parameters too
            for n in ast.walk(node):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                        and any(isinstance(a, ast.Name) and a.id == "ctx" for a in n.args)):
                    helper = getattr(module, n.func.id, None)
                    hn = _tree(helper) if inspect.isfunction(helper) else None
                    if hn is not None:
                        _params(hn, doc, names)
            doc.keys = _response_keys(node, names)
            for pname in pending_required:
                if pname in doc.params:
                    doc.params[pname].required = True
        finder.seen = set()
        codes = finder.codes(fn)
        if any(p.required for p in doc.params.values()):
            codes.setdefault("MissingParameter", 400)
        if any(p.limits or p.kind in ("int", "bool", "ids") for p in doc.params.values()):
            codes.setdefault("InvalidParameter", 400)
        doc.codes = dict(sorted(codes.items()))
        docs.append(doc)
    return sorted(docs, key=lambda d: (d.module, d.name))


# ---------------------------------------------------------------------------------------------- render
def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def render(docs: list[ActionDoc]) -> str:
    lines = [
        "# Action reference",
        "",
        "<!-- Generated by scripts/gen-actions-doc.py from the action registry and the handlers; do not edit. -->",
        "",
        "Every Action openvod serves (API version 2017-03-21), built from the code: parameters with their",
        "types and limits as the handler reads them, the response keys it returns and the error codes it can",
        "raise. A response key is **standard** when the official SDK's response model has it, or an",
        "**openvod extra** (the SDK models ignore it; read it from the raw JSON). Keys a handler builds",
        "elsewhere (e.g. the fields of `Video`) are described in the README and the analyzer docs.",
        "",
        "Every request also takes the common parameters (`Action`, `Version`, `AccessKeyId`, `Signature`,",
        "`SignatureMethod`, `SignatureVersion`, `SignatureNonce`, `Timestamp`, `Format` = JSON | XML), or",
        "their ACS3-HMAC-SHA256 headers, and every response has `RequestId`. Every request can fail with:",
        "",
        "| Code | HTTP status | When |",
        "|---|---|---|",
    ]
    for cls in COMMON:
        when = cls.__dict__.get("__doc__") or cls.__dict__.get("message") or WHEN.get(cls.code, cls.message)
        lines.append(f"| `{cls.code}` | {cls.http_status} | {_cell(when.strip().splitlines()[0])} |")
    lines += ["", "An error response is `{RequestId, HostId, Code, Message, Recommend}` with that HTTP status.", ""]
    lines += ["| Action | Module | Summary |", "|---|---|---|"]
    for d in docs:
        first = d.summary.split("\n")[0]
        lines.append(f"| [{d.name}](#{d.name.lower()}) | `{d.module.rsplit('.', 1)[-1]}` | {_cell(first)} |")
    for d in docs:
        lines += ["", f"## {d.name}", ""]
        if d.summary:
            lines += [d.summary, ""]
        if _sdk_model(d.name) is None:
            lines += ["openvod extra Action (no SDK method: call it with the SDK's generic request).", ""]
        if d.read_only:
            lines += ["Read-only.", ""]
        if d.params:
            lines += ["| Parameter | Type | Required | Limits | Default |", "|---|---|---|---|---|"]
            for p in d.params.values():
                lines.append(f"| `{p.name}` | {TYPES[p.kind]} | {'yes' if p.required else 'no'} | "
                             f"{_cell(', '.join(p.limits)) or '–'} | {_cell(p.default) or '–'} |")
        else:
            lines.append("No parameters besides the common ones.")
        lines.append("")
        std = [k for k in d.keys if _is_standard(d.name, k)]
        extra = [k for k in d.keys if not _is_standard(d.name, k)]
        lines.append("Response keys: " + ", ".join(f"`{k}`" for k in ["RequestId", *std]) + ".")
        if extra:
            lines += ["", "openvod extras: " + ", ".join(f"`{k}`" for k in extra) + "."]
        lines.append("")
        if d.codes:
            lines.append("Errors: " + ", ".join(f"`{c}` ({s})" for c, s in d.codes.items()) + ".")
        else:
            lines.append("Errors: only the common ones.")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/actions.md is not up to date")
    ap.add_argument("--out", default=str(OUT), help="where to write (default docs/actions.md)")
    args = ap.parse_args()
    text = render(collect())
    out = Path(args.out)
    if args.check:
        if not out.exists() or out.read_text() != text:
            print(f"{out} is stale: run python scripts/gen-actions-doc.py", file=sys.stderr)
            return 1
        return 0
    out.write_text(text)
    print(f"wrote {out} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
