"""ASR: the split Whisper base model is reassembled atomically; Mandarin speech gives simplified
Chinese with language zh; noise, music and unsupported languages give no words, with a reason."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvod.models.assemble import SplitModel, assemble
from openvod.models.cache import ModelCache, ModelUnavailable

REPO = Path(__file__).resolve().parents[2]
SR = 16000


# ---------------------------------------------------------------------------------------------- reassembly
def _parts(d: Path, n: int = 3, size: int = 6 << 20) -> tuple[SplitModel, bytes]:
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, n * size, dtype=np.uint8).tobytes()
    d.mkdir(parents=True, exist_ok=True)
    parts = []
    for i in range(n):
        p = d / f"model.bin.part{i + 1}"
        p.write_bytes(data[i * size : (i + 1) * size])
        parts.append(p)
    (d / "config.json").write_text('{"x": 1}')
    return SplitModel("toy", "model.bin", tuple(parts), (d / "config.json",), hashlib.sha256(data).hexdigest()), data


_WORKER = """
import hashlib, json, sys, time
from pathlib import Path
from openvod.models.assemble import SplitModel, assemble
spec = json.loads(sys.argv[1])
m = SplitModel(spec["name"], "model.bin", tuple(map(Path, spec["parts"])), tuple(map(Path, spec["extra"])), spec["sha"])
go = Path(spec["go"])
while not go.exists():
    time.sleep(0.001)
folder, built = assemble(m, Path(spec["cache"]))
digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()
print(json.dumps({"built": built, "sha": digest, "folder": str(folder), "config": (folder / "config.json").read_text()}))
"""


def test_reassembly_is_atomic_when_two_processes_race(tmp_path: Path) -> None:
    model, data = _parts(tmp_path / "wheel")
    cache = tmp_path / "cache"
    go = tmp_path / "go"
    spec = json.dumps({"name": model.name, "parts": [str(p) for p in model.parts], "extra": [str(p) for p in model.extra],
                       "sha": model.sha256, "cache": str(cache), "go": str(go)})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, spec], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    time.sleep(0.5)  # both are waiting for the start signal
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    want = hashlib.sha256(data).hexdigest()
    assert [o["sha"] for o in outs] == [want, want]  # neither read a partial file
    assert sorted(o["built"] for o in outs) == [False, True]  # exactly one joined it
    assert outs[0]["folder"] == outs[1]["folder"] and outs[0]["config"] == '{"x": 1}'
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == [Path(outs[0]["folder"]).name]
    # A third call finds it published and does nothing.
    assert assemble(model, cache) == (Path(outs[0]["folder"]), False)


def test_a_wrong_checksum_publishes_nothing(tmp_path: Path) -> None:
    model, _ = _parts(tmp_path / "wheel", n=2, size=1 << 20)
    bad = SplitModel(model.name, model.target, model.parts[::-1], model.extra, model.sha256)  # parts swapped
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        assemble(bad, tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []
    missing = SplitModel(model.name, model.target, (tmp_path / "nope",), (), model.sha256)
    with pytest.raises(ModelUnavailable, match="incomplete"):
        assemble(missing, tmp_path / "cache2")


def test_a_damaged_published_folder_is_rebuilt(tmp_path: Path) -> None:
    model, data = _parts(tmp_path / "wheel", n=2, size=1 << 20)
    folder, built = assemble(model, tmp_path / "cache")
    assert built
    (folder / ".sha256").unlink()  # as if a crash of an older layout left it unfinished
    folder2, built2 = assemble(model, tmp_path / "cache")
    assert (folder2, built2) == (folder, True)
    assert (folder / "model.bin").read_bytes() == data


# ---------------------------------------------------------------------------------------------- speech
@pytest.fixture(scope="session")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    pytest.importorskip("faster_whisper")
    pytest.importorskip("opencc")
    from openvod.analyzers.tag.asr import AsrOptions, Transcriber, missing_model

    opts = AsrOptions(model_cache_dir=os.environ.get("OPENVOD_MODEL_CACHE") or str(tmp_path_factory.mktemp("models")))
    if reason := missing_model(opts):
        pytest.skip(reason)
    yield Transcriber(opts, ModelCache())


@pytest.fixture(scope="session")
def mandarin() -> tuple[str, np.ndarray]:
    from bench.tag import zhvoice

    if reason := zhvoice.missing():
        pytest.skip(reason)
    text = "今天北京天气晴朗。市政府宣布，新的地铁线路将在下个月开通。"
    return text, zhvoice.synth_mandarin(text)


def _cer(ref: str, hyp: str) -> float:
    from bench.tag.score import cer

    return cer(ref, hyp)


def test_mandarin_speech_gives_simplified_chinese_with_language_zh(transcriber, mandarin) -> None:  # type: ignore[no-untyped-def]
    from openvod.analyzers.tag.asr import to_simplified

    text, audio = mandarin
    pad = np.zeros(SR // 2, np.float32)
    out = transcriber.transcribe(np.concatenate([pad, audio, pad]))
    hyp = "".join(s.text for s in out.sentences)
    assert out.language == "zh" and out.language_probability > 0.8
    assert out.sentences and all(s.language == "zh" for s in out.sentences)
    assert to_simplified(hyp) == hyp  # no traditional characters left
    assert "地铁" in hyp and "北京" in hyp, hyp
    assert _cer(text, hyp) <= 0.25, hyp
    assert 0.3 <= out.sentences[0].start <= 1.0  # times are on the input's clock
    # The detail says so, and the Chinese tags come from that simplified text.
    from openvod.analyzers.tag.engine import TagResult
    from openvod.analyzers.tag.text import TextAnalyzer, TextOptions, TextSpan
    from openvod.analyzers.tag.wire import build_detail

    detail = build_detail(TagResult(["ASR"], out.duration, transcript=out), {}, "test")["ASR"]
    assert detail["Language"] == "zh" and {s["Language"] for s in detail["Sentences"]} == {"zh"}
    assert detail["NoTextReason"] == "" and detail["Rejected"] == []
    tags = TextAnalyzer(TextOptions(), ModelCache()).analyse(
        [TextSpan(s.text, s.start, s.end, "asr", [(w.text, w.start) for w in s.words]) for s in out.sentences])
    assert "北京" in [t.tag for t in tags["location"]]
    assert "地铁" in [t.tag for t in tags["keyword"]] or "地铁线路" in [t.tag for t in tags["keyword"]], tags["keyword"]


@pytest.mark.slow
def test_mixed_mandarin_and_english_each_in_its_language(transcriber, mandarin) -> None:  # type: ignore[no-untyped-def]
    from bench.tag.media import espeak_available, synth_speech
    from bench.tag.score import wer

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    text, zh = mandarin
    en_text = "The city council approved a new budget for public transport on Monday."
    en = synth_speech(en_text)
    gap = np.zeros(SR, np.float32)
    out = transcriber.transcribe(np.concatenate([gap, zh, gap, en, gap]))
    by_lang = {lang: [s for s in out.sentences if s.language == lang] for lang in ("zh", "en")}
    assert by_lang["zh"] and by_lang["en"], out.sentences
    assert _cer(text, "".join(s.text for s in by_lang["zh"])) <= 0.25
    assert wer(en_text, " ".join(s.text for s in by_lang["en"])) <= 0.2
    assert min(s.start for s in by_lang["en"]) > len(zh) / SR + 1.0  # English is where it was said
    assert set(out.languages) == {"zh", "en"}


def test_noise_and_music_give_no_words_and_a_reason(transcriber) -> None:  # type: ignore[no-untyped-def]
    from bench.tag.media import synth_music

    rng = np.random.default_rng(3)
    noise = (0.2 * rng.standard_normal(3 * SR)).astype(np.float32)
    for audio in (noise, synth_music(4.0, SR), np.zeros(2 * SR, np.float32)):
        out = transcriber.transcribe(audio)
        assert out.sentences == [] and out.reason, out


def test_an_unsupported_language_gives_no_words(transcriber) -> None:  # type: ignore[no-untyped-def]
    from bench.tag.media import espeak_available, synth_speech

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    german = synth_speech("Guten Abend, meine Damen und Herren. Hier sind die Nachrichten des Tages aus Berlin.",
                          voice="de")
    out = transcriber.transcribe(np.concatenate([np.zeros(SR // 2, np.float32), german]))
    assert out.sentences == []
    assert any("unsupported language" in r.reason for r in out.rejected), out.rejected
    assert "unsupported language" in out.reason


def test_traditional_characters_become_simplified() -> None:
    pytest.importorskip("opencc")
    from openvod.analyzers.tag.asr import to_simplified

    assert to_simplified("市政府宣布新的地鐵線路將在下個月開通") == "市政府宣布新的地铁线路将在下个月开通"
    assert to_simplified("Hello, world.") == "Hello, world."


# ---------------------------------------------------------------------------------------------- category
def test_category_from_a_transcript_with_sentence_embeddings() -> None:
    """all-MiniLM-L6-v2 (numpy, from its wheel) puts a transcript without any cue word in the right category."""
    from openvod.analyzers.tag.category import CategoryOptions, categorise, semantic_scorer, top_categories
    from openvod.models import minilm

    if reason := minilm.missing():
        pytest.skip(reason)
    cache = ModelCache()
    scorer = semantic_scorer(cache)
    assert scorer is not None
    # No word of this text is a cue of the taxonomy: only the embeddings can tell.
    text = ["Stir the onions until they are golden, then add garlic and a pinch of salt.",
            "Let the sauce simmer for ten minutes before you pour it over the pasta."]
    assert categorise(text, {}, CategoryOptions(semantic=False)) == []
    top = top_categories(categorise(text, {}, CategoryOptions(), scorer))
    assert top and top[0].name == "Food" and "semantic" in top[0].cues
    # The embeddings are the published model's: cosine of two paraphrases as in the SBERT docs.
    e = minilm.load(cache).encode(["The new movie is awesome", "The new movie is so great"])
    assert abs(float(e[0] @ e[1]) - 0.8939) < 2e-3
    assert categorise([], {}, CategoryOptions(), scorer) == []  # no evidence, no category


# ---------------------------------------------------------------------------------------------- windows
@given(st.lists(st.tuples(st.integers(0, 3 * SR), st.integers(SR // 10, 4 * SR)), min_size=1, max_size=6),
       st.data())
@settings(max_examples=60, deadline=None)
def test_window_times_map_back_to_the_input_clock(layout: list[tuple[int, int]], data: st.DataObject) -> None:
    """Speech chunks joined with pauses: every instant of a chunk maps back to where it was said."""
    from openvod.analyzers.tag.asr import GAP, _original_time, _window

    chunks, pos = [], 0
    for silence, length in layout:
        chunks.append({"start": pos + silence, "end": pos + silence + length})
        pos += silence + length
    samples = np.arange(pos, dtype=np.float32)  # each sample holds its own index
    audio, offsets = _window(samples, chunks)
    assert len(audio) == sum(c["end"] - c["start"] for c in chunks) + GAP * (len(chunks) - 1)
    k = data.draw(st.integers(0, len(chunks) - 1))
    c = chunks[k]
    i = data.draw(st.integers(0, c["end"] - c["start"] - 1))
    w = offsets[k][0] + i / SR  # that instant in the joined window
    assert audio[int(round(w * SR))] == c["start"] + i
    assert abs(_original_time(w, offsets) - (c["start"] + i) / SR) <= 1e-3
    if k + 1 < len(chunks):  # inside the pause after chunk k
        gap_t = offsets[k][0] + offsets[k][2] + 0.5 * GAP / SR
        # times are rounded to the millisecond; a sum that lands on a half millisecond may round
        # either way (1.2105 as 0.6249375 + 0.5855625 is 1.2105000000000001), hence half a millisecond
        assert abs(_original_time(gap_t, offsets, end=True) - c["end"] / SR) <= 5e-4 + 1e-9
        assert abs(_original_time(gap_t, offsets) - chunks[k + 1]["start"] / SR) <= 5e-4 + 1e-9
