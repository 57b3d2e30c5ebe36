"""The AIMediaDNA job handler: fingerprint the video, search its library, then add it.

Options: ``MediaDNAOptions`` (``DNADBId``, ``SearchOnly``). The library is (account, DNADBId), ""
being the account's default library; it is a service the handler receives as
``ctx.fingerprints`` (``openvod.domain.interfaces.FingerprintLibrary``). With ``SearchOnly`` the
video is compared with the library but not added to it. A re-run of the same job replaces the
video's fingerprint and never matches the video with itself.
"""

from __future__ import annotations

from openvod.analyzers.dna.fingerprint import DecodeError, fingerprint_file
from openvod.analyzers.dna.options import DNAJobOptions
from openvod.analyzers.dna.results import video_dna
from openvod.domain.contract import JobContext, JobHandler, JobOutput
from openvod.domain.jobs import AnalyzerUnavailable, MediaDamaged
from openvod.domain.options import MediaDNAOptions

DAMAGED = MediaDamaged.code


class MediaDNAHandler(JobHandler):
    """Video fingerprinting and copy detection against the account's fingerprint library."""

    job_type = "AIMediaDNA"
    name = "openvod-dna"
    version = "1.0"
    options_model = MediaDNAOptions

    def unavailable_reason(self) -> str | None:
        try:
            import faiss  # noqa: F401
            import threadpoolctl  # noqa: F401
        except ImportError as exc:
            return f"The AIMediaDNA analyzer needs faiss-cpu and threadpoolctl ({exc.name} is not installed)."
        return None

    def run(self, ctx: JobContext) -> JobOutput:
        opts = ctx.analyzer_options if isinstance(ctx.analyzer_options, DNAJobOptions) else DNAJobOptions()
        cfg = ctx.options if isinstance(ctx.options, MediaDNAOptions) else MediaDNAOptions.model_validate(ctx.config)
        lib = ctx.fingerprints
        if lib is None:
            raise AnalyzerUnavailable("No fingerprint library was given to the AIMediaDNA job.")
        try:
            fp = fingerprint_file(ctx.media_path, opts.fingerprint, progress=ctx.heartbeat)
        except DecodeError as exc:
            raise MediaDamaged(f"The video cannot be fingerprinted: {exc}.") from None
        matches = lib.search(cfg.DNADBId, fp, exclude_media=ctx.media_id)
        library_size = lib.size(cfg.DNADBId)
        if not cfg.SearchOnly:
            lib.add(cfg.DNADBId, ctx.media_id, fp, ctx.job_id)
        data = video_dna(matches, fp, evidence=opts.evidence_frames, max_results=opts.max_results)
        detail = {
            "DNADBId": cfg.DNADBId,
            "SearchOnly": cfg.SearchOnly,
            "Samples": fp.n,
            "Codes": int(fp.codes.shape[0]),
            "LibraryVideos": library_size,
            "Candidates": [{"PrimaryKey": str(m.key), "Support": m.candidate_support} for m in matches],
        }
        return JobOutput(data=data, detail=detail)
