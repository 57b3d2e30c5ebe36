"""The clips the AIVideoTag benchmark and end-to-end tests use, with known content.

``newscast`` is a 60 s programme: a bilingual title card, an anchor (the astronaut photograph) who
appears twice with a cut-away between, a cat shot, moving graphics, subtitles in English and
Chinese, English speech at known times, a music bed with no speech, and a black tail.
"""

from __future__ import annotations

from bench.tag.media import Caption, ClipSpec, FaceAppearance, Shot, Speech

SENTENCES = [
    "Welcome to the evening news from London.",
    "The city council approved a new budget for public transport on Monday.",
    "Electric buses will start running in the spring.",
    "Our reporter visited the train station this morning.",
    "Many people said the new timetable is easier to read.",
    "The weather will be sunny tomorrow with a light wind.",
    "We will be back after a short break.",
    "Thank you for watching and have a good night.",
]


def newscast(width: int = 1280, height: int = 720, fps: int = 30, duration: float = 60.0) -> ClipSpec:
    """The benchmark programme (scaled to ``duration``; times below are for 60 s)."""
    k = duration / 60.0

    def s(x: float) -> float:
        return round(x * k, 3)

    return ClipSpec(
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        shots=[
            Shot(s(0), s(6), "gradient", seed=1),
            Shot(s(6), s(20), "gradient", seed=2),
            Shot(s(20), s(30), "motion", seed=3),
            Shot(s(30), s(38), "photo:chelsea"),
            Shot(s(38), s(50), "gradient", seed=4),
            Shot(s(50), s(56), "color", seed=5),
            Shot(s(56), s(60), "black"),
        ],
        captions=[
            Caption("城市新闻 City News", s(0.5), s(5.5), "middle", 0.1),
            Caption("Welcome to the evening news from London", s(7), s(10), "bottom"),
            Caption("市议会批准公共交通预算", s(10.5), s(14), "bottom"),
            Caption("Electric buses start in spring", s(14.5), s(18), "bottom"),
            Caption("LIVE 直播", s(20), s(30), "top", 0.05),
            Caption("今天天气晴朗", s(39), s(44), "bottom"),
            Caption("Back after a short break", s(45), s(49), "bottom"),
        ],
        faces=[
            FaceAppearance("astronaut", s(6), s(20), x=0.55, y=0.08, height=0.7, person="anchor"),
            FaceAppearance("astronaut", s(38), s(50), x=0.1, y=0.15, height=0.55, flip=True, person="anchor"),
        ],
        speech=[
            Speech(SENTENCES[0], s(7)),
            Speech(SENTENCES[1], s(10.5)),
            Speech(SENTENCES[2], s(15)),
            Speech(SENTENCES[3], s(21)),
            Speech(SENTENCES[4], s(25)),
            Speech(SENTENCES[5], s(39)),
            Speech(SENTENCES[6], s(45)),
            Speech(SENTENCES[7], s(48)),
        ],
        music=[(s(31), s(37.5)), (s(50.5), s(55.5))],
    )
