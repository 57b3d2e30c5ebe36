"""The AIVideoTag analyzer's server-side options (mapped from ``Settings.tag`` by
``openvod.engine.analyzer_options``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from openvod.analyzers.tag.engine import TagOptions


@dataclass(frozen=True)
class TagJobOptions:
    tag: TagOptions = field(default_factory=TagOptions)
    # The largest embedding distance at which a dlib face cluster is the library's person.
    face_match_distance: float = 0.5
    face_url_ttl_s: int = 7 * 86400  # FaceUrl lifetime
