"""The AIMediaDNA job handler: fingerprint the video, search its library, then add it.

Config (normalised by the AI-job service): ``{"DNADBId": str, "SearchOnly": bool}``. The library
is (account, DNADBId), ``""`` being the account's default library. With ``SearchOnly`` the video is
compared with the library but not added to it. A re-run of the same job replaces the video's
fingerprint and never matches the video with itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openvod.domain.jobs import JobFailed
from openvod.engine.registry import JobContext, JobHandler, JobOutput
from openvod.errors import InvalidParameter

if TYPE_CHECKING:
    from openvod.analyzers.dna.library import Library, LibraryCache
    from openvod.config import DNASettings
    from openvod.runtime import Runtime

DAMAGED = "InvalidVideo.Damaged"


class MediaDNAHandler(JobHandler):
    """Video fingerprinting and copy detection against the account's fingerprint library."""

    job_type = "AIMediaDNA"
    name = "openvod-dna"
    version = "1.0"

    def __init__(self) -> None:
        self._cache: LibraryCache | None = None

    def unavailable_reason(self) -> str | None:
        try:
            import faiss  # noqa: F401
            import threadpoolctl  # noqa: F401
        except ImportError as exc:
            return f"The AIMediaDNA analyzer needs faiss-cpu and threadpoolctl ({exc.name} is not installed)."
        return None

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        db = config.get("DNADBId", "") or ""
        if not isinstance(db, str) or any(c.isspace() for c in db):
            raise InvalidParameter("Config", "DNADBId must be a string without spaces.")
        return {"DNADBId": db, "SearchOnly": bool(config.get("SearchOnly", False))}

    # ------------------------------------------------------------------ libraries
    def library(self, rt: Runtime, account_id: str, db_id: str) -> Library:
        from openvod.analyzers.dna.library import LibraryCache
        from openvod.analyzers.dna.params import fingerprint_options, match_params

        s: DNASettings = rt.settings.dna
        if self._cache is None:
            self._cache = LibraryCache(s.max_cached_libraries)
        return self._cache.get(rt.engine, account_id, db_id, fingerprint_options(s), match_params(s),
                               flat_limit=s.index_flat_limit, nprobe=s.index_nprobe,
                               index_dir=rt.settings.data_dir / "dna-index")

    # ------------------------------------------------------------------ job
    def run(self, ctx: JobContext) -> JobOutput:
        from openvod.analyzers.dna.fingerprint import DecodeError, fingerprint_file
        from openvod.analyzers.dna.params import fingerprint_options
        from openvod.analyzers.dna.results import video_dna

        s: DNASettings = ctx.runtime.settings.dna
        db_id = str(ctx.config.get("DNADBId", "") or "")
        search_only = bool(ctx.config.get("SearchOnly", False))
        ctx.progress(0.02)
        try:
            fp = fingerprint_file(ctx.media_path, fingerprint_options(s), progress=ctx.heartbeat)
        except DecodeError as exc:
            raise JobFailed(DAMAGED, f"The video cannot be fingerprinted: {exc}.") from None
        ctx.progress(0.7)  # fingerprinted; searching the library
        lib = self.library(ctx.runtime, ctx.account_id, db_id)
        matches = lib.search(fp, exclude_media=ctx.media_id)
        ctx.progress(0.95)
        library_size = len(lib.media_ids())
        if not search_only:
            lib.add(ctx.media_id, fp, ctx.job_id)
        data = video_dna(matches, fp, evidence=s.evidence_frames, max_results=s.max_results)
        detail = {
            "DNADBId": db_id,
            "SearchOnly": search_only,
            "Samples": fp.n,
            "Codes": int(fp.codes.shape[0]),
            "LibraryVideos": library_size,
            "Candidates": [{"PrimaryKey": str(m.key), "Support": m.candidate_support} for m in matches],
        }
        return JobOutput(data=data, detail=detail)

    # ------------------------------------------------------------------ deletion hooks
    def delete_fingerprints(self, rt: Runtime, account_id: str, media_id: str, db_id: str) -> None:
        """SubmitMediaDNADeleteJob: remove the video from the named library, or from all when none is named."""
        from openvod.analyzers.dna.library import delete_video

        delete_video(rt.engine, account_id, media_id, db_id or None)

    def on_media_deleted(self, rt: Runtime, account_id: str, media_id: str) -> None:
        """DeleteVideo: the video leaves every library of its account."""
        from openvod.analyzers.dna.library import delete_video

        delete_video(rt.engine, account_id, media_id, None)
