"""ASR windows: speech chunks (from voice-activity detection) packed into decoding windows, their
audio joined with short gaps, window times mapped back to the input's clock, and language detection
of a window."""

from __future__ import annotations

from typing import Any

import numpy as np

from openvod.analyzers.tag.asr_types import Sentence

SR = 16000
GAP = int(0.4 * SR)  # silence put between two speech chunks of one window


def _detect(model: Any, audio: np.ndarray) -> tuple[str, float, list[tuple[str, float]]]:
    """Language of the first 30 s of ``audio``, from the very mel window decoding will encode first
    (faster-whisper drops the last feature frame when it decodes), so the encoder memo is hit."""
    from faster_whisper.audio import pad_or_trim

    feats = model.feature_extractor(audio)
    window = pad_or_trim(feats[:, : max(1, min(3000, feats.shape[-1] - 1))])
    lang, prob, probs = model.detect_language(features=window)
    return lang, float(prob), probs


def _pack(chunks: list[dict[str, int]], window_s: float) -> list[list[dict[str, int]]]:
    """Consecutive speech chunks packed into windows of at most ``window_s`` seconds of speech."""
    groups: list[list[dict[str, int]]] = []
    cur: list[dict[str, int]] = []
    n = 0
    for c in chunks:
        d = c["end"] - c["start"] + GAP
        if cur and n + d > window_s * SR:
            groups.append(cur)
            cur, n = [], 0
        cur.append(c)
        n += d
    if cur:
        groups.append(cur)
    return groups


def _uncovered(group: list[dict[str, int]], sentences: list[Sentence], min_s: float = 0.8) -> list[list[dict[str, int]]]:
    """Runs of consecutive chunks (each at least ``min_s`` long) in which no word was recognised."""
    starts = [w.start for s in sentences for w in s.words] + [s.start for s in sentences if not s.words]
    runs: list[list[dict[str, int]]] = []
    prev_empty = False
    for c in group:
        a, b = c["start"] / SR, c["end"] / SR
        empty = b - a >= min_s and not any(a - 0.05 <= t < b for t in starts)
        if empty:
            if prev_empty:
                runs[-1].append(c)
            else:
                runs.append([c])
        prev_empty = empty
    return runs


def _window(samples: np.ndarray, chunks: list[dict[str, int]]) -> tuple[np.ndarray, list[tuple[float, float, float]]]:
    """The chunks' audio joined with ``GAP`` samples of silence between them (so that the decoder
    still hears the pause between two sentences), and (window start, original start, length) of
    each chunk in seconds."""
    parts: list[np.ndarray] = []
    offsets: list[tuple[float, float, float]] = []
    pos = 0
    gap = np.zeros(GAP, np.float32)
    for i, c in enumerate(chunks):
        if i:
            parts.append(gap)
            pos += GAP
        piece = samples[c["start"] : c["end"]]
        parts.append(piece)
        offsets.append((pos / SR, int(c["start"]) / SR, len(piece) / SR))
        pos += len(piece)
    return np.concatenate(parts).astype(np.float32, copy=False), offsets


def _original_time(x: float, offsets: list[tuple[float, float, float]], end: bool = False) -> float:
    """A time of the joined window on the input's clock (a time inside a gap goes to the nearer
    chunk edge: the end of the previous chunk for an end time, the start of the next for a start)."""
    k = 0
    for i, (w0, _, _) in enumerate(offsets):
        if w0 <= x + 1e-9:
            k = i
    w0, o0, n = offsets[k]
    if x - w0 > n:  # inside the gap after chunk k
        if end or k + 1 == len(offsets):
            return float(round(o0 + n, 3))
        return float(round(offsets[k + 1][1], 3))
    return float(round(o0 + max(0.0, x - w0), 3))


def _concat(samples: np.ndarray, chunks: list[dict[str, int]]) -> np.ndarray:
    return _window(samples, chunks)[0]
