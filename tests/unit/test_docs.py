"""The docs stand alone: every relative link resolves inside the repository, no note about how they
were written or pointer to material outside it, and docs/actions.md matches the code."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# Phrases that only make sense to whoever wrote the docs, or point outside the repository.
FORBIDDEN = [
    r"shared/spec", r"\bspec §", r"§\s*\d", r"other engineers", r"offline here", r"untested here",
    r"available offline here", r"/work/", r"\bthe lead\b", r"\bhelpers?\b(?! thread)",
]


def _anchors(text: str) -> set[str]:
    out = set()
    for h in re.findall(r"^#+\s+(.*)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", h.strip().lower().replace("`", "")).replace(" ", "-")
        out.add(slug)
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve_inside_the_repo(doc: Path) -> None:
    text = doc.read_text()
    bad = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if not dest.exists() or REPO.resolve() not in (dest, *dest.parents):
            bad.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text()):
            bad.append(target)
    assert not bad, f"{doc.name}: {bad}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_notes_about_how_the_docs_were_written(doc: Path) -> None:
    text = doc.read_text()
    hits = [m.group(0) for pat in FORBIDDEN for m in re.finditer(pat, text, re.I)]
    assert not hits, f"{doc.name}: {hits}"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_actions_doc", REPO / "scripts" / "gen-actions-doc.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_actions_doc_is_up_to_date() -> None:
    gen = _generator()
    assert (REPO / "docs" / "actions.md").read_text() == gen.render(gen.collect()), (
        "docs/actions.md is stale: run python scripts/gen-actions-doc.py")


def test_actions_doc_covers_every_action_and_its_parts() -> None:
    from openvod.api.rpc import ACTIONS

    text = (REPO / "docs" / "actions.md").read_text()
    for name in ACTIONS:
        assert f"\n## {name}\n" in text, name
    reg = text[text.index("\n## RegisterMedia\n"):]
    reg = reg[: reg.find("\n## ", 5) if reg.find("\n## ", 5) > 0 else None]
    assert "| `RegisterMetadatas` | String | yes |" in reg
    assert "openvod extras: `FailedFileURLReasons`" in reg and "`FailedFileURLs`" in reg
    from openvod.services.media import FAILURE_CODES

    for code in FAILURE_CODES:
        assert f"`{code}`" in reg, code
    mz = text[text.index("\n## GetMezzanineInfo\n"):]
    assert "| `AuthTimeout` | Integer | no | 1 to 2592000 | 3600 |" in mz
    assert "`InvalidVideo.NotFound` (404)" in mz.split("\n## ")[1]
