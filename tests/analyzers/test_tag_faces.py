"""Faces across cuts: identities, Person Times at >= 1 per second, sampled boxes (real faces from
scikit-image: the astronaut photograph and an LFW crop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvod.analyzers.tag.face import FaceTrack, PersonCluster


def _track(start: float, end: float, boxes: list[tuple[float, tuple[float, float, float, float]]]) -> FaceTrack:
    return FaceTrack(start, boxes[0][1], 0, 1.0, end=end, samples=list(boxes))


@settings(max_examples=60, deadline=None)
@given(start=st.floats(0, 100), length=st.floats(0, 30), step=st.sampled_from([0.5, 1.0, 2.0]),
       n=st.integers(1, 5), data=st.data())
def test_timeline_lists_every_step_on_screen_and_interpolates(start: float, length: float, step: float, n: int,
                                                               data: Any) -> None:
    end = start + length
    ts = sorted({start} | set(data.draw(st.lists(st.floats(start, end), max_size=n - 1))))
    boxes = [(t, (float(i * 10), 0.0, float(i * 10 + 50), 50.0)) for i, t in enumerate(ts)]
    tl = _track(start, end, boxes).timeline(step)
    times = [t for t, _ in tl]
    assert times[0] == pytest.approx(start, abs=1e-3)
    assert all(start - 1e-3 <= t <= max(start, end) + 1e-3 for t in times)
    gaps = np.diff(times + [max(end, start)])
    assert (gaps <= step + 2e-3).all()  # at least one listed time per step while on screen
    lo, hi = min(b[1][0] for b in boxes), max(b[1][0] for b in boxes)
    assert all(lo - 1e-6 <= b[0] <= hi + 1e-6 for _, b in tl)  # boxes stay between observed ones


def test_person_times_union_of_tracks() -> None:
    a = _track(0.0, 2.5, [(0.0, (0, 0, 10, 10))])
    b = _track(5.0, 6.0, [(5.0, (0, 0, 10, 10))])
    assert PersonCluster(0, [a, b]).times(1.0) == [0.0, 1.0, 2.0, 5.0]


@pytest.fixture(scope="module")
def two_people(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    pytest.importorskip("dlib")
    from bench.tag.faces import two_people_same_place
    from openvod.analyzers.tag.engine import TagOptions, analyse, unavailable
    from openvod.models.cache import ModelCache

    if unavailable({"Face"}, TagOptions()):
        pytest.skip("no face backend")
    path = tmp_path_factory.mktemp("faces") / "cut.mp4"
    truth = two_people_same_place(path)
    return analyse(path, ["Face"], TagOptions(), ModelCache()), truth


def test_two_people_cut_back_to_back_at_the_same_place_are_two_persons(two_people: tuple[Any, dict[str, Any]]) -> None:
    res, truth = two_people
    assert res.face_backend == "dlib"
    assert len(res.persons) == 2, [[(t.start, t.end) for t in c.tracks] for c in res.persons]
    first, second = sorted(res.persons, key=lambda c: c.tracks[0].start)
    # The astronaut comes back after the other person: her two appearances are one Person.
    assert len(first.tracks) == 2 and len(second.tracks) == 1
    assert second.tracks[0].start == pytest.approx(3.0, abs=0.6)
    assert res.stats["face"]["identity_splits"] >= 1 or res.stats["video"]["shots"] >= 3


def test_person_times_cover_every_second_on_screen(two_people: tuple[Any, dict[str, Any]]) -> None:
    from openvod.analyzers.tag.wire import PersonIdentity, build_data, build_detail

    res, truth = two_people
    people = {c.index: PersonIdentity(f"P{c.index}", f"id{c.index}", False, "u", "k") for c in res.persons}
    data = build_data(res, False, people, "test")
    by_tag = {p["Tag"]: [int(t) / 1000 for t in p["Times"]] for p in data["Person"]}
    first, second = sorted(res.persons, key=lambda c: c.tracks[0].start)
    want = {f"P{first.index}": [(0.0, 3.0), (6.0, 8.0)], f"P{second.index}": [(3.0, 6.0)]}
    for tag, spans in want.items():
        times = np.asarray(by_tag[tag])
        for a, b in spans:
            for u in np.arange(a + 0.6, b, 0.25):  # the tracker may see a cut up to ~0.5 s late
                assert ((times <= u) & (times > u - 1.0 - 1e-3)).any(), (tag, u, times)
    detail = build_detail(res, people, "test")
    for person in detail["Faces"]:
        for app in person["Appearances"]:
            samples = app["Samples"]
            assert samples and samples[0]["Time"] == app["StartTime"]
            assert all(0 <= s["Box"]["Left"] <= 1 for s in samples)
            assert len(samples) >= int((app["EndTime"] - app["StartTime"]) / 1000)
