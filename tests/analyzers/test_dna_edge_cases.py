"""The whole AIMediaDNA job over degenerate but decodable videos: every one ends with a result.

Single frame, all black, flat, a still image, a tiny picture, variable frame rate, with and without
audio, a query shorter than any copy, libraries of 0 and 1 videos, and the reported crash (a
flipped, rescaled copy over a still shot, where no sample has a distinctive match).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from openvod.analyzers.dna.handler import DAMAGED, MediaDNAHandler
from openvod.config import DNASettings
from openvod.domain.contract import JobContext
from openvod.domain.jobs import JobFailed
from openvod.engine.analyzer_options import dna_options, fingerprint_options, match_params
from openvod.services.fingerprints import FingerprintService
from openvod.storage.blobs import LocalBlobStore
from openvod.store.db import init_schema, make_engine
from tests.analyzers.test_dna_clips import decode, draw_frames, encode
from tests.media import make_video
from tests.conftest import db_url


def _photo(size: tuple[int, int]) -> np.ndarray:
    import skimage.data

    return np.asarray(Image.fromarray(skimage.data.coffee()).resize(size))


def write_vfr(path: Path, frames: list[np.ndarray], times: list[float]) -> Path:
    """H.264 with explicit, irregular presentation times (variable frame rate)."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        s.options = {"preset": "ultrafast"}
        for arr, t in zip(frames, times, strict=True):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            f.pts, f.time_base = int(round(t * 1000)), Fraction(1, 1000)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def slow_pan(n: int, size: tuple[int, int] = (320, 180)) -> list[np.ndarray]:
    """A photograph under a very slow Ken Burns pan: neighbouring seconds look all but the same."""
    import skimage.data

    img = Image.fromarray(skimage.data.coffee())  # 600x400
    w, h = 480, 270
    return [np.asarray(img.resize(size, Image.Resampling.BILINEAR, box=(20 + 0.25 * i, 40 + 0.1 * i, 20 + 0.25 * i + w, 40 + 0.1 * i + h)))
            for i in range(n)]


def reproducer(d: Path) -> tuple[Path, Path]:
    """A multi-shot reference with a slow pan over a photograph at 4-16 s; the query is 10 s from 5 s
    (inside that shot: no sample has a distinctive match), mirrored, 426x240, no audio."""
    ref = encode(d / "repro_ref.mp4", draw_frames(4, 15, 3) + slow_pan(12 * 15) + draw_frames(6, 15, 4), 15)
    q = [np.asarray(Image.fromarray(f[:, ::-1]).resize((426, 240))) for t, f in decode(ref) if 5 <= t < 15]
    return ref, encode(d / "repro_q.mp4", q, 15)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("dna-edge")
    rng = np.random.default_rng(0)
    moving = draw_frames(6, 15, 7)
    files = {
        "single_frame": encode(d / "single.mp4", moving[:1], 15),
        "black": encode(d / "black.mp4", [np.zeros((180, 320, 3), np.uint8)] * 45, 15),
        "flat": encode(d / "flat.mp4", [np.full((180, 320, 3), (40, 160, 90), np.uint8)] * 30, 15),
        "still": encode(d / "still.mp4", [_photo((320, 180))] * 60, 15),
        "tiny": encode(d / "tiny.mp4", [np.asarray(Image.fromarray(f).resize((32, 18))) for f in moving[:45]], 15),
        "vfr": write_vfr(d / "vfr.mp4", moving, list(np.cumsum(rng.choice([0.01, 0.033, 0.2, 0.5], len(moving))))),
        "with_audio": make_video(d / "audio.mp4", seconds=3.0, size=(320, 180), audio=True, seed=3),
        "moving": encode(d / "moving.mp4", moving, 15),
        "short_copy": encode(d / "short.mp4", moving[30:45], 15),  # 1 s of "moving": shorter than any copy counted
        "black_then_copy": encode(d / "bcopy.mp4", [np.zeros((180, 320, 3), np.uint8)] * 30 + moving, 15),
    }
    files["repro_ref"], files["repro_q"] = reproducer(d)
    return files


class _Ctx:
    def __init__(self, engine: Any, data_dir: Path) -> None:
        self.handler = MediaDNAHandler()
        s = DNASettings()
        self.options = dna_options(s)
        self.library = FingerprintService(engine, fingerprint_options(s), match_params(s),
                                          blobs=LocalBlobStore(data_dir / "blobs")).for_account("acc")

    def run(self, name: str, path: Path, **config: Any) -> dict[str, Any]:
        ctx = JobContext(job_id=f"job-{name}", account_id="acc", job_type="AIMediaDNA", media_id=name, media_path=path,
                         config=self.handler.validate_config(config), analyzer_options=self.options,
                         fingerprints=self.library)
        out = self.handler.run(ctx)
        assert isinstance(out.data, dict) and isinstance(out.data["VideoDNA"], list)
        return out.data  # type: ignore[no-any-return]


def test_every_edge_case_video_ends_with_a_result(tmp_path: Path, matrix: dict[str, Path]) -> None:
    engine = make_engine(db_url(tmp_path))
    init_schema(engine)
    jobs = _Ctx(engine, tmp_path)
    # The first job searches an empty library, the second a library of one video, and so on; every
    # video is searched against all the degenerate ones added before it.
    results = {name: jobs.run(name, path) for name, path in matrix.items() if name != "repro_q"}
    for name in ("single_frame", "black", "flat", "still", "tiny", "with_audio"):
        assert results[name]["VideoDNA"] == [], (name, results[name])
    assert results["short_copy"]["VideoDNA"] == []  # 1 s is below min_segment_s: no match, no failure
    # The copy after 2 s of black is found in "moving" (or in the VFR file, which shows the same frames).
    keys = {e["PrimaryKey"] for e in results["black_then_copy"]["VideoDNA"]}
    assert "moving" in keys, results["black_then_copy"]
    # The reported crash, now through the whole job: a match, with the copied range.
    data = jobs.run("repro_q", matrix["repro_q"], SearchOnly=True)
    entry = next(e for e in data["VideoDNA"] if e["PrimaryKey"] == "repro_ref")
    assert entry["Transform"]["Flip"] is True
    d = entry["Detail"][0]
    assert float(d["Input"]["Duration"]) > 6.0
    engine.dispose()


def test_reproducer_through_the_cli(matrix: dict[str, Path]) -> None:
    """``openvod dna compare q ref`` ends in a match, not an exception (it raised IndexError in temporal._pieces)."""
    from openvod.cli_dna import compare_files

    out = compare_files(matrix["repro_q"], matrix["repro_ref"])
    assert len(out["VideoDNA"]) == 1
    seg = out["VideoDNA"][0]["Detail"][0]
    r0, r1 = float(seg["Duplication"]["Start"]), float(seg["Duplication"]["Start"]) + float(seg["Duplication"]["Duration"])
    assert float(seg["Input"]["Duration"]) > 6.0
    assert 3.5 <= r0 and r1 <= 16.5, seg  # a still shot: any alignment inside it is right


def test_undecodable_files_fail_with_a_media_error(tmp_path: Path, matrix: dict[str, Path]) -> None:
    from tests.media import make_bad_files

    engine = make_engine(db_url(tmp_path))
    init_schema(engine)
    jobs = _Ctx(engine, tmp_path)
    for name, path in make_bad_files(tmp_path / "bad", matrix["moving"]).items():
        if name == "image":  # a still picture is a one-frame video: fingerprinted, never an error
            assert jobs.run(name, path)["VideoDNA"] == []
            continue
        with pytest.raises(JobFailed) as exc:
            jobs.run(name, path)
        assert exc.value.code == DAMAGED
    engine.dispose()
