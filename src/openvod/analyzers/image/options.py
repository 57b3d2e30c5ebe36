"""The AIImage analyzer's server-side options (mapped from ``Settings.aiimage`` by
``openvod.engine.analyzer_options``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from openvod.analyzers.image.images import ImageJobOptions


@dataclass(frozen=True)
class AIImageJobOptions:
    images: ImageJobOptions = field(default_factory=ImageJobOptions)
    png_count: int = 3  # images per job when the template gives no Count
    gif_count: int = 1

    def count(self, fmt: str, asked: int | None) -> int:
        """The template's Count, else the configured default for the format."""
        if asked is not None:
            return int(asked)
        return self.gif_count if fmt == "gif" else self.png_count
