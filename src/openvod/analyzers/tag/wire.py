"""AIVideoTag result on the wire (spec §7.1) and the richer detail.

``Data`` carries the five tag arrays the SDK models know (Person with FaceUrl, Keyword, Location,
Time with ``Times`` as millisecond strings; Category with ``Tag``), ``OrigASRData`` when asked for,
and extra keys the SDK models ignore: per item ``Confidence``/``Intervals``/``Source`` (and
``PersonId``/``Known`` on Person), plus top-level ``Annotation``, ``OCR``, ``Shots``, ``Models`` and
``Analyzer``. The detail (``JobOutput.detail``, served by GetAIVideoTagDetail and ``openvod tag
export``) adds word timings, every text and face track with boxes, category evidence, per-analyzer
seconds and decode counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openvod.analyzers.tag.engine import TagResult
from openvod.analyzers.tag.regions import fractions
from openvod.analyzers.tag.text import TimedTag

MAX_TIMES = 200  # Times per tag on the wire; the detail keeps all intervals
FLAT_LABELS = ("Black screen", "Solid colour")


@dataclass
class PersonIdentity:
    """How a face cluster is named on the wire."""

    tag: str  # the person's name, or a stable id for an unknown person
    person_id: str
    known: bool
    face_url: str
    face_key: str
    distance: float | None = None  # embedding distance to the library entry it matched


def ms(seconds: float) -> int:
    return max(0, int(round(seconds * 1000)))


def _times(seconds: list[float], limit: int | None = MAX_TIMES) -> list[str]:
    return [str(ms(t)) for t in sorted(set(round(s, 3) for s in seconds))][:limit]


def _intervals(pairs: list[tuple[float, float]]) -> list[dict[str, int]]:
    return [{"Start": ms(a), "End": ms(b)} for a, b in sorted(pairs)][:MAX_TIMES]


def _text_tag(t: TimedTag) -> dict[str, Any]:
    item: dict[str, Any] = {"Tag": t.tag, "Times": _times(t.times), "Source": ",".join(sorted(t.sources))}
    if t.kind == "keyword":
        item["Confidence"] = t.score
    if t.kind == "location" and t.extra.get("Country"):
        item["Country"] = t.extra["Country"]
    return item


def _merge_tags(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per tag (case-insensitive), Times united."""
    by: dict[str, dict[str, Any]] = {}
    for it in items:
        key = it["Tag"].lower()
        if key in by:
            prev = by[key]
            prev["Times"] = sorted(set(prev["Times"]) | set(it["Times"]), key=int)[:MAX_TIMES]
            prev["Source"] = ",".join(sorted(set(prev["Source"].split(",")) | set(it["Source"].split(","))))
            if "Confidence" in it:
                prev["Confidence"] = max(prev.get("Confidence", 0.0), it["Confidence"])
        else:
            by[key] = dict(it)
    return sorted(by.values(), key=lambda x: (int(x["Times"][0]) if x["Times"] else 0, x["Tag"]))


def build_data(res: TagResult, want_orig_asr: bool, people: dict[int, PersonIdentity],
               analyzer: str) -> dict[str, Any]:
    """The ``Data`` of ListAIJob / the callback (GetAIVideoTagResult strips OrigASRData)."""
    types = set(res.analyse_types)
    w, h = res.frame_size if res.frame_size[0] else (1, 1)
    data: dict[str, Any] = {"Person": [], "Keyword": [], "Location": [], "Time": [], "Category": []}

    if "Face" in types:
        for c in res.persons:
            ident = people.get(c.index)
            if ident is None:
                continue
            data["Person"].append({
                "Tag": ident.tag,
                # Every sampled moment on screen (>= 1 per second), as the cloud lists them; no cap.
                "Times": _times(c.times(res.face_step), None),
                "FaceUrl": ident.face_url,
                "PersonId": ident.person_id,
                "Known": ident.known,
                "Intervals": _intervals([(t.start, t.end or t.start) for t in c.tracks]),
            })

    keywords: list[dict[str, Any]] = []
    # text_tags come only from the text of the requested ASR/OCR (see engine.analyse).
    keywords += [_text_tag(t) for t in res.text_tags.get("keyword", [])]
    data["Location"] = _merge_tags([_text_tag(t) for t in res.text_tags.get("location", [])])
    data["Time"] = _merge_tags([_text_tag(t) for t in res.text_tags.get("time", [])])
    if "OCR" in types:
        # Short on-screen lines (titles, names, captions) are tags as shown.
        for tr in res.text_tracks:
            if _short(tr.text):
                keywords.append({"Tag": tr.text, "Times": _times([tr.start]), "Source": "ocr",
                                 "Confidence": round(tr.confidence, 3)})
    if "Annotation" in types:
        labels: dict[str, list[float]] = {}
        conf: dict[str, float] = {}
        for li in res.labels:
            labels.setdefault(li.label, []).append(li.start)
            conf[li.label] = max(conf.get(li.label, 0.0), li.confidence)
        # A flat picture is worth noting in the detail, not a tag to search by.
        keywords += [{"Tag": k, "Times": _times(v), "Source": "annotation", "Confidence": round(conf[k], 3)}
                     for k, v in labels.items() if k not in FLAT_LABELS]
        data["Annotation"] = [
            {"Tag": k, "Times": _times(v), "Confidence": round(conf[k], 3),
             "Intervals": _intervals([(li.start, li.end) for li in res.labels if li.label == k])}
            for k, v in labels.items()]
        data["Shots"] = _intervals(res.shots)
    data["Keyword"] = _merge_tags(keywords)
    if "Category" in types:
        data["Category"] = [{"Tag": c.name, "Confidence": c.confidence} for c in res.categories]
    if "OCR" in types:
        data["OCR"] = [{"Text": t.text, "Times": _times([t.start]), "Intervals": _intervals([(t.start, t.end or t.start)]),
                        "Confidence": round(t.confidence, 3), "Box": fractions(t.box, w, h)} for t in res.text_tracks]
    if "ASR" in types and want_orig_asr:
        data["OrigASRData"] = orig_asr_data(res)
    data["Models"] = res.models
    data["Analyzer"] = analyzer
    return data


def orig_asr_data(res: TagResult) -> dict[str, Any]:
    """The cloud's AIASRData: Duration (ms string) and sentences with ms times."""
    tr = res.transcript
    duration = tr.duration if tr is not None else res.duration
    sentences = tr.sentences if tr is not None else []
    return {
        "Duration": str(ms(duration)),
        "AsrTextList": [
            {"StartTime": ms(s.start), "EndTime": ms(s.end), "Text": s.text, "ChannelId": s.channel,
             "SpeechRate": s.speech_rate}
            for s in sentences
        ],
    }


def _short(text: str) -> bool:
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return len(text.split()) <= 5 and cjk <= 12 and len(text) <= 40


def build_detail(res: TagResult, people: dict[int, PersonIdentity], analyzer: str) -> dict[str, Any]:
    """Everything behind the tags: words, tracks with boxes, evidence, timings."""
    w, h = res.frame_size if res.frame_size[0] else (1, 1)
    tr = res.transcript
    detail: dict[str, Any] = {
        "Analyzer": analyzer,
        "AnalyseTypes": res.analyse_types,
        "DurationMs": ms(res.duration),
        "FrameSize": {"Width": res.frame_size[0], "Height": res.frame_size[1]},
        "Models": res.models,
        "Seconds": res.seconds,
        "Stats": res.stats,
        "Skipped": res.skipped,
    }
    if tr is not None:
        detail["ASR"] = {
            "Language": tr.language,
            "LanguageProbability": round(tr.language_probability, 3),
            "DurationMs": ms(tr.duration),
            "SpeechMs": ms(tr.speech_seconds),
            "Languages": {k: ms(v) for k, v in tr.languages.items()},  # ms of speech given text
            "NoTextReason": tr.reason,
            "Rejected": [{"StartTime": ms(r.start), "EndTime": ms(r.end), "Reason": r.reason}
                         for r in tr.rejected],
            "Sentences": [
                {"StartTime": ms(s.start), "EndTime": ms(s.end), "Text": s.text, "ChannelId": s.channel,
                 "Language": s.language, "SpeechRate": s.speech_rate, "Confidence": round(s.confidence, 3),
                 "Words": [{"Word": wd.text.strip(), "StartTime": ms(wd.start), "EndTime": ms(wd.end),
                            "Confidence": round(wd.probability, 3)} for wd in s.words]}
                for s in tr.sentences
            ],
        }
    detail["OCR"] = [{"Text": t.text, "StartTime": ms(t.start), "EndTime": ms(t.end or t.start),
                      "Confidence": round(t.confidence, 3), "Readings": t.readings, "Box": fractions(t.box, w, h)}
                     for t in res.text_tracks]
    detail["Faces"] = [
        {"Person": c.index, **_ident(people.get(c.index)),
         "Appearances": [{"StartTime": ms(t.start), "EndTime": ms(t.end or t.start), "Box": fractions(t.box, w, h),
                          "DetectorScore": round(t.score, 3), "Frames": t.frames,
                          "Samples": [{"Time": ms(x), "Box": fractions(b, w, h)} for x, b in t.timeline(res.face_step)]}
                         for t in c.tracks]}
        for c in res.persons
    ]
    detail["Annotation"] = [{"Tag": li.label, "StartTime": ms(li.start), "EndTime": ms(li.end),
                             "Confidence": round(li.confidence, 3), "Source": li.source} for li in res.labels]
    detail["Shots"] = _intervals(res.shots)
    detail["Keywords"] = {k: [{"Tag": t.tag, "TimesMs": [ms(x) for x in sorted(t.times)], "Sources": sorted(t.sources),
                               "Score": t.score, **({"Place": t.extra} if t.extra else {})} for t in v]
                          for k, v in res.text_tags.items()}
    detail["Category"] = [{"Tag": c.name, "Confidence": c.confidence, "Evidence": c.evidence, "Cues": c.cues}
                          for c in res.category_scores]
    return detail


def _ident(p: PersonIdentity | None) -> dict[str, Any]:
    if p is None:
        return {}
    out: dict[str, Any] = {"Tag": p.tag, "PersonId": p.person_id, "Known": p.known, "FaceKey": p.face_key}
    if p.distance is not None:
        out["MatchDistance"] = round(p.distance, 3)
    return out
