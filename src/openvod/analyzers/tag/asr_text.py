"""ASR text post-processing: traditional -> simplified Chinese (OpenCC ``t2s``) and one decoder
segment split into sentences timed by its words."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np

from openvod.analyzers.tag.asr_types import CJK, NON_SPEECH, SENTENCE_END, Sentence, Word
from openvod.models.cache import ModelUnavailable


@lru_cache(maxsize=1)
def _t2s() -> Any:
    try:
        import opencc
    except ImportError as exc:  # pragma: no cover - the tag extra installs it
        raise ModelUnavailable("Chinese output needs the OpenCC package (pip install 'openvod[tag]')") from exc
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese with OpenCC's t2s data (other text is left as it is)."""
    return _t2s().convert(text) if CJK.search(text) else text


def _join(words: list[Word]) -> str:
    text = "".join(w.text for w in words).strip()
    return re.sub(r"\s+", " ", text)


def split_sentences(words: list[Word], text: str, start: float, end: float) -> list[Sentence]:
    """Split one decoder segment into sentences at sentence-final punctuation, timed by its words."""
    words = [w for w in words if w.text.strip()]
    if not words:
        t = text.strip()
        return [Sentence(start, end, t, [], 0, 0.0)] if t and not NON_SPEECH.match(t) else []
    out: list[Sentence] = []
    cur: list[Word] = []
    for w in words:
        cur.append(w)
        if SENTENCE_END.search(w.text.strip()):
            out.append(_sentence(cur))
            cur = []
    if cur:
        out.append(_sentence(cur))
    return [s for s in out if s.text and not NON_SPEECH.match(s.text)]


def _sentence(words: list[Word]) -> Sentence:
    conf = float(np.mean([w.probability for w in words])) if words else 0.0
    return Sentence(words[0].start, words[-1].end, _join(words), list(words), 0, conf)
