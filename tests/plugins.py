"""Test analyzers, registered only by tests (``OPENVOD_PLUGINS='["tests.plugins:register"]'``).

They do real, cheap work on the video (decode with PyAV) so the engine, the store and the wire are
exercised end to end. Knobs come from environment variables the test server is started with:
``OPENVOD_TEST_JOB_SECONDS`` (extra run time per job) and ``OPENVOD_TEST_RUNLOG`` (a file that gets
one line per job run start, to count attempts).
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

import av
import numpy as np
from PIL import Image

from openvod.domain.jobs import JobFailed
from openvod.domain.contract import AnalyzerRegistry, ImageOutput, JobContext, JobHandler, JobOutput


def _log_run(ctx: JobContext) -> None:
    path = os.environ.get("OPENVOD_TEST_RUNLOG")
    if path:
        with open(path, "a") as fh:
            fh.write(f"{ctx.job_id} {os.getpid()} {time.time()}\n")


def _sleep(ctx: JobContext) -> None:
    total = float(os.environ.get("OPENVOD_TEST_JOB_SECONDS", "0"))
    end = time.monotonic() + total
    while time.monotonic() < end:
        time.sleep(min(0.2, max(0.0, end - time.monotonic())))


def _frames(ctx: JobContext, every_s: float = 0.5) -> list[tuple[float, np.ndarray]]:
    out: list[tuple[float, np.ndarray]] = []
    try:
        with av.open(str(ctx.media_path)) as c:
            s = c.streams.video[0]
            next_t = 0.0
            for f in c.decode(s):
                t = float(f.pts * s.time_base) if f.pts is not None else next_t
                if t + 1e-6 >= next_t:
                    out.append((t, f.to_ndarray(format="rgb24")))
                    next_t = t + every_s
    except (av.FFmpegError, IndexError) as exc:
        raise JobFailed("InvalidVideo.Damaged", f"The video cannot be decoded: {exc}") from None
    if not out:
        raise JobFailed("InvalidVideo.Damaged", "The video has no decodable frame.")
    return out


class BrightnessTagger(JobHandler):
    """AIVideoTag stand-in: tags each half-second by its brightness band."""

    job_type = "AIVideoTag"
    name = "test-brightness"
    version = "1"

    def run(self, ctx: JobContext) -> JobOutput:
        _log_run(ctx)
        _sleep(ctx)
        frames = _frames(ctx)
        tags: dict[str, list[str]] = {}
        for t, img in frames:
            band = "bright" if img.mean() > 127 else "dark"
            tags.setdefault(band, []).append(str(int(t * 1000)))
        data: dict[str, Any] = {
            "Keyword": [{"Tag": k, "Times": v} for k, v in sorted(tags.items())],
            "Category": [{"Tag": "test"}],
        }
        if ctx.config.get("OrigASRData") and "ASR" in ctx.config.get("AnalyseTypes", []):
            data["OrigASRData"] = {"Duration": str(int(ctx.media["duration"] * 1000)), "AsrTextList": []}
        return JobOutput(data=data, detail={"frames": len(frames)})


class HashDNA(JobHandler):
    """AIMediaDNA stand-in: exact-file matching by MD5 within the account's library."""

    job_type = "AIMediaDNA"
    name = "test-md5-dna"
    version = "1"
    deleted: list[tuple[str, str]] = []

    def run(self, ctx: JobContext) -> JobOutput:
        _log_run(ctx)
        _sleep(ctx)
        from sqlalchemy import select

        from openvod.store.tables import media

        with ctx.services.engine.connect() as conn:
            rows = conn.execute(
                select(media.c.id, media.c.duration).where(
                    media.c.account_id == ctx.account_id, media.c.md5 == ctx.media["md5"], media.c.id != ctx.media_id
                )
            ).all()
        dur = f"{ctx.media['duration']:.1f}"
        dna = [
            {"PrimaryKey": r.id, "Similarity": "1", "Detail": [{"Input": {"Start": "0.0", "Duration": dur},
                                                                 "Duplication": {"Start": "0.0", "Duration": dur}}]}
            for r in rows
        ]
        return JobOutput(data={"VideoDNA": dna})

    def on_fingerprints_deleted(self, account_id: str, media_id: str, db_id: str) -> None:
        path = os.environ.get("OPENVOD_TEST_RUNLOG")
        if path:
            with open(path + ".deleted", "a") as fh:
                fh.write(f"{account_id} {media_id}\n")


class FrameImages(JobHandler):
    """AIImage stand-in: the brightest frames as PNG, or a short GIF."""

    job_type = "AIImage"
    name = "test-frames"
    version = "1"

    def run(self, ctx: JobContext) -> JobOutput:
        _log_run(ctx)
        _sleep(ctx)
        frames = _frames(ctx)
        fmt = ctx.config.get("Format", "png")
        ranked = sorted(frames, key=lambda tf: -float(tf[1].std()))
        images = []
        for rank, (t, img) in enumerate(ranked[: int(ctx.config.get("Count", 2))]):
            buf = io.BytesIO()
            if fmt == "gif":
                seq = [Image.fromarray(f) for _, f in frames[:5]]
                seq[0].save(buf, format="GIF", save_all=True, append_images=seq[1:], duration=200, loop=0)
            else:
                Image.fromarray(img).save(buf, format="PNG")
            images.append(ImageOutput(buf.getvalue(), fmt, round(5.0 + float(img.std()) / 100 - rank * 0.1, 6), {"Time": f"{t:.3f}"}))
        return JobOutput(images=images)


def register(reg: AnalyzerRegistry) -> None:
    # These stand in for the built-in analyzers: replace them explicitly.
    reg.register(BrightnessTagger(), replace=True)
    reg.register(HashDNA(), replace=True)
    reg.register(FrameImages(), replace=True)
