"""The benchmark's VCSL-style segment metric (bench/dna/score.py) on hand-made cases."""

from __future__ import annotations

import pytest

from bench.dna.score import pair_precision_recall, score, union_length


def test_union_length() -> None:
    assert union_length([(0, 2), (1, 3), (5, 6)]) == 4
    assert union_length([]) == 0


def test_pair_precision_recall_is_the_product_of_both_axes() -> None:
    gt = [(0.0, 10.0, 10.0, 20.0)]  # q0, r0, q1, r1
    assert pair_precision_recall(gt, gt) == (1.0, 1.0)
    # Half of the query axis, all of the reference axis: precision 1, recall 0.5 x 1.
    p, r = pair_precision_recall([(0.0, 10.0, 5.0, 20.0)], gt)
    assert p == pytest.approx(1.0) and r == pytest.approx(0.5)
    # Shifted on both axes by 2 of 10: (8/10) x (8/10) each way.
    p, r = pair_precision_recall([(2.0, 12.0, 12.0, 22.0)], gt)
    assert p == pytest.approx(0.64) and r == pytest.approx(0.64)
    assert pair_precision_recall([], gt) == (None, 0.0)
    assert pair_precision_recall(gt, []) == (0.0, None)


def test_score_averages_over_pairs_and_counts_negatives() -> None:
    manifest = {"queries": [
        {"id": "a", "class": "crop", "gt": [{"ref": "L1", "q": [0, 10], "r": [0, 10]}]},
        {"id": "b", "class": "negative", "gt": []},
    ]}
    preds = {"a": [{"ref": "L1", "q": [0, 10], "r": [0, 10]}, {"ref": "L2", "q": [0, 5], "r": [0, 5]}],
             "b": []}
    s = score(manifest, preds)
    assert s["crop"]["segment_recall"] == 1.0 and s["crop"]["segment_precision"] == 0.5
    assert s["crop"]["video_precision"] == 0.5 and s["crop"]["video_recall"] == 1.0
    assert s["negative"]["negative_queries_with_a_match"] == 0
    # Restricting to evaluated pairs drops the L2 false positive.
    assert score(manifest, preds, {"a": ["L1"]})["crop"]["segment_f1"] == 1.0
