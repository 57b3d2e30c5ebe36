"""Near-duplicate suppression: brightness changes and re-crops of one picture are duplicates, other pictures are not."""

from __future__ import annotations

import cv2
import numpy as np

from openvod.analyzers.image.dedup import dhash, hamming, keypoints, near_duplicate, same_scene
from openvod.analyzers.image.shots import signature
from tests.analyzers.imagegen import picture, view

SIZE = (640, 360)


def _parts(rgb: np.ndarray):  # type: ignore[no-untyped-def]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return dhash(grey), signature(cv2.resize(rgb, (160, 90), interpolation=cv2.INTER_AREA)), grey


def test_brighter_copy_is_a_duplicate() -> None:
    a = view(picture(1), 0.0, SIZE)
    b = np.clip(a.astype(np.int16) + 25, 0, 255).astype(np.uint8)
    ha, sa, _ = _parts(a)
    hb, sb, _ = _parts(b)
    assert hamming(ha, hb) <= 4
    assert near_duplicate(ha, sa, hb, sb)


def test_recropped_copy_is_the_same_scene() -> None:
    pic = picture(2)
    a, b = view(pic, 0.0, SIZE, zoom=(1.0, 1.25)), view(pic, 1.0, SIZE, zoom=(1.0, 1.25))
    assert same_scene(keypoints(_parts(a)[2]), keypoints(_parts(b)[2]))


def test_different_pictures_are_not_duplicates() -> None:
    a, b = view(picture(3), 0.5, SIZE), view(picture(4), 0.5, SIZE)
    ha, sa, ga = _parts(a)
    hb, sb, gb = _parts(b)
    assert not near_duplicate(ha, sa, hb, sb)
    assert not same_scene(keypoints(ga), keypoints(gb))


def test_flat_frames_have_no_keypoints_to_match() -> None:
    flat = np.full((360, 640), 90, np.uint8)
    assert not same_scene(keypoints(flat), keypoints(flat))
