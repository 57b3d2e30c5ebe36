"""Near-duplicate suppression across the picks of one job.

Two frames are near-duplicates when any of these holds:
* their 64-bit difference hashes (dHash of a 9x8 grey thumbnail, insensitive to brightness) differ
  in at most ``max_hamming`` bits;
* their shot signatures (colour histogram + thumbnail, see ``shots.distance``) are closer than
  ``max_distance``;
* they show the same scene under a different crop: ORB keypoints matched with Lowe's ratio test
  fit one similarity transform (RANSAC) with at least ``min_inliers`` inliers making up at least
  ``min_inlier_share`` of the keypoints (a zoom, pan or a blink does not make a new picture).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openvod.analyzers.image.shots import Signature, distance

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None  # type: ignore[assignment]  # optional: the analyzer reports itself unavailable


def dhash(grey: np.ndarray) -> int:
    """64-bit difference hash: is each pixel brighter than its right neighbour, on a 9x8 thumbnail."""
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def near_duplicate(
    hash_a: int, sig_a: Signature, hash_b: int, sig_b: Signature, *, max_hamming: int = 16, max_distance: float = 0.22
) -> bool:
    """The cheap test: the two frames would look like the same picture to a viewer."""
    return hamming(hash_a, hash_b) <= max_hamming or distance(sig_a, sig_b) < max_distance


@dataclass
class Keypoints:
    """ORB keypoints of one frame."""

    points: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray | None


def keypoints(grey: np.ndarray, n: int = 500) -> Keypoints:
    orb = cv2.ORB_create(nfeatures=n)  # type: ignore[attr-defined]  # missing from the cv2 stubs
    kps, des = orb.detectAndCompute(grey, None)
    pts = np.asarray([k.pt for k in kps], dtype=np.float32).reshape(-1, 2)
    return Keypoints(pts, des)


def same_scene(a: Keypoints, b: Keypoints, *, min_inliers: int = 40, min_inlier_share: float = 0.2) -> bool:
    """The geometric test: one similarity transform maps many of a's keypoints onto b's."""
    if a.descriptors is None or b.descriptors is None or min(len(a.points), len(b.points)) < min_inliers:
        return False
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
    if len(good) < min_inliers:
        return False
    src = a.points[[g.queryIdx for g in good]]
    dst = b.points[[g.trainIdx for g in good]]
    _m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    n = int(inliers.sum()) if inliers is not None else 0
    return n >= min_inliers and n >= min_inlier_share * min(len(a.points), len(b.points))
