"""One contract test per analyzer: each built-in handler runs with nothing but a media file, its
typed options and in-memory stand-ins for the interfaces (no database, no runtime, no blob store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from openvod.analyzers.dna.handler import MediaDNAHandler
from openvod.analyzers.dna.search import MatchParams, compare, single_threaded_blas
from openvod.analyzers.image.handler import SmartCoverHandler
from openvod.config import Settings
from openvod.domain.contract import JobContext, JobHandler, JobOutput
from openvod.domain.interfaces import BlobWriter, FaceLibrary, FaceMatch, FingerprintLibrary
from openvod.engine.analyzer_options import analyzer_options, match_params
from tests.analyzers.test_dna_clips import encode
from tests.media import make_video

OPTIONS = analyzer_options(Settings())


class MemoryFingerprints:
    """FingerprintLibrary in a dict, matched pair by pair."""

    def __init__(self, params: MatchParams) -> None:
        self.params = params
        self.libs: dict[str, dict[str, Any]] = {}

    def search(self, db_id: str, fingerprint: Any, exclude_media: str | None = None) -> list[Any]:
        out = []
        with single_threaded_blas():
            for media_id, ref in self.libs.get(db_id, {}).items():
                if media_id == exclude_media:
                    continue
                m = compare(fingerprint, ref, self.params)
                if m is not None:
                    m.key = media_id
                    out.append(m)
        return out

    def size(self, db_id: str) -> int:
        return len(self.libs.get(db_id, {}))

    def add(self, db_id: str, media_id: str, fingerprint: Any, job_id: str = "") -> None:
        self.libs.setdefault(db_id, {})[media_id] = fingerprint


class MemoryFaces:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def identify(self, backend: str, centroids: list[Any], match_distance: float, face_keys: list[str],
                 source: str = "") -> list[FaceMatch]:
        self.seen.append((backend, len(centroids)))
        return [FaceMatch(f"p{i}", f"Unknown-p{i}", False, None, True) for i in range(len(centroids))]


class MemoryBlobs:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def key(self, name: str) -> str:
        return f"job/{name}"

    def put(self, name: str, data: bytes) -> str:
        self.files[self.key(name)] = data
        return self.key(name)

    def signed_url(self, key: str, ttl_s: int | None = None) -> str:
        return f"mem://{key}?ttl={ttl_s}"


def _run(handler: JobHandler, path: Path, config: dict[str, Any], media_id: str = "m1", **kw: Any) -> JobOutput:
    stored = handler.validate_config(config)
    ctx = JobContext(job_id=f"job-{media_id}", account_id="acc", job_type=handler.job_type, media_id=media_id,
                     media_path=path, config=stored, options=handler.parse_options(stored),
                     analyzer_options=OPTIONS[handler.job_type], **kw)
    return handler.run(ctx)


def test_interfaces_are_satisfied_by_the_stand_ins() -> None:
    assert isinstance(MemoryFingerprints(MatchParams()), FingerprintLibrary)
    assert isinstance(MemoryFaces(), FaceLibrary) and isinstance(MemoryBlobs(), BlobWriter)


def test_dna_contract(tmp_path: Path) -> None:
    frames = [np.asarray(Image.fromarray(np.uint8(np.random.default_rng(i // 8).integers(0, 255, (18, 32, 3))))
                         .resize((320, 180), Image.Resampling.BILINEAR)) for i in range(64)]
    a = encode(tmp_path / "a.mp4", frames, 8)
    b = encode(tmp_path / "b.mp4", frames[8:56], 8)  # 6 s of a's 8
    lib = MemoryFingerprints(match_params(Settings().dna))
    h = MediaDNAHandler()
    first = _run(h, a, {}, "a", fingerprints=lib)
    assert first.data == {"VideoDNA": []} and lib.size("") == 1
    second = _run(h, b, {"SearchOnly": True}, "b", fingerprints=lib)
    assert [e["PrimaryKey"] for e in second.data["VideoDNA"]] == ["a"]
    assert lib.size("") == 1  # SearchOnly: not added
    assert second.detail is not None and second.detail["LibraryVideos"] == 1


def test_image_contract(tmp_path: Path) -> None:
    pytest.importorskip("cv2")
    path = make_video(tmp_path / "v.mp4", seconds=2.0, size=(320, 240), fps=10)
    out = _run(SmartCoverHandler(), path, {"Format": "png", "SetDefaultCover": "false", "Count": 2})
    assert 1 <= len(out.images) <= 2
    assert all(i.format == "png" and i.data[:4] == b"\x89PNG" for i in out.images)


def test_tag_contract(tmp_path: Path) -> None:
    pytest.importorskip("dlib")
    import skimage.data

    from openvod.analyzers.tag.engine import unavailable
    from openvod.analyzers.tag.handler import VideoTagHandler
    from openvod.analyzers.tag.options import TagJobOptions

    h = VideoTagHandler()
    opts: TagJobOptions = OPTIONS["AIVideoTag"]
    if h.unavailable_reason() or "Face" in unavailable({"Face"}, opts.tag):
        pytest.skip("no face backend here")
    face = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((320, 320)))
    path = encode(tmp_path / "face.mp4", [face] * 20, 10)
    faces, blobs = MemoryFaces(), MemoryBlobs()
    out = _run(h, path, {"AnalyseTypes": ["Face"]}, faces=faces, blobs=blobs)
    people = out.data["Person"]
    assert people and people[0]["Tag"].startswith("Unknown-")
    assert faces.seen and faces.seen[0][1] == len(people)
    assert blobs.files and all(k.startswith("job/faces/job-m1/") for k in blobs.files)
    assert people[0]["FaceUrl"].startswith("mem://job/faces/")
