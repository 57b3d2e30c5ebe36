"""Scoring for the AIVideoTag benchmark and tests: word error rate, OCR character recall."""

from __future__ import annotations

import re
import unicodedata

_NUM = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
        "8": "eight", "9": "nine", "10": "ten", "11": "eleven", "12": "twelve"}


def words(text: str) -> list[str]:
    """Lower-case words without punctuation; hyphens split words; small numbers spelled out."""
    t = re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " "))
    return [_NUM.get(w, w) for w in t.split()]


def edit_distance(a: list[str] | str, b: list[str] | str) -> int:
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[-1]


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    return edit_distance(ref, hyp) / max(1, len(ref))


def wer_normalised(reference: str, hypothesis: str) -> float | None:
    """WER after Whisper's English text normaliser (``whisper-normalizer``; the normaliser OpenAI uses
    to report Whisper's WER: contractions expanded, British spellings made American, numbers as
    digits), applied to both sides. None when the package is missing."""
    try:
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError:
        return None
    n = EnglishTextNormalizer()
    ref, hyp = n(reference).split(), n(hypothesis).split()
    return edit_distance(ref, hyp) / max(1, len(ref))


def normalise_text(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s).lower())


def char_recall(truth: str, readings: list[str]) -> float:
    """1 - character error rate of the best reading (0 when nothing was read)."""
    t = normalise_text(truth)
    best = 0.0
    for r in readings:
        best = max(best, 1.0 - min(1.0, edit_distance(t, normalise_text(r)) / max(1, len(t))))
    return best


def hanzi(text: str, simplify: bool = True) -> str:
    """The Chinese characters of ``text`` (punctuation, spaces, Latin and digits dropped), as simplified
    characters (OpenCC t2s) unless ``simplify`` is False."""
    if simplify:
        import opencc

        text = opencc.OpenCC("t2s").convert(text)
    return "".join(re.findall(r"[\u3400-\u9fff]", text))


def cer(reference: str, hypothesis: str, simplify: bool = True) -> float:
    """Character error rate over the Chinese characters (edits / reference characters)."""
    ref, hyp = hanzi(reference, simplify), hanzi(hypothesis, simplify)
    return edit_distance(ref, hyp) / max(1, len(ref))
