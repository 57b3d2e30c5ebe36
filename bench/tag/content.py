"""AIVideoTag benchmark over content types, speed side by side with accuracy, per seed.

    nice -n 15 .venv/bin/python -m bench.tag.content [--seeds 1 2] [--types Face,ASR,OCR,Category,Annotation]
        [--asr-model base|tiny.en] [--data bench/tag/results/content] [--out bench/tag/results/content.json]

Seed 1 is the tuning seed, seed 2 the held-out one (bench/tag/corpus.py). For every video the job
runs with the requested AnalyseTypes (default all five) after one untimed warm-up job that loads
every model, and reports:

* RTF: CPU seconds of the whole process (all threads) per second of video, and wall seconds;
  the per-analyzer CPU split;
* ASR: WER on English speech, CER on Mandarin speech (Chinese characters only, both sides
  converted to simplified with OpenCC), words invented on the music-only and silent videos
  (Latin words + Chinese characters), and the language the detail reports;
* Category: hit-any (one of the reported categories is acceptable) and top-1 (the first one is),
  over the videos that have a category; the silent clip must get none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import time
from pathlib import Path
from typing import Any

from bench.tag import corpus
from bench.tag.media import render
from bench.tag.score import cer, wer

RESULTS = Path(__file__).resolve().parent / "results"
ALL = ["Face", "ASR", "OCR", "Category", "Annotation"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make(d: Path, seeds: list[int]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for seed in seeds:
        for kind in corpus.TYPES:
            key = f"s{seed}-{kind}"
            path = d / f"{key}.mp4"
            truth_path = d / f"{key}.json"
            clip, sc = corpus.spec(kind, seed)
            if not (path.exists() and truth_path.exists()):
                d.mkdir(parents=True, exist_ok=True)
                truth = render(clip, path)
                truth_path.write_text(json.dumps(truth, ensure_ascii=False))
            out[key] = {"path": path, "seed": seed, "kind": kind, "lang": sc.lang, "duration": clip.duration,
                        "text": " ".join(sc.sentences) if sc.lang == "en" else "".join(sc.sentences),
                        "categories": sc.categories}
    return out


def invented(text: str) -> int:
    return len(re.findall(r"[A-Za-z]+", text)) + len(re.findall(r"[\u3400-\u9fff]", text))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--types", default=",".join(ALL))
    ap.add_argument("--asr-model", default="")
    ap.add_argument("--beam", type=int, default=0, help="ASR beam size (default: the setting's)")
    ap.add_argument("--english-model", default=None, help="decoder for English windows (tiny.en, or '' for base)")
    ap.add_argument("--kinds", default="")
    ap.add_argument("--data", type=Path, default=RESULTS / "content")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    from openvod.analyzers.tag.engine import analyse
    from openvod.engine.analyzer_options import tag_options as options_from_settings
    from openvod.config import TagSettings
    from openvod.models.cache import ModelCache

    types = [t.strip() for t in a.types.split(",") if t.strip()]
    videos = make(a.data, a.seeds)
    if a.kinds:
        videos = {k: v for k, v in videos.items() if v["kind"] in a.kinds.split(",")}
    settings = TagSettings(whisper_model=a.asr_model)
    if a.beam:
        settings.whisper_beam_size = a.beam
    if a.english_model is not None:
        settings.asr_english_model = a.english_model
    options = options_from_settings(settings)
    cache = ModelCache()
    t0, c0 = time.monotonic(), _cpu()
    for lang in ("en", "zh"):  # warm-up: loads every model (jieba with Chinese text)
        first = next((v for v in videos.values() if v["lang"] == lang), None)
        if first is not None:
            analyse(first["path"], types, options, cache)
    warm = {"wall_s": round(time.monotonic() - t0, 2), "cpu_s": round(_cpu() - c0, 2), "models": cache.loaded()}
    rows = []
    for key, v in videos.items():
        t0, c0 = time.monotonic(), _cpu()
        res = analyse(v["path"], types, options, cache)
        wall, cpu = time.monotonic() - t0, _cpu() - c0
        row: dict[str, Any] = {"video": key, "seed": v["seed"], "kind": v["kind"], "lang": v["lang"],
                               "duration_s": v["duration"], "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
                               "rtf_cpu": round(cpu / v["duration"], 3), "rtf_wall": round(wall / v["duration"], 3),
                               "cpu_split": res.stats.get("cpu_seconds", {})}
        tr = res.transcript
        if tr is not None:
            hyp = (" " if v["lang"] == "en" else "").join(s.text for s in tr.sentences)
            row["asr"] = {"hyp": hyp, "language": tr.language, "reason": tr.reason,
                          "rejected": [r.reason for r in tr.rejected]}
            if v["lang"] == "en":
                row["asr"]["wer"] = round(wer(v["text"], hyp), 3)
            elif v["lang"] == "zh":
                row["asr"]["cer"] = round(cer(v["text"], hyp), 3)
            else:
                row["asr"]["invented_words"] = invented(hyp)
        if "Category" in types:
            got = [c.name for c in res.categories]
            row["category"] = {"got": got, "truth": v["categories"],
                               "scores": [(c.name, c.confidence) for c in res.category_scores[:4]]}
            if v["categories"]:
                row["category"]["hit_any"] = bool(set(got) & set(v["categories"]))
                row["category"]["top1"] = bool(got) and got[0] in v["categories"]
            else:
                row["category"]["none_ok"] = not got
        rows.append(row)
        print(json.dumps({k: row[k] for k in row if k != "cpu_split"}, ensure_ascii=False), flush=True)
    summary = {}
    for seed in a.seeds:
        rs = [r for r in rows if r["seed"] == seed]
        dur = sum(r["duration_s"] for r in rs)
        s: dict[str, Any] = {"videos": len(rs), "seconds": dur,
                             "rtf_cpu": round(sum(r["cpu_s"] for r in rs) / dur, 3) if dur else None,
                             "rtf_cpu_max": max((r["rtf_cpu"] for r in rs), default=None)}
        en = [r["asr"]["wer"] for r in rs if "asr" in r and "wer" in r["asr"]]
        zh = [r["asr"]["cer"] for r in rs if "asr" in r and "cer" in r["asr"]]
        inv = [r["asr"]["invented_words"] for r in rs if "asr" in r and "invented_words" in r["asr"]]
        if en:
            s["en_wer_mean"] = round(sum(en) / len(en), 3)
        if zh:
            s["zh_cer_mean"] = round(sum(zh) / len(zh), 3)
        if inv:
            s["invented_words_music_silence"] = sum(inv)
        cats = [r["category"] for r in rs if "category" in r and r["category"]["truth"]]
        if cats:
            s["category_hit_any"] = round(sum(c["hit_any"] for c in cats) / len(cats), 3)
            s["category_top1"] = round(sum(c["top1"] for c in cats) / len(cats), 3)
            s["category_none_on_silence"] = all(r["category"].get("none_ok", True) for r in rs if "category" in r)
        split: dict[str, float] = {}
        for r in rs:
            for k, x in r["cpu_split"].items():
                split[k] = split.get(k, 0.0) + x
        s["cpu_split_per_video_s"] = {k: round(x / dur, 3) for k, x in sorted(split.items())} if dur else {}
        summary[f"seed{seed}" + (" (tuning)" if seed == 1 else " (held-out)")] = s
    report = {"types": types, "asr_model": a.asr_model or "base", "beam": settings.whisper_beam_size,
              "english_model": settings.asr_english_model, "warmup": warm, "summary": summary, "rows": rows,
              "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "python": platform.python_version()}}
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    out = a.out or RESULTS / f"content-{'-'.join(t.lower() for t in types) if types != ALL else 'all'}-{a.asr_model or 'base'}-beam{settings.whisper_beam_size}-en{settings.asr_english_model or 'same'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
