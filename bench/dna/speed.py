"""Fingerprinting wall time as a ratio of a pure decode of the same file.

    python -m bench.dna.speed bench/dna/results/data [--repeat 3] [--extra-hd]

Pure decode = PyAV decoding every video frame with frame threading (``thread_type="AUTO"``) and no
conversion: the fastest way to get all pictures out of the file. Fingerprinting = the analyzer's
``fingerprint_file`` (decode + sampling + everything after). Runs are interleaved and the minimum of
``--repeat`` is kept for each, because the machine is shared and wall times only ever grow with load.
``--extra-hd`` also generates 640x360, 854x480 and 1280x720 clips (30 s) to show the ratio at larger
sizes (into ``--hd-dir``, default: the data folder). CPU seconds (all threads, ``getrusage``) are
reported too: on a shared machine they are what a core would cost, where wall times only grow with load.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

import av

from openvod.analyzers.dna.fingerprint import FingerprintOptions, fingerprint_file


def pure_decode(path: Path, skip_nonref: bool = False) -> float:
    t = time.perf_counter()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        if skip_nonref:
            s.codec_context.skip_frame = "NONREF"
        for _ in c.decode(s):
            pass
    return time.perf_counter() - t


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(path: Path, repeat: int, opts: FingerprintOptions) -> dict[str, Any]:
    dec, dec_nr, fp, dec_cpu, fp_cpu = [], [], [], [], []
    for _ in range(repeat):
        c = cpu_s()
        dec.append(pure_decode(path))
        dec_cpu.append(cpu_s() - c)
        t, c = time.perf_counter(), cpu_s()
        fingerprint_file(path, opts)
        fp.append(time.perf_counter() - t)
        fp_cpu.append(cpu_s() - c)
        dec_nr.append(pure_decode(path, skip_nonref=True))
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        info = f"{s.width}x{s.height}@{float(s.average_rate or 0):g}"
    return {"file": path.name, "video": info, "decode_s": min(dec), "decode_nonref_s": min(dec_nr),
            "fingerprint_s": min(fp), "ratio": min(fp) / min(dec), "ratio_vs_nonref_decode": min(fp) / min(dec_nr),
            "decode_cpu_s": min(dec_cpu), "fingerprint_cpu_s": min(fp_cpu), "cpu_ratio": min(fp_cpu) / min(dec_cpu)}


def _hd_clips(out: Path) -> list[Path]:
    import numpy as np

    from bench.dna.content import ContentPool, render
    from bench.dna.videoio import write_video

    paths = []
    for w, h in ((640, 360), (854, 480), (1280, 720)):
        p = out / f"hd_{w}x{h}.mp4"
        if not p.exists():
            pool = ContentPool(np.random.default_rng(w), [])
            write_video(p, render(pool.program(30.0, photos=0), (w, h), 30.0), 30.0, crf=22)
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--files", type=int, default=6, help="library files to measure")
    ap.add_argument("--extra-hd", action="store_true")
    ap.add_argument("--scaler", choices=["area", "box"], default=FingerprintOptions().scaler)
    ap.add_argument("--hd-dir", type=Path, help="where --extra-hd clips are made (default: the data folder)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    manifest = json.loads((args.data / "manifest.json").read_text())
    files = [args.data / x["file"] for x in manifest["library"][: args.files]]
    if args.extra_hd:
        (args.hd_dir or args.data).mkdir(parents=True, exist_ok=True)
        files += _hd_clips(args.hd_dir or args.data)
    opts = FingerprintOptions(scaler=args.scaler)
    rows = []
    for f in files:
        r = measure(f, args.repeat, opts)
        rows.append(r)
        print(f"  {r['file']:<22} {r['video']:<16} decode {r['decode_s']:.2f}s  fingerprint {r['fingerprint_s']:.2f}s  "
              f"ratio {r['ratio']:.2f} (vs non-ref decode {r['ratio_vs_nonref_decode']:.2f}); CPU {r['decode_cpu_s']:.2f}s / "
              f"{r['fingerprint_cpu_s']:.2f}s = {r['cpu_ratio']:.2f}", flush=True)
    tot_fp = sum(r["fingerprint_s"] for r in rows)
    tot_dec = sum(r["decode_s"] for r in rows)
    cpu_ratio = sum(r["fingerprint_cpu_s"] for r in rows) / sum(r["decode_cpu_s"] for r in rows)
    summary = {"files": rows, "total_ratio": tot_fp / tot_dec, "total_cpu_ratio": cpu_ratio,
               "total_ratio_vs_nonref_decode": tot_fp / sum(r["decode_nonref_s"] for r in rows)}
    print(f"total: fingerprint / pure decode = {summary['total_ratio']:.2f} "
          f"(vs non-ref decode {summary['total_ratio_vs_nonref_decode']:.2f}); CPU {cpu_ratio:.2f}")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
