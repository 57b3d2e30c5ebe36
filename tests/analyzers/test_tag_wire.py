"""Wire shape (spec §7.1), subtitles, text tracking, face grouping and the face library — without models."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openvod.analyzers.tag.annotation import LabelInterval
from openvod.analyzers.tag.asr import NON_SPEECH, Sentence, Transcript, Word, split_sentences
from openvod.analyzers.tag.category import CategoryScore
from openvod.analyzers.tag.engine import TagResult, plan
from openvod.analyzers.tag.face import FaceTrack, cluster_tracks
from openvod.analyzers.tag.ocr import OcrOptions, TextTrack, TextTracker
from openvod.analyzers.tag.subtitles import to_srt, to_vtt
from openvod.analyzers.tag.text import TimedTag
from openvod.analyzers.tag.wire import PersonIdentity, build_data, build_detail
from openvod.pipeline.sampling import SelectedFrame
from openvod.services.faces import FaceLibrary
from openvod.store.db import init_schema, make_engine
from tests.conftest import db_url


def _result(types: list[str]) -> TagResult:
    words = [Word(" Hello", 1.0, 1.4, 0.9), Word(" London.", 1.5, 2.0, 0.8)]
    face = FaceTrack(4.0, (10, 10, 60, 60), 1, 1.1, end=9.0, embedding=np.zeros(128, np.float32))
    face2 = FaceTrack(20.0, (10, 10, 60, 60), 3, 1.0, end=25.0, embedding=np.zeros(128, np.float32))
    persons = cluster_tracks([face, face2], 0.5)
    return TagResult(
        analyse_types=types, duration=30.0, frame_size=(640, 360),
        transcript=Transcript([Sentence(1.0, 2.0, "Hello London.", words, 0, 0.85)], "en", 1.0, 30.0, 2.0, {"Name": "w"}),
        text_tracks=[TextTrack("Breaking news", 5.0, (100, 300, 400, 340), 1, end=8.0, scores=[0.99])],
        face_tracks=[face, face2], persons=persons,
        labels=[LabelInterval("Person", 4.0, 9.0, 1.1, "face"), LabelInterval("Black screen", 28.0, 30.0, 1.0, "pixels")],
        shots=[(0.0, 4.0), (4.0, 30.0)],
        text_tags={"keyword": [TimedTag("news", "keyword", [5.0], {"ocr"}, 0.5)],
                   "location": [TimedTag("London", "location", [1.5], {"asr"}, extra={"Country": "GB"})],
                   "time": [TimedTag("tomorrow", "time", [12.345], {"asr"})]},
        categories=[CategoryScore("News", 0.8, 4.0, {"news": 1})],
        category_scores=[CategoryScore("News", 0.8, 4.0, {"news": 1})],
        models=[{"Name": "m", "Version": "1"}], seconds={"total": 1.0},
    )


def _people() -> dict[int, PersonIdentity]:
    return {0: PersonIdentity("Unknown-abcd1234", "abcd1234" * 4, False, "http://h/blobs/x.jpg?auth_key=1", "x.jpg")}


def test_wire_shape_matches_the_sdk_models() -> None:
    data = build_data(_result(["Face", "ASR", "OCR", "Category", "Annotation"]), True, _people(), "a@1")
    assert set(data) >= {"Person", "Keyword", "Location", "Time", "Category", "OrigASRData"}
    p = data["Person"][0]
    assert p["Tag"] == "Unknown-abcd1234" and p["FaceUrl"].startswith("http")
    # every second on screen (the cloud lists each sampled moment), not only each appearance's start
    assert p["Times"] == [str(t * 1000) for t in (4, 5, 6, 7, 8, 20, 21, 22, 23, 24)]
    assert p["Intervals"] == [{"Start": 4000, "End": 9000}, {"Start": 20000, "End": 25000}]
    for key in ("Keyword", "Location", "Time"):
        for item in data[key]:
            assert isinstance(item["Tag"], str) and all(isinstance(t, str) and t.isdigit() for t in item["Times"])
    assert {k["Tag"] for k in data["Keyword"]} == {"news", "Breaking news", "Person"}  # no "Black screen" tag
    assert data["Time"][0]["Times"] == ["12345"] and data["Location"][0]["Country"] == "GB"
    assert data["Category"] == [{"Tag": "News", "Confidence": 0.8}]
    orig = data["OrigASRData"]
    assert orig["Duration"] == "30000"
    assert orig["AsrTextList"] == [{"StartTime": 1000, "EndTime": 2000, "Text": "Hello London.", "ChannelId": 0,
                                    "SpeechRate": 120}]
    assert data["OCR"][0]["Box"] == {"Left": 0.1562, "Top": 0.8333, "Width": 0.4688, "Height": 0.1111}


def test_orig_asr_data_only_when_asked_and_only_requested_arrays_filled() -> None:
    res = _result(["ASR"])
    assert "OrigASRData" not in build_data(res, False, _people(), "a@1")
    data = build_data(res, True, _people(), "a@1")
    assert "OrigASRData" in data and data["Person"] == [] and data["Category"] == [] and "OCR" not in data
    assert "OrigASRData" not in build_data(_result(["OCR"]), True, _people(), "a@1")


def test_detail_has_words_tracks_and_timings() -> None:
    d = build_detail(_result(["Face", "ASR", "OCR", "Annotation"]), _people(), "a@1")
    w = d["ASR"]["Sentences"][0]["Words"]
    assert w[1] == {"Word": "London.", "StartTime": 1500, "EndTime": 2000, "Confidence": 0.8}
    assert d["Faces"][0]["Appearances"][0]["StartTime"] == 4000 and d["Faces"][0]["FaceKey"] == "x.jpg"
    assert d["OCR"][0]["Text"] == "Breaking news" and d["Shots"][1] == {"Start": 4000, "End": 30000}


def test_plan_adds_dependencies() -> None:
    assert plan(["Category"]) == {"Category", "ASR", "OCR", "Annotation", "Face"}
    assert plan(["Annotation"]) == {"Annotation", "Face", "OCR"}
    assert plan(["ASR"]) == {"ASR"}


def test_subtitles() -> None:
    sents = [{"StartTime": 1000, "EndTime": 2500, "Text": "Hello London."},
             {"StartTime": 3_723_004, "EndTime": 3_725_000, "Text": "A much longer sentence that has to be wrapped over two lines."}]
    srt = to_srt(sents)
    assert srt.startswith("1\n00:00:01,000 --> 00:00:02,500\nHello London.\n\n2\n01:02:03,004 --> 01:02:05,000\n")
    assert max(len(line) for line in srt.splitlines()) <= 42
    vtt = to_vtt(sents)
    assert vtt.startswith("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello London.\n")


def test_sentences_split_at_punctuation_and_sound_descriptions_dropped() -> None:
    words = [Word(" Yes.", 0.0, 0.7, 0.9), Word(" I", 1.0, 1.1, 0.9), Word(" agree.", 1.1, 1.6, 0.8), Word(" And", 2.0, 2.2, 0.7)]
    out = split_sentences(words, "Yes. I agree. And", 0.0, 2.2)
    assert [(s.text, s.start, s.end) for s in out] == [("Yes.", 0.0, 0.7), ("I agree.", 1.0, 1.6), ("And", 2.0, 2.2)]
    assert out[0].speech_rate == 86  # 1 word in 0.7 s: the cloud's sample shows 85
    for noise in ("[Music]", "(upbeat music)", "♪ ♪", " [BLANK_AUDIO] "):
        assert NON_SPEECH.match(noise)
    assert not NON_SPEECH.match("Music is great")


class _FakeOcr:
    """Reads from a dict of what is on screen, recording what it was asked to read."""

    def __init__(self) -> None:
        self.screen: list[tuple[str, tuple[float, float, float, float]]] = []
        self.calls: list[tuple[int, int]] = []

    def read(self, img: np.ndarray, frame_size: tuple[int, int] | None = None) -> list[tuple[str, tuple[float, float, float, float], float]]:
        self.calls.append(img.shape[:2])
        return [(t, b, 0.99) for t, b in self.screen]


def _frame(t: float, reason: str, changed: np.ndarray, shot: int = 0) -> SelectedFrame:
    img = (np.random.default_rng(int(t * 10)).integers(0, 255, (90, 160, 3))).astype(np.uint8)
    return SelectedFrame(t=t, index=0, shot=shot, reason=reason, changed=changed, image=img)


def test_text_tracker_reads_changed_regions_and_keeps_intervals() -> None:
    eng = _FakeOcr()
    tr = TextTracker(eng, OcrOptions())  # type: ignore[arg-type]
    full = np.ones((9, 16), bool)
    eng.screen = [("LOGO", (5, 5, 40, 15))]
    tr.process(_frame(0.0, "first", full))
    bottom = np.zeros((9, 16), bool)
    bottom[7:, 3:12] = True
    eng.screen = [("Hello", (40 - 30, 75 - 70, 100 - 30, 85 - 70))]  # crop-relative box of the caption
    tr.process(_frame(2.0, "change", bottom))
    assert eng.calls[1][0] < 90  # only a strip was read
    eng.screen = []
    tr.process(_frame(5.0, "change", bottom))  # the caption went away
    out = tr.finish(10.0)
    assert [(t.text, t.start, t.end) for t in out] == [("LOGO", 0.0, 10.0), ("Hello", 2.0, 5.0)]


def test_face_tracks_group_by_embedding() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 0.1, 128).astype(np.float32), rng.normal(0, 0.1, 128).astype(np.float32)
    tracks = [FaceTrack(float(i), (0, 0, 10, 10), i, 1.0, end=i + 1.0,
                        embedding=(a if i % 2 == 0 else b) + rng.normal(0, 0.01, 128).astype(np.float32)) for i in range(6)]
    people = cluster_tracks(tracks, 0.5)
    assert len(people) == 2 and [t.start for t in people[0].tracks] == [0.0, 2.0, 4.0]


def test_face_library_keeps_unknown_ids_and_names(tmp_path: Path) -> None:
    engine = make_engine(db_url(tmp_path))
    init_schema(engine)
    rng = np.random.default_rng(1)
    anne, bob = rng.normal(0, 0.1, 128).astype(np.float32), rng.normal(0, 0.1, 128).astype(np.float32)
    lib = FaceLibrary(engine, "acct", "dlib")
    first = lib.identify([anne], 0.5)
    assert first[0].created and first[0].tag.startswith("Unknown-") and not first[0].known
    again = lib.identify([anne + 0.01, bob], 0.5)
    assert again[0].person_id == first[0].person_id and again[1].created
    assert FaceLibrary(engine, "other", "dlib").identify([anne], 0.5)[0].person_id != first[0].person_id
    assert lib.name_person(first[0].person_id, "Anne")
    named = lib.identify([anne], 0.5)[0]
    assert named.tag == "Anne" and named.known and named.person_id == first[0].person_id
    pid = lib.add_person("Carol", [("carol.jpg", np.full(128, 0.3, np.float32))])
    assert lib.identify([np.full(128, 0.31, np.float32)], 0.5)[0].person_id == pid
    assert {p.tag for p in lib.people()} == {"Anne", "Carol", again[1].tag}
    assert lib.remove_person(pid) and not lib.remove_person(pid)
