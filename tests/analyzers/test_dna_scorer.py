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


def test_sampled_pairs_count_only_the_queries_the_method_ran_on() -> None:
    manifest = {"queries": [
        {"id": "a", "class": "crop", "gt": [{"ref": "L1", "q": [0, 10], "r": [0, 10]}]},
        {"id": "n1", "class": "negative", "gt": []},
        {"id": "n2", "class": "negative", "gt": []},
    ]}
    preds = {"a": [{"ref": "L1", "q": [0, 10], "r": [0, 10]}], "n1": [{"ref": "L3", "q": [0, 4], "r": [0, 4]}],
             "n2": [{"ref": "L2", "q": [0, 4], "r": [0, 4]}]}
    # Run on a and n1 only, n1 against L2 (its match to L3 lies outside the evaluated pairs).
    s = score(manifest, preds, {"a": ["L1"], "n1": ["L2"]})
    assert s["negative"]["negative_queries"] == 1 and s["negative"]["negative_queries_with_a_match"] == 0
    assert score(manifest, preds)["negative"]["negative_queries_with_a_match"] == 2


def test_report_puts_every_method_side_by_side_with_its_false_pairs() -> None:
    from bench.dna.report import SIG, SIG_OV, false_pairs, side_by_side

    manifest = {"queries": [
        {"id": "a", "class": "crop", "gt": [{"ref": "L1", "q": [0, 10], "r": [0, 10]}]},
        {"id": "n", "class": "negative", "gt": []},
    ]}
    hit = [{"ref": "L1", "q": [0, 10], "r": [0, 10]}]
    runs = {"openvod": {"predictions": {"a": hit, "n": [{"ref": "L2", "q": [0, 4], "r": [0, 4]}]}},
            "signature": {"predictions": {"a": [], "n": []}, "pairs_evaluated": {"a": ["L1", "L3"], "n": ["L3"]}},
            "vpdq": {"predictions": {"a": hit + [{"ref": "L4", "q": [0, 2], "r": [0, 2]}]}}}
    results = {"openvod": score(manifest, runs["openvod"]["predictions"]),
               SIG: score(manifest, runs["signature"]["predictions"], runs["signature"]["pairs_evaluated"]),
               SIG_OV: score(manifest, runs["openvod"]["predictions"], runs["signature"]["pairs_evaluated"]),
               "vpdq": score(manifest, runs["vpdq"]["predictions"])}
    text = "\n".join(side_by_side(manifest, runs, results))
    assert "| crop | 1.000 | 0.000 (1.000) | 0.667 |" in text
    assert "| negatives matched | 1 of 1 | 0 of 1 (0 of 1) | 0 of 1 |" in text
    assert "| false pairs | 1 | 0 (0) | 1 |" in text
    assert "* vpdq: 1: a→L4" in text and "* openvod: 1: n→L2" in text
    assert false_pairs(manifest, runs["openvod"]["predictions"], {"n": ["L3"]}) == []
