"""Keyword, Location and Time tags from text, and categories."""

from __future__ import annotations

import pytest

from openvod.analyzers.tag.category import CategoryOptions, categorise, top_categories
from openvod.analyzers.tag.text import TextAnalyzer, TextOptions, TextSpan, find_places, find_times
from openvod.models.cache import ModelCache


def test_places_english_capitalised_only() -> None:
    s = TextSpan("We flew from London to New York, then to a nice place near paris.", 0, 5, "asr")
    names = [p for p, _, _ in find_places(s)]
    assert names == ["London", "New York"]  # "nice" and lower-case "paris" are not places


def test_places_chinese_gazetteer() -> None:
    s = TextSpan("明天在北京和伦敦举行", 0, 5, "ocr")
    assert [p for p, _, _ in find_places(s)] == ["北京", "伦敦"]


def test_time_expressions_english_and_chinese() -> None:
    en = [e for e, _ in find_times(TextSpan("Call me at nine o'clock tomorrow, or on Monday at 9:30 pm. You may march.", 0, 1, "asr"))]
    assert en == ["nine o'clock", "tomorrow", "on Monday", "9:30 pm"]
    zh = [e for e, _ in find_times(TextSpan("2024年3月5日下午三点，星期一，今天天气晴朗，春节", 0, 1, "ocr"))]
    assert zh == ["2024年3月5日", "下午三点", "星期一", "今天", "春节"]


def test_word_times_locate_a_tag_inside_a_sentence() -> None:
    s = TextSpan("Welcome to the news from London.", 7.0, 9.0, "asr",
                 [("Welcome", 7.0), (" to", 7.4), (" the", 7.5), (" news", 7.7), (" from", 8.1), (" London.", 8.4)])
    assert s.time_of(s.text.index("London")) == 8.4
    assert TextSpan("plain", 3.0, 4.0, "ocr").time_of(2) == 3.0


def test_keywords_with_times_from_both_languages() -> None:
    pytest.importorskip("yake")
    pytest.importorskip("jieba")
    a = TextAnalyzer(TextOptions(), ModelCache())
    tags = a.analyse([
        TextSpan("The city council approved a new budget for public transport on Monday.", 10.0, 14.0, "asr"),
        TextSpan("Electric buses will run on the new public transport routes.", 20.0, 24.0, "asr"),
        TextSpan("市议会批准公共交通预算", 11.0, 14.0, "ocr"),
    ])
    kw = {t.tag.lower(): t for t in tags["keyword"]}
    assert "public transport" in kw and kw["public transport"].times == [10.0, 20.0]
    assert "公共交通" in kw and kw["公共交通"].sources == {"ocr"}
    assert "monday" not in kw and "on monday" not in kw  # time expressions are Time tags
    assert [t.tag for t in tags["time"]] == ["on Monday"]
    assert all(0 < t.score <= 1 for t in tags["keyword"])


def test_nothing_from_nothing() -> None:
    a = TextAnalyzer(TextOptions(), ModelCache())
    assert a.analyse([TextSpan("   ", 0, 1, "ocr")]) == {"keyword": [], "location": [], "time": []}


def test_categories_need_agreeing_evidence() -> None:
    scores = categorise(["Welcome to the evening news. Our reporter is live.", "城市新闻 直播"], {}, CategoryOptions())
    top = top_categories(scores)
    assert top[0].name == "News" and top[0].confidence > 0.7 and top[0].cues["news"] == 1
    one_word = top_categories(categorise(["the price"], {}))  # one weak cue stays below the threshold
    assert one_word == []
    assert categorise([], {}) == []  # no evidence, no category
    pets = top_categories(categorise([], {"Cat": 30.0}))
    assert [c.name for c in pets] == ["Animals & Pets"]
