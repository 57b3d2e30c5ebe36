"""Subtitle export of a transcript: SubRip (.srt) and WebVTT (.vtt)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

MAX_LINE = 42  # characters per subtitle line (a common broadcast limit)


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _lines(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_LINE or " " not in text:
        return text
    return "\n".join(textwrap.wrap(text, MAX_LINE))


def _cues(sentences: Iterable[Mapping[str, Any]]) -> list[tuple[float, float, str]]:
    """(start s, end s, text) from sentences given as {"StartTime": ms, "EndTime": ms, "Text"}."""
    out = []
    for s in sentences:
        start, end = float(s["StartTime"]) / 1000.0, float(s["EndTime"]) / 1000.0
        text = str(s.get("Text", "")).strip()
        if text:
            out.append((start, max(end, start + 0.2), text))
    return out


def to_srt(sentences: Iterable[Mapping[str, Any]]) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm`` times."""
    blocks = [f"{i}\n{_clock(a, ',')} --> {_clock(b, ',')}\n{_lines(t)}\n" for i, (a, b, t) in enumerate(_cues(sentences), 1)]
    return "\n".join(blocks)


def to_vtt(sentences: Iterable[Mapping[str, Any]]) -> str:
    """WebVTT: ``WEBVTT`` header, ``HH:MM:SS.mmm`` times."""
    blocks = [f"{_clock(a, '.')} --> {_clock(b, '.')}\n{_lines(t)}\n" for a, b, t in _cues(sentences)]
    return "WEBVTT\n\n" + "\n".join(blocks)
