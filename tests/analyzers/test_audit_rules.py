"""AIMediaAudit analyzers without a server: the porn mapping and its confirmation (fake detector),
the text rules, live rules, the never-a-silent-pass rule, and a smoke test of the real NudeNet model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.audit.media import QR, AuditClip, bars, render
from bench.tag.media import Shot
from openvod.analyzers.audit.engine import TextInputs, TimedText, decide, scan_video
from openvod.analyzers.audit.options import OptionsError, options_from_template, parse_thresholds
from openvod.analyzers.audit.text import TextModerator, flood_score
from openvod.analyzers.audit.visual import Detection, is_test_card, porn_label
from openvod.analyzers.audit.wire import build_detail, build_result
from tests.conftest import settings_db


class RedDetector:
    """Fake body-part detector: a strongly red frame 'shows' an exposed breast at 0.9."""

    name = "fake-red"

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        r, g = float(rgb[..., 0].mean()), float(rgb[..., 1].mean())
        self.calls.append(r)
        if r > 150 and g < 80:
            return [Detection("FEMALE_BREAST_EXPOSED", 0.9, (0, 0, 10, 10))]
        return [Detection("FACE_FEMALE", 0.8, (0, 0, 10, 10))]


def test_porn_label_mapping() -> None:
    assert porn_label([]) == ("normal", 100.0)
    assert porn_label([Detection("FACE_FEMALE", 0.9, (0, 0, 1, 1))]) == ("normal", 100.0)
    lab, s = porn_label([Detection("FEMALE_GENITALIA_EXPOSED", 0.7, (0, 0, 1, 1)),
                         Detection("FEMALE_BREAST_COVERED", 0.9, (0, 0, 1, 1))])
    assert lab == "porn" and s == pytest.approx(70.0)
    lab, s = porn_label([Detection("FEMALE_BREAST_COVERED", 0.8, (0, 0, 1, 1))])
    assert lab == "sexy" and s == pytest.approx(72.0)
    lab, s = porn_label([Detection("BUTTOCKS_EXPOSED", 0.3, (0, 0, 1, 1))])  # weak cue: normal, less sure
    assert lab == "normal" and s == pytest.approx(100 - 25.5)


def _red_clip(tmp_path: Path, shots: list[Shot]) -> Path:
    p = tmp_path / "v.mp4"
    render(AuditClip(duration=8, fps=10, shots=shots, audio=False), p)
    return p


def test_confirmed_hit_blocks_and_flash_only_reviews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.tag.media as bm

    orig = bm._background

    def bg(shot, t, w, h, cache):  # type: ignore[no-untyped-def]
        if shot.kind == "red":
            img = np.zeros((h, w, 3), np.uint8)
            img[..., 0] = 220
            return img
        return orig(shot, t, w, h, cache)

    monkeypatch.setattr("bench.audit.media._background", bg)
    o = options_from_template({"AuditItem": ["porn"], "AuditRange": ["video"]})
    # a 3 s stretch: base hits confirmed by the frames around them -> block
    det = RedDetector()
    scan = scan_video(_red_clip(tmp_path, [Shot(0, 3, "gradient", 1), Shot(3, 6, "red"), Shot(6, 8, "gradient", 2)]),
                      o, det)
    rep = decide(scan, TextInputs(), o, TextModerator())
    v = rep.scenes["porn"]
    assert v.suggestion == "block" and v.label == "porn" and rep.suggestion == "block"
    times = sorted(f.t for f in v.findings)
    assert 2.7 <= times[0] <= 3.1 and times[-1] < 6.1, times
    assert scan.dense_frames > 0 and len(det.calls) > len(scan.samples)  # the confirmation rate kicked in
    assert all(f.confirmed for f in v.findings if 3.5 < f.t < 5.5)
    # a 0.3 s flash on one base frame: too few frames agree -> capped under block -> review
    det = RedDetector()
    tmp2 = tmp_path / "b"
    tmp2.mkdir()
    scan = scan_video(_red_clip(tmp2, [Shot(0, 4, "gradient", 1), Shot(4, 4.3, "red"), Shot(4.3, 8, "gradient", 1)]),
                      o, det)
    v = decide(scan, TextInputs(), o, TextModerator()).scenes["porn"]
    assert v.suggestion == "review" and v.max_score < 80, [(f.t, f.score, f.confirmed) for f in v.findings]


def test_text_rules() -> None:
    mod = TextModerator([("moonshine", "contraband"), ("香蕉船", "contraband")])
    assert mod.classify("buy MOONSHINE today").label == "contraband"
    assert mod.classify("moonshiner").label == "normal"  # whole words only
    assert mod.classify("这里卖大麻").label == "contraband"
    assert mod.classify("他遇到了大麻烦").label == "normal"  # jieba: 大麻 is not a word here
    v = mod.classify("加微信 abc12345 领取优惠券")
    assert v.label == "ad" and v.score >= 95
    assert mod.classify("see www.example.com").hits[0].source == "pattern:url"
    assert mod.classify("热线 13812345678").label == "ad"
    assert mod.classify("QQ群:123456789").label == "ad"
    assert mod.classify("you are an idiot, fuck off").label == "abuse"
    assert mod.classify("今天天气很好，我们去公园散步。").normal
    assert flood_score("顶顶顶顶顶顶顶顶顶顶") > 0 and flood_score("a normal sentence with words") == 0


def test_live_rules_on_frames() -> None:
    assert is_test_card(bars(640, 360))
    rng = np.random.default_rng(0)
    assert not is_test_card(rng.integers(0, 255, (360, 640, 3), dtype=np.uint8))
    assert not is_test_card(np.full((360, 640, 3), 128, np.uint8))


def test_unchecked_scenes_never_pass(tmp_path: Path) -> None:
    p = tmp_path / "c.mp4"
    render(AuditClip(duration=4, shots=[Shot(0, 4, "motion", 3)], qrs=[QR("hello", 1, 3)], audio=False), p)
    o = options_from_template({"AuditItem": ["terrorism", "logo", "ad", "audio"], "AuditRange": ["video"]})
    scan = scan_video(p, o, None)
    rep = decide(scan, TextInputs(ocr_missing="OCR off", asr_missing="ASR off"), o, TextModerator())
    assert rep.scenes["terrorism"].suggestion == "review" and "No offline model" in rep.scenes["terrorism"].reason
    assert rep.scenes["logo"].suggestion == "review"
    assert rep.scenes["ad"].suggestion == "block"  # the QR code decides it; the missing OCR is still named
    assert "not read" in rep.scenes["ad"].reason
    assert rep.audio_verdict[0] == "review"
    # with text available, TV names and terrorism words in OCR are found with their time
    rep = decide(scan, TextInputs(ocr=[TimedText(2.0, 3.0, "CCTV-1 live", "ocr"),
                                       TimedText(3.0, 3.5, "join the jihad", "ocr")], asr_missing="ASR off"),
                 o, TextModerator())
    assert rep.scenes["logo"].label == "TV" and rep.scenes["logo"].top[0].t == 2.0
    assert rep.scenes["terrorism"].suggestion == "block" and rep.scenes["terrorism"].top[0].t == 3.0
    data = build_result(rep, {})
    assert data["VideoResult"]["TerrorismResult"]["Reason"] and data["Reasons"]
    assert build_detail(rep, {})["Timeline"]["Logo"][0]["Timestamp"] == "2000"


def test_thresholds_validation() -> None:
    assert parse_thresholds({"porn": {"Block": 70}}) == {"porn": {"Block": 70.0, "Review": 50.0}}
    for bad in ({"nope": {}}, {"porn": {"Block": 101}}, {"porn": {"Block": 40, "Review": 60}}, []):
        with pytest.raises(OptionsError):
            parse_thresholds(bad)


def test_real_nudenet_model_smoke() -> None:
    """The shipped NudeNet model loads on onnxruntime and sees the astronaut's face (a clean photo):
    label normal. No image that the model flags is shipped with the tests (docs/audit.md)."""
    pytest.importorskip("nudenet")
    skimage_data = pytest.importorskip("skimage.data")
    from openvod.analyzers.audit.visual import NudeNetDetector, nudenet_model_path

    path = nudenet_model_path()
    assert path is not None
    det = NudeNetDetector(path)
    found = det(skimage_data.astronaut())
    assert any(d.label == "FACE_FEMALE" and d.score > 0.5 for d in found), found
    assert porn_label(found)[0] == "normal"
    assert porn_label(det(np.zeros((360, 640, 3), np.uint8)))[0] == "normal"


def test_word_library_service(tmp_path: Path) -> None:
    from openvod.config import Settings
    from openvod.errors import InvalidParameter
    from openvod.runtime import Runtime

    rt = Runtime(Settings(data_dir=tmp_path / "d", database_url=settings_db(tmp_path / "d"), plugins=[]))
    try:
        a = rt.accounts.ensure_account("a")
        b = rt.accounts.ensure_account("b")
        assert rt.audit.add_words(a, "abuse", ["meanie", "meanie", " dummy  word "]) == 2
        assert rt.audit.add_words(a, "abuse", ["meanie"]) == 0
        assert rt.audit.custom_words(a) == [("dummy word", "abuse"), ("meanie", "abuse")]
        assert rt.audit.custom_words(b) == []
        assert rt.audit.remove_words(a, "abuse", ["meanie"]) == 1
        assert rt.audit.custom_words(a) == [("dummy word", "abuse")]
        with pytest.raises(InvalidParameter):
            rt.audit.add_words(a, "nonsense", ["x"])
    finally:
        rt.close()


def test_picture_in_picture(tmp_path: Path) -> None:
    from bench.audit.media import Inset

    o = options_from_template({"AuditItem": ["live"], "AuditRange": ["video"]})
    p = tmp_path / "pip.mp4"
    render(AuditClip(10, 480, 270, shots=[Shot(0, 10, "gradient", 3)], audio=False, grain=4,
                     insets=[Inset(1, 9, 0.05, 0.05, 0.3, 0.3, seed=2, border=2)]), p)
    v = decide(scan_video(p, o, None), TextInputs(), o, TextModerator()).scenes["live"]
    assert v.label == "PIP" and v.suggestion == "review", v
    times = [f.t for f in v.findings]
    assert min(times) <= 2.1 and max(times) >= 7.9, times
    # static drawn squares (the gradient background has many) are not pictures in a picture
    p = tmp_path / "static.mp4"
    render(AuditClip(10, 480, 270, shots=[Shot(0, 10, "gradient", 7)], audio=False, grain=5), p)
    assert decide(scan_video(p, o, None), TextInputs(), o, TextModerator()).scenes["live"].suggestion == "pass"


def test_cover_image_checks() -> None:
    from bench.audit.media import qr_image
    from openvod.analyzers.audit.engine import audit_image

    o = options_from_template({"AuditItem": ["porn", "ad", "live", "logo"], "AuditRange": ["image-cover"]})
    img = np.full((360, 640, 3), 90, np.uint8)
    img[:, :320] = 180
    img[40:200, 400:560] = qr_image("https://promo.example.com", 160)
    res = {r["Scene"]: r for r in audit_image(img, o, RedDetector(), texts=["Hello"], mod=TextModerator())}
    assert res["ad"]["Label"] == "qrcode" and res["ad"]["Suggestion"] == "block"
    assert res["porn"]["Suggestion"] == "pass" and res["live"]["Suggestion"] == "pass"
    assert res["logo"]["Suggestion"] == "review" and res["logo"]["Reason"]
    res = {r["Scene"]: r for r in audit_image(bars(640, 360), o, RedDetector(), texts=[], mod=TextModerator())}
    assert res["live"]["Label"] == "meaningless" and res["ad"]["Suggestion"] == "pass"
    res = {r["Scene"]: r for r in audit_image(img[:, :300], o, None, texts=None)}
    assert res["porn"]["Suggestion"] == "review" and "not read" in res["ad"]["Reason"]
    res = {r["Scene"]: r for r in audit_image(img[:, :300], o, None, texts=["加微信 abc12345 领取优惠券"],
                                              mod=TextModerator())}
    assert res["ad"]["Label"] == "ad" and res["ad"]["Suggestion"] == "block"


def test_audit_security_ip_matching_and_forwarded_for() -> None:
    from openvod.services.audit_ips import client_address, in_networks

    assert in_networks("10.23.12.99", ["10.23.12.24/24"]) and not in_networks("10.23.13.1", ["10.23.12.24/24"])
    assert in_networks("::ffff:192.168.0.7", ["192.168.0.7"])  # a dual-stack socket's form of an IPv4 peer
    assert not in_networks("", ["0.0.0.0/1"]) and not in_networks("junk", ["10.0.0.0/8"])
    # X-Forwarded-For counts only when the peer is a trusted proxy; rightmost untrusted hop wins
    assert client_address("203.0.113.5", ["10.0.0.1"], []) == "203.0.113.5"
    assert client_address("203.0.113.5", ["10.0.0.1"], ["127.0.0.1"]) == "203.0.113.5"
    assert client_address("127.0.0.1", ["1.2.3.4, 10.0.0.1, 172.16.0.2"], ["127.0.0.1", "172.16.0.0/12"]) == "10.0.0.1"
    assert client_address("127.0.0.1", ["not-an-ip"], ["127.0.0.1"]) == "127.0.0.1"
    assert client_address("127.0.0.1", [], ["127.0.0.1"]) == "127.0.0.1"


def test_round_mini_program_code_is_located_and_reviewed_never_passed() -> None:
    import cv2

    from bench.audit.media import sun_code
    from openvod.analyzers.audit.image import audit_image
    from openvod.analyzers.audit.options import options_from_template
    from openvod.analyzers.audit.suncode import find_sun_code

    frame = np.full((360, 640, 3), (90, 120, 160), np.uint8)
    frame[40:280, 360:600] = sun_code(240, seed=4)
    found = find_sun_code(frame)
    assert found is not None and abs(found.x - 480) < 30 and abs(found.y - 160) < 30, found
    # a spoked wheel (spokes continue across radii), a clock face and a plain photo are not codes
    wheel = np.full((360, 640, 3), 255, np.uint8)
    cv2.circle(wheel, (320, 180), 150, (0, 0, 0), 6)
    for k in range(36):
        a = 2 * np.pi * k / 36
        cv2.line(wheel, (320, 180), (int(320 + 150 * np.cos(a)), int(180 + 150 * np.sin(a))), (0, 0, 0), 3)
    clock = np.full((360, 640, 3), 255, np.uint8)
    cv2.circle(clock, (320, 180), 150, (0, 0, 0), 4)
    for k in range(60):
        a = 2 * np.pi * k / 60
        cv2.line(clock, (int(320 + 130 * np.cos(a)), int(180 + 130 * np.sin(a))),
                 (int(320 + 145 * np.cos(a)), int(180 + 145 * np.sin(a))), (0, 0, 0), 3)
    from skimage import data

    for neg in (wheel, clock, np.ascontiguousarray(data.astronaut()), np.ascontiguousarray(data.coffee())):
        assert find_sun_code(neg) is None
    o = options_from_template({"AuditItem": ["ad"], "AuditRange": ["video"]})
    ad = audit_image(frame, o, None, texts=[])[0]
    assert (ad["Label"], ad["Suggestion"]) == ("programCode", "review") and "cannot be decoded" in ad["Reason"]


def test_top_label_ranks_categories_and_is_normal_only_on_pass() -> None:
    from openvod.analyzers.audit.engine import top_label

    assert top_label([("porn", "pass", 10.0), ("audio", "pass", 0.0)]) == "normal"
    assert top_label([("ad", "block", 95.0)]) == "ad"  # e.g. a flagged title alone
    # block before review, then the higher score; a category once
    assert top_label([("live", "review", 70.0), ("audio", "block", 92.0), ("ad", "block", 99.0),
                      ("ad", "review", 85.0)]) == "ad,audio,live"


@pytest.mark.parametrize("motion_seed,sun,crf,grain", [
    (3784, (1.87, 4.83, 0.38, 0.36, 0.45, 100), 28, 0),  # the plate outlined whole
    (871, (3.32, 7.12, 0.36, 0.15, 0.37, 959), 23, 0),   # a box inside the plate
    (6111, (0.63, 4.06, 0.19, 0.11, 0.54, 966), 28, 6),  # located radius an inner ring's: code mid-box
])
def test_code_plate_over_motion_is_not_an_inset(tmp_path: Path, motion_seed: int, sun: tuple, crf: int,
                                                grain: int) -> None:
    """The white plate of a large mini-program code over a moving background outlines a box whose border
    strip changes; it was taken for a picture in the picture. Boxes that are a located code's plate (or
    part of it) are not inset candidates; the code itself is still ad/programCode."""
    from bench.audit.media import Sun

    o = options_from_template({"AuditItem": ["ad", "live"], "AuditRange": ["video"]})
    p = tmp_path / "sun.mp4"
    render(AuditClip(8, 480, 270, shots=[Shot(0, 8, "motion", motion_seed)], audio=False, crf=crf, grain=grain,
                     suns=[Sun(*sun)]), p)
    rep = decide(scan_video(p, o, None), TextInputs(), o, TextModerator())
    assert rep.scenes["ad"].label == "programCode" and rep.scenes["ad"].suggestion == "review"
    assert rep.scenes["live"].suggestion == "pass", [(f.t, f.label, f.evidence) for f in rep.scenes["live"].findings]


def test_within_code_region_or_centred() -> None:
    from openvod.analyzers.audit.live import _within_code

    plate = (300, 200, 300, 500)
    assert _within_code((320, 220, 200, 150), [plate])  # inside the plate region
    assert _within_code((250, 150, 400, 600), [plate])  # larger, the code in its middle
    assert not _within_code((0, 0, 400, 400), [plate])  # an inset elsewhere, overlapping the code's corner
    assert not _within_code((320, 220, 200, 150), [])
