"""Keywords, places and time expressions from transcript and on-screen text, each with its times.

* Keywords: YAKE (statistical, language-independent features) on Latin-script text, limited to
  phrases of up to two words without stop words; jieba TF-IDF (nouns, names, organisations) on
  Chinese text. Place names and time expressions are left to their own tags.
* Places: a gazetteer built from GeoNames (countries, continents, US states and cities of at least
  250,000 people, with their Chinese names), matched as capitalised words in Latin text and by
  longest match in Chinese text; jieba's place-name tag (``ns``) adds Chinese places ending in an
  administrative or geographic suffix.
* Time expressions: rules for English (weekdays, months, dates, clock times, relative days,
  seasons, years) and Chinese (今天/明天, 星期一, 3月5日, 下午三点, 春天 …).

Every tag keeps the times (seconds) of the text spans it occurs in; for speech, the time of the
word where it starts.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from openvod.models.cache import ModelCache, ModelSpec

CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
PLACES_FILE = Path(__file__).with_name("data") / "places.json"
ZH_PLACE_SUFFIX = tuple("省市县区镇乡村州国山江河湖岛港湾")


@dataclass
class TextSpan:
    """A piece of text and when it was heard or seen."""

    text: str
    start: float
    end: float
    source: str  # asr | ocr
    words: list[tuple[str, float]] = field(default_factory=list)  # ASR: (word, start seconds)

    def time_of(self, char_index: int) -> float:
        """Start time of the word containing ``char_index`` of ``text`` (the span start without words)."""
        if not self.words:
            return self.start
        pos = 0
        for w, t in self.words:
            w = w.strip()
            k = self.text.find(w, pos) if w else -1
            if k < 0:
                continue
            if k + len(w) > char_index:
                return t
            pos = k + len(w)
        return self.words[-1][1]


@dataclass
class TimedTag:
    """A tag with the times it occurs at."""

    tag: str
    kind: str  # keyword | location | time
    times: list[float] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    score: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, t: float, source: str) -> None:
        if all(abs(t - x) > 0.05 for x in self.times):
            self.times.append(t)
        self.sources.add(source)


def has_cjk(s: str) -> bool:
    return CJK_RUN.search(s) is not None


def missing_dependency() -> str | None:
    missing = [p for p in ("yake", "jieba") if importlib.util.find_spec(p) is None]
    return f"keyword extraction needs {', '.join(missing)} (pip install 'openvod[tag]')" if missing else None


# ---------------------------------------------------------------------------------------------- places
@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], int]:
    data = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    en: dict[str, dict[str, Any]] = {}
    zh: dict[str, dict[str, Any]] = {}
    for p in data["places"]:
        if p.get("en", True):
            en.setdefault(p["name"].lower(), p)
        for z in p.get("zh", []):
            zh.setdefault(z, p)
    return en, zh, max((len(k) for k in zh), default=1)


def find_places(span: TextSpan, jieba_pos: list[tuple[str, str]] | None = None) -> list[tuple[str, int, dict[str, Any]]]:
    """(surface form, char index, place record) of each place name in the span."""
    en, zh, zmax = _gazetteer()
    out: list[tuple[str, int, dict[str, Any]]] = []
    words = [(m.group(0), m.start()) for m in LATIN_WORD.finditer(span.text)]
    i = 0
    while i < len(words):
        hit = None
        for n in (3, 2, 1):
            if i + n > len(words):
                continue
            first, last = words[i], words[i + n - 1]
            surface = span.text[first[1] : last[1] + len(last[0])]
            rec = en.get(surface.lower())
            caps = all(w[0][0].isupper() for w in words[i : i + n])
            if rec is not None and caps:
                hit = (surface, first[1], rec, n)
                break
        if hit:
            out.append(hit[:3])
            i += hit[3]
        else:
            i += 1
    for m in CJK_RUN.finditer(span.text):
        run, base, j = m.group(0), m.start(), 0
        while j < len(run):
            for n in range(min(zmax, len(run) - j), 1, -1):
                rec = zh.get(run[j : j + n])
                if rec is not None:
                    out.append((run[j : j + n], base + j, rec))
                    j += n
                    break
            else:
                j += 1
    seen = {(s, k) for s, k, _ in out}
    pos = 0
    for w, tag in jieba_pos or []:
        k = span.text.find(w, pos)
        if k >= 0:
            pos = k + len(w)
        if tag == "ns" and len(w) >= 3 and w.endswith(ZH_PLACE_SUFFIX) and k >= 0 and not any(
                s2 <= k < s2 + len(s) for s, s2 in seen):
            out.append((w, k, {"name": w, "kind": "place", "code": ""}))
    return out


# ---------------------------------------------------------------------------------------------- times
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_NUM_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
EN_TIME = re.compile(
    r"\b(?:"
    rf"(?:(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?)"
    rf"|(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+\d{{4}})?)"
    rf"|(?:(?:{_MONTHS})\s+\d{{4}})"
    r"|(?:\d{4}-\d{2}-\d{2})"
    r"|(?:\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)"
    r"|(?:\d{1,2}\s*[ap]\.?m\.?)"
    rf"|(?:(?:{_NUM_WORDS}|\d{{1,2}})\s+o'clock)"
    rf"|(?:(?:this|next|last|on)\s+(?:{_WEEKDAYS}|week|weekend|month|year|morning|afternoon|evening|night))"
    r"|(?:(?:this|tomorrow|yesterday)\s+(?:morning|afternoon|evening|night))"
    rf"|(?:{_WEEKDAYS}|{_MONTHS})"
    r"|(?:today|tonight|tomorrow|yesterday|midnight|noon)"
    r"|(?:(?:in\s+(?:the\s+)?)?(?:spring|summer|autumn|fall|winter)(?=\W|$))"
    r"|(?:(?:in|since|by|until)\s+(?:19|20)\d{2})"
    r")",
    re.IGNORECASE,
)
_ZH_NUM = "[0-9０-９一二三四五六七八九十两〇零百千]"
ZH_TIME = re.compile(
    rf"(?:{_ZH_NUM}{{2,4}}年)?{_ZH_NUM}{{1,2}}月{_ZH_NUM}{{1,3}}[日号]"
    rf"|{_ZH_NUM}{{4}}年(?:{_ZH_NUM}{{1,2}}月)?"
    rf"|{_ZH_NUM}{{1,2}}月(?:份|[上中下]旬)?"
    rf"|(?:今天|明天|后天|昨天|前天|今晚|明晚|昨晚)?(?:早上|上午|中午|下午|晚上|凌晨|傍晚)?{_ZH_NUM}{{1,3}}[点時时](?:半|{_ZH_NUM}{{1,3}}分|整)?"
    r"|(?:星期|周|礼拜)[一二三四五六日天末]"
    r"|(?:今天|明天|后天|昨天|前天|今晚|明晚|昨晚|今年|明年|去年|本周|下周|上周|本月|下个月|上个月|周末)"
    r"(?:早上|上午|中午|下午|晚上|凌晨|傍晚)?"
    r"|(?:早上|上午|中午|下午|晚上|凌晨|傍晚)"
    r"|(?:春天|夏天|秋天|冬天|春季|夏季|秋季|冬季|春节|元旦|国庆节|中秋节)"
)


def find_times(span: TextSpan) -> list[tuple[str, int]]:
    """(expression, char index) of each time expression in the span."""
    out = []
    for m in EN_TIME.finditer(span.text):
        expr = m.group(0).strip()
        if expr.endswith(".") and not re.search(r"[ap]\.m\.$", expr, re.IGNORECASE):
            expr = expr[:-1]  # a sentence's full stop after "pm"
        if expr.lower() in ("may", "march") and not any(c.isdigit() for c in span.text[m.end() : m.end() + 6]):
            continue  # the verbs "may" and "march"
        if expr[:1].islower() and expr.lower() in {w.lower() for w in _WEEKDAYS.split("|") + _MONTHS.split("|")}:
            continue  # proper names are capitalised; a lower-case "august" is an adjective
        out.append((expr, m.start()))
    out.extend((m.group(0), m.start()) for m in ZH_TIME.finditer(span.text))
    return out


# ---------------------------------------------------------------------------------------------- keywords
@dataclass(frozen=True)
class TextOptions:
    """Limits of keyword extraction."""

    max_keywords: int = 20
    max_words: int = 2  # longest English keyphrase
    min_chars: int = 3
    semantic: bool = True  # rank English keyphrases by closeness to the text's meaning (all-MiniLM-L6-v2)
    semantic_share: float = 0.5  # weight of that closeness against the statistical score


class TextAnalyzer:
    """Keywords, places and times over text spans (models through the cache)."""

    def __init__(self, options: TextOptions, cache: ModelCache):
        self.o = options
        self.cache = cache

    def specs(self) -> list[ModelSpec]:
        return [ModelSpec.of("yake", _ver("yake"), max_words=self.o.max_words),
                ModelSpec.of("jieba (dict + idf)", _ver("jieba")),
                ModelSpec.of("GeoNames gazetteer", "places.json (min population 250000)", str(PLACES_FILE))]

    def semantic_spec(self) -> ModelSpec | None:
        """The keyphrase-ranking model, when the last analysis used it."""
        from openvod.models import minilm

        return minilm.spec() if getattr(self, "_semantic_used", False) else None

    def _jieba(self) -> Any:
        def load() -> Any:
            import logging

            import jieba
            import jieba.analyse
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            return jieba

        return self.cache.get(self.specs()[1], load)

    def _yake(self) -> Any:
        def load() -> Any:
            import yake

            return yake.KeywordExtractor(lan="en", n=self.o.max_words, top=self.o.max_keywords * 2, dedupLim=0.7)

        return self.cache.get(self.specs()[0], load)

    def analyse(self, spans: list[TextSpan]) -> dict[str, list[TimedTag]]:
        """{"keyword": [...], "location": [...], "time": [...]} with times, in first-occurrence order."""
        spans = [s for s in spans if s.text.strip()]
        out: dict[str, dict[str, TimedTag]] = {"keyword": {}, "location": {}, "time": {}}
        if not spans:
            return {k: [] for k in out}
        jieba = self._jieba() if any(has_cjk(s.text) for s in spans) else None
        excluded: set[str] = set()
        for s in spans:
            pos = [(p.word, p.flag) for p in jieba.posseg.lcut(s.text)] if jieba is not None and has_cjk(s.text) else None
            for surface, k, rec in find_places(s, pos):
                tag = out["location"].setdefault(surface.lower(), TimedTag(surface, "location",
                                                                           extra={"Place": rec.get("name"), "Country": rec.get("code")}))
                tag.add(s.time_of(k), s.source)
                excluded.add(surface.lower())
            for expr, k in find_times(s):
                tag = out["time"].setdefault(expr.lower(), TimedTag(expr, "time"))
                tag.add(s.time_of(k), s.source)
                excluded.update(w.lower() for w in expr.split())
        for kw, score in self._keywords(spans, jieba, excluded):
            tag = TimedTag(kw, "keyword", score=score)
            for s in spans:
                for k in _occurrences(s.text, kw):
                    tag.add(s.time_of(k), s.source)
            if tag.times:
                out["keyword"].setdefault(kw.lower(), tag)
        return {k: sorted(v.values(), key=lambda t: (min(t.times) if t.times else 0.0, t.tag)) for k, v in out.items()}

    def _keywords(self, spans: list[TextSpan], jieba: Any, excluded: set[str]) -> list[tuple[str, float]]:
        latin = ". ".join(CJK_RUN.sub(" ", s.text).strip() for s in spans if LATIN_WORD.search(s.text))
        found: list[tuple[str, float]] = []
        if latin.strip():
            ex = self._yake()
            stop: set[str] = set(getattr(ex, "stopword_set", set()))
            for kw, score in ex.extract_keywords(latin):
                kw = kw.strip(".,;:!?\"'()[]")
                words = kw.split()
                if len(kw) < self.o.min_chars or any(w.lower() in stop for w in words):
                    continue
                if kw.lower() in excluded or any(w.lower() in excluded for w in words):
                    continue
                if not any(c.isalpha() for c in kw):
                    continue
                found.append((kw, round(1.0 / (1.0 + 10.0 * float(score)), 3)))
        if jieba is not None:
            zh = "。".join("".join(CJK_RUN.findall(s.text)) for s in spans if has_cjk(s.text))
            tags = jieba.analyse.extract_tags(zh, topK=self.o.max_keywords, withWeight=True,
                                              allowPOS=("n", "nr", "nz", "nt", "vn", "an", "l", "nrt"))
            top = max((w for _, w in tags), default=1.0) or 1.0
            for w, weight in tags:
                if len(w) >= 2 and w.lower() not in excluded:
                    found.append((w, round(float(weight) / top, 3)))
        found = self._semantic_rank(found, spans)
        found.sort(key=lambda x: -x[1])
        seen: set[str] = set()
        out = []
        phrases = [kw.lower() for kw, _ in found if " " in kw]
        for kw, score in found:
            low = kw.lower()
            if low in seen:
                continue
            # A single word inside a kept phrase adds nothing ("council" next to "city council").
            if " " not in low and not has_cjk(low) and any(low in p.split() for p in phrases):
                continue
            seen.add(low)
            out.append((kw, score))
        return out[: self.o.max_keywords]


    def _semantic_rank(self, found: list[tuple[str, float]], spans: list[TextSpan]) -> list[tuple[str, float]]:
        """English keyphrases re-scored by cosine similarity to the text (KeyBERT-style), when the
        embedding model is installed; Chinese ones keep their jieba score (the model is English)."""
        from openvod.models import minilm

        latin = [(i, kw) for i, (kw, _) in enumerate(found) if not has_cjk(kw)]
        if not self.o.semantic or len(latin) < 2 or minilm.missing():
            return found
        from openvod.analyzers.tag.category import passages

        docs = passages([s.text for s in spans], 60)
        if not docs:
            return found
        model = minilm.load(self.cache)
        self._semantic_used = True
        doc = model.encode(docs).mean(0)
        doc /= max(float((doc**2).sum()) ** 0.5, 1e-9)
        sims = model.encode([kw for _, kw in latin]) @ doc
        top = max(float(sims.max()), 1e-6)
        out = list(found)
        a = self.o.semantic_share
        for (i, kw), sim in zip(latin, sims, strict=True):
            out[i] = (kw, round((1 - a) * found[i][1] + a * max(0.0, float(sim)) / top, 3))
        return out


def _occurrences(text: str, phrase: str) -> list[int]:
    if has_cjk(phrase):
        return [m.start() for m in re.finditer(re.escape(phrase), text)]
    return [m.start() for m in re.finditer(r"(?<![A-Za-z])" + re.escape(phrase) + r"(?![A-Za-z])", text, re.IGNORECASE)]


def _ver(dist: str) -> str:
    try:
        return f"{dist}=={metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return f"{dist} (not installed)"
