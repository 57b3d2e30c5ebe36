"""Near-duplicate suppression across the picks of one job.

Two frames are near-duplicates when either
* their 64-bit difference hashes (dHash of a 9x8 grey thumbnail, insensitive to brightness and
  small shifts) differ in at most ``max_hamming`` bits, or
* their shot signatures (colour histogram + thumbnail, see ``shots.distance``) are closer than
  ``max_distance``.
"""

from __future__ import annotations

import numpy as np

from openvod.analyzers.image.shots import Signature, distance

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None


def dhash(grey: np.ndarray) -> int:
    """64-bit difference hash: is each pixel brighter than its right neighbour, on a 9x8 thumbnail."""
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def near_duplicate(
    hash_a: int, sig_a: Signature, hash_b: int, sig_b: Signature, *, max_hamming: int = 10, max_distance: float = 0.12
) -> bool:
    """True when the two frames would look like the same picture to a viewer."""
    return hamming(hash_a, hash_b) <= max_hamming or distance(sig_a, sig_b) < max_distance
