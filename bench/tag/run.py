"""AIVideoTag benchmark: speed (real-time factor and per-analyzer split) and quality on media with
known content.

    .venv/bin/python -m bench.tag.run [--data bench/tag/results/data] [--out bench/tag/results/latest.json]

Media (made once, then reused from --data): the 60 s 720p ``newscast`` (bench.tag.dataset), a
caption reel of Chinese and English captions at several sizes, a speech reel, and two negatives
(black + silent; moving graphics + music, no speech, no text).

Reported:
* RTF = wall seconds / media seconds of the whole job with all five types (models already loaded
  by a first, untimed run of the same job; that run's time and the load times are reported), CPU seconds of the process, the machine's load average, and the
  per-analyzer wall/CPU split;
* ASR word error rate against the synthesised text (lower-cased, punctuation removed);
* OCR recall: share of captions read exactly (space- and case-insensitive) and share of caption
  characters recovered (1 - character error rate of the best-matching reading);
* face clustering: every appearance of the one anchor under one Person;
* tags produced by the negatives (target: none).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

from bench.tag.dataset import SENTENCES, newscast
from bench.tag.media import Caption, ClipSpec, Shot, Speech, cjk_font, render
from bench.tag.score import char_recall, normalise_text, wer

RESULTS = Path(__file__).resolve().parent / "results"
ALL = ["Face", "ASR", "OCR", "Category", "Annotation"]

SPEECH_REEL = [
    "Good morning and welcome to the programme.",
    "Today we look at how small farms are changing.",
    "The market opens at seven every Saturday.",
    "Fresh bread and vegetables sell out quickly.",
    "Prices have gone up since last summer.",
    "Many families now grow food in their gardens.",
    "The local school teaches children to cook.",
    "See you again next week.",
]
CAPTIONS_EN = ["Market opens at seven", "Fresh bread daily", "Prices rise again", "Local school kitchen",
               "Interview with the mayor", "Traffic update", "Sports results tonight", "Weather warning in the north"]
CAPTIONS_ZH = ["今日要闻", "北京天气晴朗", "上海地铁新线路开通", "市场价格上涨", "学校开设烹饪课程", "体育赛事直播",
               "交通状况更新", "明天下午三点发布会"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_media(d: Path) -> dict[str, Any]:
    """Render the benchmark media (skipped when the truth file exists)."""
    d.mkdir(parents=True, exist_ok=True)
    truth_path = d / "truth.json"
    if truth_path.exists():
        return json.loads(truth_path.read_text())
    truth: dict[str, Any] = {}
    t0 = time.time()
    truth["newscast"] = render(newscast(), d / "newscast.mp4")
    grainy = newscast()
    grainy.grain, grainy.crf = 6, 20
    truth["newscast_grain"] = render(grainy, d / "newscast_grain.mp4")
    caps = []
    t = 0.5
    texts = CAPTIONS_EN + (CAPTIONS_ZH if cjk_font() else [])
    for i, text in enumerate(texts):
        caps.append(Caption(text, t, t + 2.0, ("bottom", "top", "middle")[i % 3], (0.045, 0.06, 0.08)[i % 3]))
        t += 2.5
    truth["captions"] = render(ClipSpec(duration=t + 0.5, width=1280, height=720, fps=25, audio=False,
                                        shots=[Shot(0, t + 0.5, "gradient", 11)], captions=caps), d / "captions.mp4")
    speech = [Speech(s, 1.0 + 4.0 * i) for i, s in enumerate(SPEECH_REEL)]
    truth["speech"] = render(ClipSpec(duration=4.0 * len(SPEECH_REEL) + 1.0, width=640, height=360, fps=10,
                                      shots=[Shot(0, 99, "color", 12)], speech=speech), d / "speech.mp4")
    truth["black"] = render(ClipSpec(duration=10.0, width=1280, height=720, fps=25, shots=[Shot(0, 10, "black")]),
                            d / "black.mp4")
    truth["textfree"] = render(ClipSpec(duration=10.0, width=1280, height=720, fps=25,
                                        shots=[Shot(0, 5, "motion", 13), Shot(5, 10, "color", 14)],
                                        music=[(0.5, 9.5)]), d / "textfree.mp4")
    truth["render_seconds"] = round(time.time() - t0, 1)
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1))
    return truth


def run_one(path: Path, types: list[str], cache: Any, options: Any) -> tuple[Any, float, float]:
    from openvod.analyzers.tag.engine import analyse

    w0, c0 = time.monotonic(), _cpu()
    res = analyse(path, types, options, cache)
    return res, time.monotonic() - w0, _cpu() - c0


def tag_count(res: Any) -> dict[str, int]:
    from openvod.analyzers.tag.wire import PersonIdentity, build_data

    people = {c.index: PersonIdentity(f"p{c.index}", "", False, "", "") for c in res.persons}
    data = build_data(res, False, people, "bench")
    return {k: len(data[k]) for k in ("Person", "Keyword", "Location", "Time", "Category")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(RESULTS / "data"))
    ap.add_argument("--out", default=str(RESULTS / "latest.json"))
    args = ap.parse_args()
    from openvod.engine.analyzer_options import tag_options as options_from_settings
    from openvod.config import TagSettings
    from openvod.models.cache import ModelCache

    data = Path(args.data)
    truth = make_media(data)
    options = options_from_settings(TagSettings())
    cache = ModelCache()
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}

    # Load every model once (a worker does this on its first job): a first, untimed run.
    w0 = time.monotonic()
    run_one(data / "newscast.mp4", ALL, cache, options)
    out["first_job"] = {"wall_s": round(time.monotonic() - w0, 2), "models": cache.loaded()}

    # Speed: the whole job on the 60 s 720p newscast.
    load0 = os.getloadavg()[0]
    res, wall, cpu = run_one(data / "newscast.mp4", ALL, cache, options)
    dur = truth["newscast"]["spec"]["duration"]
    out["speed"] = {
        "media": "newscast.mp4 (60 s, 1280x720, 30 fps, H.264 + AAC)",
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "rtf_wall": round(wall / dur, 3),
        "rtf_cpu_per_core": round(cpu / dur / (os.cpu_count() or 1), 3),
        "loadavg_1m_before": round(load0, 2), "loadavg_1m_after": round(os.getloadavg()[0], 2),
        "wall_split_s": res.seconds, "cpu_split_s (calling thread)": res.stats.get("cpu_seconds", {}),
        "frames": res.stats.get("video"), "ocr": res.stats.get("ocr"), "face": res.stats.get("face"),
    }

    # The same programme with sensor-like grain: a realistic bitrate, so decoding costs what it would.
    if (data / "newscast_grain.mp4").exists():
        g, gwall, gcpu = run_one(data / "newscast_grain.mp4", ALL, cache, options)
        mbps = (data / "newscast_grain.mp4").stat().st_size * 8 / dur / 1e6
        out["speed_grain"] = {"media": f"newscast_grain.mp4 (same, with grain: {mbps:.1f} Mbit/s)",
                              "wall_s": round(gwall, 2), "cpu_s": round(gcpu, 2), "rtf_wall": round(gwall / dur, 3),
                              "loadavg_1m_after": round(os.getloadavg()[0], 2), "wall_split_s": g.seconds,
                              "frames": g.stats.get("video"), "persons": len(g.persons),
                              "ocr_texts": [t.text for t in g.text_tracks]}
    out["speed"]["mbit_s"] = round((data / "newscast.mp4").stat().st_size * 8 / dur / 1e6, 2)

    # ASR WER: newscast + speech reel.
    refs, hyps = [], []
    for name, sents in (("newscast", SENTENCES), ("speech", SPEECH_REEL)):
        r = res if name == "newscast" else run_one(data / "speech.mp4", ["ASR"], cache, options)[0]
        refs.append(" ".join(sents))
        hyps.append(" ".join(s.text for s in (r.transcript.sentences if r.transcript else [])))
    out["asr"] = {"wer": round(wer(" ".join(refs), " ".join(hyps)), 4),
                  "per_clip": {n: round(wer(a, b), 4) for n, a, b in zip(("newscast", "speech"), refs, hyps, strict=True)},
                  "sentences": sum(len(s) for s in (SENTENCES, SPEECH_REEL)), "hypothesis": hyps}

    # OCR recall: newscast captions + caption reel.
    rows = []
    cap_res = run_one(data / "captions.mp4", ["OCR"], cache, options)[0]
    for name, r in (("newscast", res), ("captions", cap_res)):
        readings = [t.text for t in r.text_tracks]
        for c in truth[name]["captions"]:
            exact = any(normalise_text(c["text"]) == normalise_text(x) for x in readings)
            rows.append({"clip": name, "text": c["text"], "exact": exact, "chars": round(char_recall(c["text"], readings), 4),
                         "zh": any("\u4e00" <= ch <= "\u9fff" for ch in c["text"])})
    out["ocr"] = {
        "captions": len(rows),
        "exact_recall": round(sum(r["exact"] for r in rows) / len(rows), 4),
        "char_recall": round(sum(r["chars"] for r in rows) / len(rows), 4),
        "zh_char_recall": round(sum(r["chars"] for r in rows if r["zh"]) / max(1, sum(r["zh"] for r in rows)), 4),
        "en_char_recall": round(sum(r["chars"] for r in rows if not r["zh"]) / max(1, sum(not r["zh"] for r in rows)), 4),
        "misses": [r for r in rows if not r["exact"]],
        "caption_reel_ocr_seconds": cap_res.seconds.get("ocr"),
    }

    # Faces: the anchor appears twice (6-20 s, 38-50 s, second time mirrored and smaller).
    out["face"] = {"persons": len(res.persons),
                   "appearances": [[(round(t.start, 2), round(t.end or 0, 2)) for t in p.tracks] for p in res.persons],
                   "truth": [(f["start"], f["end"]) for f in truth["newscast"]["faces"]]}
    out["face"]["one_person_for_all_appearances"] = len(res.persons) == 1 and len(res.persons[0].tracks) == 2

    # Negatives: no tags at all.
    out["negatives"] = {}
    for name in ("black", "textfree"):
        r = run_one(data / f"{name}.mp4", ALL, cache, options)[0]
        out["negatives"][name] = tag_count(r)
    out["categories"] = [(c.name, c.confidence) for c in res.categories]

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    s = out["speed"]
    print(f"RTF (wall) {s['rtf_wall']}  wall {s['wall_s']} s  cpu {s['cpu_s']} s  load {s['loadavg_1m_before']}")
    print(f"split (wall s): {s['wall_split_s']}")
    if "speed_grain" in out:
        g = out["speed_grain"]
        print(f"with grain: {g['media']}: RTF (wall) {g['rtf_wall']}  wall {g['wall_s']} s  cpu {g['cpu_s']} s  "
              f"frames {g['frames']}  persons {g['persons']}")
    print(f"split (cpu s, calling thread): {s['cpu_split_s (calling thread)']}")
    print(f"ASR WER {out['asr']['wer']}  {out['asr']['per_clip']}")
    print(f"OCR exact recall {out['ocr']['exact_recall']}  char recall {out['ocr']['char_recall']} "
          f"(zh {out['ocr']['zh_char_recall']}, en {out['ocr']['en_char_recall']})  misses {out['ocr']['misses']}")
    print(f"faces: {out['face']}")
    print(f"negatives (tags per array): {out['negatives']}")
    print(f"categories: {out['categories']}")
    print(f"first job (loads the models): {out['first_job']['wall_s']} s; "
          f"model load seconds: {[(m['Name'], m['LoadSeconds']) for m in out['first_job']['models']]}")


if __name__ == "__main__":
    main()
