"""Text moderation: word libraries (a small default list plus per-account custom words), contact
patterns (URLs, phone numbers, WeChat / QQ ids) and flood detection. Chinese text is segmented with
jieba so that a library word only matches on word boundaries ("大麻" is not found in "大麻烦").

Labels (the cloud's antispam set): spam, ad, abuse, politics, contraband, porn, terrorism, flood,
meaningless, normal. Scores are 0-100 (docs/audit.md has the table).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

LABELS = ("spam", "ad", "abuse", "politics", "contraband", "porn", "terrorism", "flood", "meaningless")

# A deliberately small default list; accounts add their own words (CLI: openvod audit words add).
DEFAULT_WORDS: dict[str, tuple[str, ...]] = {
    "ad": ("加微信", "加我微信", "微信号", "扫码关注", "扫一扫", "免费领取", "优惠券", "代理加盟", "点击链接",
           "限时优惠", "私聊我", "添加好友", "buy now", "click here", "free gift", "discount code",
           "limited offer", "visit our website", "promo code", "order now"),
    "spam": ("刷单", "兼职日结", "日赚", "躺赚", "网赚", "稳赚不赔", "贷款秒批", "无抵押贷款", "彩票内幕",
             "make money fast", "work from home", "get rich quick", "earn money online"),
    "abuse": ("傻逼", "操你妈", "王八蛋", "脑残", "去死吧", "贱人", "fuck", "fucking", "shit", "bitch",
              "asshole", "motherfucker", "retard"),
    "contraband": ("毒品", "冰毒", "海洛因", "大麻", "摇头丸", "枪支", "仿真枪", "迷药", "假钞", "代开发票",
                   "cocaine", "heroin", "methamphetamine", "buy guns", "counterfeit money", "fake passport"),
    "politics": ("颠覆国家政权", "分裂国家", "邪教", "反动标语", "overthrow the government"),
    "porn": ("色情", "约炮", "裸聊", "一夜情", "黄片", "成人视频", "porn", "xxx", "nude pics", "sex video",
             "escort service"),
    "terrorism": ("恐怖袭击", "圣战", "自杀式袭击", "斩首", "人体炸弹", "基地组织", "jihad", "suicide bombing",
                  "beheading", "terrorist attack", "isis", "al-qaeda", "bomb making"),
}
# How strongly a default-list word speaks for its label (custom words use CUSTOM_SCORE).
LABEL_SCORES = {"abuse": 95.0, "contraband": 95.0, "porn": 95.0, "terrorism": 95.0, "spam": 92.0,
                "ad": 75.0, "politics": 80.0}
CUSTOM_SCORE = 99.0  # an account's own banned word

# Contact details and links: the ad label.
_URL = re.compile(r"(?i)(?:https?://|www\.)[^\s，。]+|\b[a-z0-9][a-z0-9-]{1,62}\.(?:com|cn|net|org|top|xyz|vip|cc|io|"
                  r"shop|site|club|info|biz|me|tv)(?:/[^\s，。]*)?\b")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)|(?<!\d)\d{3,4}-\d{7,8}(?!\d)|"
                    r"(?<![\w])\+\d{1,3}[ -]?\d{2,4}(?:[ -]?\d{3,4}){2}(?!\d)")
_WECHAT = re.compile(r"(?i)(?:微信|薇信|威信|vx|v信|wx|weixin|wechat)\s*(?:号)?\s*[:：]?\s*[a-z][-_a-z0-9]{5,19}")
_QQ = re.compile(r"(?i)(?:qq|扣扣|企鹅)\s*(?:号|群)?\s*[:：]?\s*[1-9]\d{4,10}")
CONTACT_SCORES = {"url": 85.0, "phone": 85.0, "wechat": 90.0, "qq": 90.0}
COMBINED_AD_SCORE = 95.0  # a contact detail together with a promotional phrase, or two kinds of contact

_CJK = re.compile(r"[\u3400-\u9fff]")
_REPEAT = re.compile(r"(.)\1{7,}")  # the same character 8+ times


@dataclass(frozen=True)
class Hit:
    """One reason a text got its label."""

    label: str
    score: float
    evidence: str  # the word or the matched text
    source: str  # default | custom | pattern:<kind> | flood


@dataclass
class TextVerdict:
    """The label of one text (the highest-scoring hit) and every hit."""

    label: str = "normal"
    score: float = 0.0
    hits: list[Hit] = field(default_factory=list)

    @property
    def normal(self) -> bool:
        return self.label == "normal"


@dataclass(frozen=True)
class Word:
    word: str
    label: str
    custom: bool = False


_jieba_lock = threading.Lock()
_jieba = None
_jieba_words: set[str] = set()


def _tokenizer(words: Iterable[str]):  # type: ignore[no-untyped-def]
    """jieba's tokenizer with the library's CJK words added (so they stay whole)."""
    global _jieba
    with _jieba_lock:
        if _jieba is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            _jieba = tok
        for w in words:
            if w not in _jieba_words and _CJK.search(w):
                _jieba.add_word(w, freq=2000)
                _jieba_words.add(w)
        return _jieba


def _boundaries(text: str, words: Iterable[str]) -> set[int]:
    """Character offsets where jieba puts a token boundary."""
    tok = _tokenizer(words)
    out = {0}
    pos = 0
    for piece in tok.cut(text, HMM=True):
        pos += len(piece)
        out.add(pos)
    return out


class TextModerator:
    """Labels texts with a word library (default words plus custom ones) and the contact patterns."""

    def __init__(self, custom: Iterable[tuple[str, str]] = (), *, use_defaults: bool = True):
        words: list[Word] = []
        if use_defaults:
            words += [Word(w, label) for label, ws in DEFAULT_WORDS.items() for w in ws]
        words += [Word(w.strip(), label, True) for w, label in custom if w.strip()]
        self.words = words
        self._ascii = [(w, re.compile(r"(?<![a-z0-9])" + re.escape(w.word.lower()) + r"(?![a-z0-9])"))
                       for w in words if not _CJK.search(w.word)]
        self._cjk = [w for w in words if _CJK.search(w.word)]

    def classify(self, text: str) -> TextVerdict:
        text = (text or "").strip()
        v = TextVerdict()
        if not text:
            return v
        low = text.lower()
        hits: list[Hit] = []
        for w, rx in self._ascii:
            if rx.search(low):
                hits.append(self._word_hit(w))
        if self._cjk and _CJK.search(text):
            bounds: set[int] | None = None
            for w in self._cjk:
                start = low.find(w.word.lower())
                while start >= 0:
                    if bounds is None:
                        bounds = _boundaries(text, (x.word for x in self._cjk))
                    if start in bounds and start + len(w.word) in bounds:
                        hits.append(self._word_hit(w))
                        break
                    start = low.find(w.word.lower(), start + 1)
        kinds = []
        for kind, rx in (("url", _URL), ("phone", _PHONE), ("wechat", _WECHAT), ("qq", _QQ)):
            m = rx.search(text)
            if m:
                kinds.append(kind)
                hits.append(Hit("ad", CONTACT_SCORES[kind], m.group(0), f"pattern:{kind}"))
        promo = any(h.label == "ad" and not h.source.startswith("pattern") for h in hits)
        if kinds and (promo or len(set(kinds)) > 1):
            hits.append(Hit("ad", COMBINED_AD_SCORE, ", ".join(kinds), "pattern:combined"))
        flood = flood_score(text)
        if flood:
            hits.append(Hit("flood", flood, text[:40], "flood"))
        if hits:
            best = max(hits, key=lambda h: h.score)
            v.label, v.score = best.label, best.score
            v.hits = sorted(hits, key=lambda h: -h.score)
        return v

    @staticmethod
    def _word_hit(w: Word) -> Hit:
        score = CUSTOM_SCORE if w.custom else LABEL_SCORES.get(w.label, 90.0)
        return Hit(w.label, score, w.word, "custom" if w.custom else "default")


def flood_score(text: str) -> float:
    """Repetition that carries no message: a character run, or one token making most of a long text."""
    if _REPEAT.search(text):
        return 92.0
    tokens = re.findall(r"\w+", text.lower()) if not _CJK.search(text) else list(text.replace(" ", ""))
    if len(tokens) >= 10:
        top = Counter(tokens).most_common(1)[0][1]
        if top / len(tokens) >= 0.6:
            return 90.0
    return 0.0
