"""Counters of a decode pass, and the one corrupt-packet rule every stream is held to."""

from __future__ import annotations

from dataclasses import dataclass, field

from openvod.pipeline.probe import DecodeError

# A packet that fails to decode is skipped and counted; the stream is damaged once more than
# max(MIN_CORRUPT, MAX_CORRUPT_RATIO x packets read so far) have failed.
MAX_CORRUPT_RATIO = 0.2
MIN_CORRUPT = 8


@dataclass
class DecodeStats:
    """Counters of one decode pass."""

    packets: int = 0
    corrupt_packets: int = 0
    frames_decoded: int = 0
    frames_scanned: int = 0  # frames some need's schedule wanted (before adaptive selection)
    frames_served: int = 0
    untimed: int = 0
    out_of_order: int = 0
    truncated: bool = False
    skip: str = "DEFAULT"  # what the decoder skipped by the end of the pass
    last_t: float = 0.0  # time of the last decoded frame
    extra: dict[str, float] = field(default_factory=dict)


def check_corrupt(stats: DecodeStats, kind: str = "video") -> None:
    """Raise DecodeError when the stream has more corrupt packets than the rule allows."""
    if stats.corrupt_packets > max(MIN_CORRUPT, MAX_CORRUPT_RATIO * stats.packets):
        raise DecodeError(f"The {kind} stream is corrupt ({stats.corrupt_packets} of {stats.packets} packets).")
