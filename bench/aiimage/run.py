"""AIImage benchmark: good-moment precision of openvod's cover picker against two baselines, and job wall time.

    .venv/bin/python -m bench.aiimage.run [--videos 10] [--count 3] [--out DIR] [--no-timing]

Baselines, side by side on the same generated, labelled videos (see ``dataset``):
* ``10%``: the frame at 10 % of the duration (one image per video);
* ``ffmpeg thumbnail``: FFmpeg's ``thumbnail`` filter (Debian's ffmpeg, installed with apt-get when
  missing) with a batch of ``frames / count`` frames, i.e. ``count`` images per video like openvod;
* ``ffmpeg thumbnail (default)``: the filter's default batch of 100 frames, first pick only.

Then the wall time of a whole PNG and GIF job (analysis + rendering, as the job handler runs it)
on a 60 s 720p clip, as a ratio of the clip's duration (target <= 0.1).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

from bench.aiimage.dataset import Video, judge, load_or_make, make_timing_clip


def ensure_ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    print("ffmpeg not found: installing Debian's ffmpeg with apt-get ...", flush=True)
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "ffmpeg"]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True)
        subprocess.run(cmd, capture_output=True, check=True)
    exe = shutil.which("ffmpeg")
    if not exe:
        raise SystemExit("ffmpeg could not be installed")
    return exe


def frame_count(path: Path) -> int:
    with av.open(str(path)) as c:
        return c.streams.video[0].frames or sum(1 for _ in c.demux(c.streams.video[0]))


def ffmpeg_thumbnail_times(ffmpeg: str, path: Path, batch: int, limit: int | None = None) -> list[float]:
    """pts_time of the frames the ``thumbnail`` filter selects (one per ``batch`` frames)."""
    vf = f"thumbnail={batch},showinfo"
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-i", str(path), "-vf", vf, "-fps_mode", "vfr", "-f", "null", "-"]
    if limit:
        cmd[-3:-3] = ["-frames:v", str(limit)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [float(m) for m in re.findall(r"pts_time:\s*([0-9.]+)", r.stderr)]


def openvod_times(path: Path, count: int, gif: bool = False) -> tuple[list[float], float]:
    """openvod's picks (a PNG job's; with ``gif``, a 1-image GIF job's, which avoids the covers)."""
    from openvod.analyzers.image.gif import GifOptions
    from openvod.analyzers.image.picker import NoUsableFrame, analyze

    t0 = time.perf_counter()
    try:
        if gif:
            a = analyze(path, 1, min_separation_s=GifOptions().duration_s, avoid_count=count)
        else:
            a = analyze(path, count)
        times = [p.t for p in a.picks]
    except NoUsableFrame:
        times = []
    return times, time.perf_counter() - t0


def quality_check(videos: list[Video], per_video: list[list[float]], gifs: list[list[float]]) -> None:
    """Degraded top picks on quality-test videos, and GIF highlights that repeat a cover's moment."""
    from bench.aiimage.dataset import degraded_top
    from openvod.analyzers.image.gif import GifOptions

    tests = [degraded_top(v, times) for v, times in zip(videos, per_video, strict=True)]
    n = sum(1 for x in tests if x is not None)
    bad = sum(1 for x in tests if x)
    print(f"\nquality-test videos (a degraded copy of a scene also shown clean): {n}; "
          f"top pick degraded: {bad}")
    half = GifOptions().duration_s / 2
    moment = scene = n_gif = top = 0
    for v, covers, g in zip(videos, per_video, gifs, strict=True):
        if not g or not covers:
            continue
        n_gif += 1
        gs = v.label_at(g[0])
        top += int(abs(covers[0] - g[0]) <= half)
        if any(abs(c - g[0]) <= half for c in covers):
            moment += 1
        elif any(gs is not None and (cs := v.label_at(c)) is not None and gs.scene_id is not None
                 and gs.scene_id == cs.scene_id for c in covers):
            scene += 1
    print(f"GIF highlight (1 per video) vs the {len(per_video[0]) if per_video else 0} covers: same moment "
          f"(within half a GIF) in {moment} of {n_gif} videos (the top cover's in {top}); another moment "
          f"of a cover's scene in {scene}")


def precision(videos: list[Video], picks: dict[str, list[list[float]]]) -> None:
    print("\n== per video (label of each returned image; * = good moment)")
    for i, v in enumerate(videos):
        print(f"video {i} ({v.duration:.1f}s): " + " | ".join(f"{s.kind}" for s in v.segments))
        for method, per_video in picks.items():
            verdicts = judge(v, per_video[i])
            txt = ", ".join(f"{t:.2f}s {lab}{'*' if ok else ''}" for t, lab, ok in verdicts) or "(none)"
            print(f"    {method:28s} {txt}")
    print("\n== good-moment precision (returned images that show a good, not yet returned moment)")
    print(f"{'method':30s} {'images':>7s} {'good':>6s} {'precision':>10s}")
    for method, per_video in picks.items():
        n = good = 0
        for v, times in zip(videos, per_video, strict=True):
            for _, _, ok in judge(v, times):
                n += 1
                good += int(ok)
        print(f"{method:30s} {n:7d} {good:6d} {(good / n if n else 0):10.1%}")


def eyes_check(videos: list[Video], per_video: list[list[float]]) -> None:
    both = picked_open = picked_closed = 0
    for v, times in zip(videos, per_video, strict=True):
        kinds = {s.kind for s in v.segments}
        face_scenes = {s.scene_id for s in v.segments if s.kind == "closed"}
        if "closed" not in kinds:
            continue
        both += 1
        for t in times:
            seg = v.label_at(t)
            if seg and seg.scene_id in face_scenes and seg.kind in ("good", "dup"):
                picked_open += 1
            elif seg and seg.kind == "closed":
                picked_closed += 1
    print(f"\nopen vs closed eyes (videos with both): {both}; openvod picked the open-eyes face {picked_open}x, "
          f"the closed-eyes copy {picked_closed}x")


def timing(out: Path) -> None:
    from openvod.analyzers.image.images import make_images

    clip = out / "timing_720p_60s.mp4"
    if not clip.exists():
        print("\ngenerating the 60 s 720p timing clip ...", flush=True)
        make_timing_clip(clip)
    with av.open(str(clip)) as c:
        s = c.streams.video[0]
        duration = float(s.duration * s.time_base)
        size = f"{s.codec_context.width}x{s.codec_context.height}"
    print(f"\n== job wall time on {clip.name} ({size}, {duration:.1f}s, {clip.stat().st_size / 1e6:.1f} MB)")
    print(f"  load average before: {os.getloadavg()[0]:.2f} (2 cores; other work on the machine inflates wall time)")
    for fmt, count in (("png", 3), ("gif", 1), ("png", 3), ("gif", 1)):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        images, a = make_images(clip, fmt, count)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        st = a.stats
        print(f"  {fmt} x{count}: wall {wall:.2f}s = {wall / duration:.3f} x duration, CPU {cpu:.2f}s "
              f"(decode+measure {st['DecodeSeconds']}s, score {st['ScoreSeconds']}s, render {st['RenderSeconds']}s; "
              f"{st['Samples']} samples, {st['Shots']} shots, bytes {[len(i.data) for i in images]})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=10)
    ap.add_argument("--count", type=int, default=3, help="images per video for openvod and thumbnail")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="work folder (default: a temporary one)")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--timing-only", action="store_true")
    args = ap.parse_args(argv)
    ffmpeg = ensure_ffmpeg()
    out = args.out or Path(tempfile.mkdtemp(prefix="aiimage-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"work folder {out}; ffmpeg {ffmpeg}", flush=True)
    if args.timing_only:
        timing(out)
        return 0

    from bench.aiimage.dataset import _pictures

    pics = _pictures()  # decoded once for all videos
    videos = []
    t0 = time.perf_counter()
    for i in range(args.videos):
        videos.append(load_or_make(out / f"set_{i:02d}.mp4", seed=args.seed * 1000 + i, pictures=pics))
    print(f"{len(videos)} labelled videos ready in {time.perf_counter() - t0:.1f}s", flush=True)

    picks: dict[str, list[list[float]]] = {"openvod": [], "10% of duration": [], "ffmpeg thumbnail": [],
                                           "ffmpeg thumbnail (default)": []}
    ov_time = 0.0
    gifs: list[list[float]] = []
    for v in videos:
        times, secs = openvod_times(v.path, args.count)
        ov_time += secs
        picks["openvod"].append(times)
        gifs.append(openvod_times(v.path, args.count, gif=True)[0])
        picks["10% of duration"].append([0.1 * v.duration])
        batch = max(1, math.ceil(frame_count(v.path) / args.count))
        picks["ffmpeg thumbnail"].append(ffmpeg_thumbnail_times(ffmpeg, v.path, batch)[: args.count])
        picks["ffmpeg thumbnail (default)"].append(ffmpeg_thumbnail_times(ffmpeg, v.path, 100, limit=1)[:1])
    total = sum(v.duration for v in videos)
    print(f"openvod analysis: {ov_time:.1f}s for {total:.0f}s of 360p video ({ov_time / total:.3f} x duration)")
    precision(videos, picks)
    eyes_check(videos, picks["openvod"])
    quality_check(videos, picks["openvod"], gifs)
    if not args.no_timing:
        timing(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
