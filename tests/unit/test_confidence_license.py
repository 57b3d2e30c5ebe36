"""Every Confidence on the wire is in [0, 1] (dlib's HOG score is not, so it is mapped at the source);
the package metadata carries an SPDX license and the LICENSE file it names."""

from __future__ import annotations

import math
import tomllib

from hypothesis import given
from hypothesis import strategies as st

from openvod.analyzers.tag.engine import face_labels
from openvod.analyzers.tag.face import FaceTrack, detector_confidence
from tests.conftest import REPO


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_detector_confidence_is_a_probability(score: float) -> None:
    c = detector_confidence(score)
    assert 0.0 <= c <= 1.0 and not math.isnan(c)


@given(st.floats(0, 50), st.floats(0, 50))
def test_detector_confidence_keeps_the_order(a: float, b: float) -> None:
    if a <= b:
        assert detector_confidence(a) <= detector_confidence(b)


def test_person_annotation_confidence_from_dlib_scores() -> None:
    # dlib HOG margins as seen on real faces (1.08 was reported as a Confidence before)
    tracks = [FaceTrack(float(i), (0, 0, 10, 10), 0, s, end=i + 1.0) for i, s in enumerate([0.31, 1.08, 2.7, 9.5])]
    labels = face_labels(tracks)
    assert [li.label for li in labels] == ["Person"] * 4
    confs = [li.confidence for li in labels]
    assert all(0 <= c <= 1 for c in confs) and confs == sorted(confs) and confs[1] < 1


def test_license_metadata() -> None:
    py = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert py["project"]["license"] == "Apache-2.0"
    files = py["project"]["license-files"]
    assert files == ["LICENSE"]
    text = (REPO / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    # SPDX strings and license-files need setuptools 77 or newer (PEP 639)
    req = next(r for r in py["build-system"]["requires"] if r.startswith("setuptools"))
    assert ">=77" in req or ">=8" in req
