"""Category: what the video is about, from a fixed taxonomy, decided from text and visual evidence.

Each category of :data:`TAXONOMY` lists English and Chinese cue words (matched in the transcript
and on-screen text, whole words for English) and visual labels (from Annotation) that count for it.
A category's evidence is the weighted sum of its matched cues, each cue counted at most
``1 + log(occurrences)``; confidence is ``evidence / (evidence + half_point)``, so one weak cue
stays below the reporting threshold and several agreeing cues approach 1. No evidence, no category:
a silent, black or text-free video gets none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

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
TEXT_WEIGHT = 1.0
VISUAL_WEIGHT = 1.0


@dataclass(frozen=True)
class CategoryOptions:
    """How categories are decided."""

    half_point: float = 2.0  # evidence at which confidence is 0.5
    min_confidence: float = 0.5
    max_categories: int = 3


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


def categorise(texts: list[str], visual_labels: dict[str, float], options: CategoryOptions | None = None) -> list[CategoryScore]:
    """Categories supported by the text (transcript + on-screen) and visual labels (label -> seconds)."""
    o = options or CategoryOptions()
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
