"""Open-vocabulary image labels with a CLIP-style model exported to ONNX, loaded from a local folder.

Folder layout (either form)::

    <folder>/visual.onnx        or  <folder>/visual/model.onnx     image -> embedding
    <folder>/textual.onnx       or  <folder>/textual/model.onnx    token ids -> embedding
    <folder>/tokenizer.json     or  <folder>/textual/tokenizer.json  (Hugging Face ``tokenizers`` format)
    <folder>/config.json        (optional) {"name", "version", "image_size": 224,
                                 "mean": [...], "std": [...], "context_length": 77,
                                 "pad_id": 0, "logit_scale": 100.0, "prompt": "a photo of {}."}

The visual model takes ``float32 [N, 3, S, S]`` (RGB, resized and centre-cropped to S, scaled to
0-1, then normalised with ``mean``/``std``) and the text model ``int64 [N, L]`` token ids (plus an
``attention_mask`` input if the graph has one). Both return one embedding per row (the first
output). Labels are scored by softmax over ``logit_scale`` x cosine similarity, as CLIP does.
This is the layout of OpenAI CLIP / open_clip models exported with separate vision and text towers
(Immich's machine-learning models use the ``visual/`` + ``textual/`` form).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from openvod.models.cache import ModelCache, ModelSpec, ModelUnavailable

# Used when TagSettings.clip_labels is empty: what a media library is usually searched for.
DEFAULT_LABELS = (
    "person", "crowd", "child", "face", "cat", "dog", "bird", "horse", "animal", "car", "bus", "truck",
    "bicycle", "motorcycle", "train", "airplane", "boat", "street", "city", "building", "house", "road",
    "bridge", "beach", "sea", "mountain", "forest", "sky", "snow", "river", "garden", "flower", "food",
    "drink", "kitchen", "restaurant", "office", "classroom", "stage", "concert", "sports field",
    "football", "basketball", "swimming pool", "gym", "computer", "phone", "screen", "text", "document",
    "chart", "map", "logo", "cartoon", "video game", "night", "fire", "rain", "desert", "space", "rocket",
)


def _first(folder: Path, *names: str) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


@dataclass
class ClipFiles:
    """The files of a CLIP-style ONNX model folder."""

    visual: Path
    textual: Path
    tokenizer: Path
    config: dict[str, Any]

    @classmethod
    def find(cls, folder: Path) -> ClipFiles:
        if not folder.is_dir():
            raise ModelUnavailable(f"CLIP model folder {folder} does not exist.")
        visual = _first(folder, "visual.onnx", "visual/model.onnx")
        textual = _first(folder, "textual.onnx", "textual/model.onnx")
        tok = _first(folder, "tokenizer.json", "textual/tokenizer.json")
        missing = [n for n, p in (("visual.onnx", visual), ("textual.onnx", textual), ("tokenizer.json", tok)) if p is None]
        if missing:
            raise ModelUnavailable(f"CLIP model folder {folder} lacks {', '.join(missing)}.")
        cfg_path = _first(folder, "config.json")
        cfg = json.loads(cfg_path.read_text()) if cfg_path else {}
        assert visual and textual and tok
        return cls(visual, textual, tok, cfg)

    def version(self) -> str:
        h = hashlib.sha1()
        for p in (self.visual, self.textual, self.tokenizer):
            st = p.stat()
            h.update(f"{p.name}:{st.st_size}".encode())
        return str(self.config.get("version") or h.hexdigest()[:12])


class ClipLabeler:
    """Scores images against text labels with a local CLIP-style ONNX model."""

    def __init__(self, folder: str, labels: tuple[str, ...], cache: ModelCache, threads: int = 1):
        self.folder = Path(folder).expanduser()
        self.labels = labels or DEFAULT_LABELS
        self.cache = cache
        self.threads = threads

    def spec(self) -> ModelSpec:
        files = ClipFiles.find(self.folder)
        name = str(files.config.get("name") or f"clip:{self.folder.name}")
        return ModelSpec.of(name, files.version(), str(self.folder), threads=self.threads, labels=self.labels)

    def _load(self) -> dict[str, Any]:
        if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("tokenizers") is None:
            raise ModelUnavailable("The CLIP backend needs onnxruntime and tokenizers (pip install 'openvod[tag]').")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        files = ClipFiles.find(self.folder)
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        visual = ort.InferenceSession(str(files.visual), so, providers=["CPUExecutionProvider"])
        textual = ort.InferenceSession(str(files.textual), so, providers=["CPUExecutionProvider"])
        tok = Tokenizer.from_file(str(files.tokenizer))
        cfg = files.config
        prompt = str(cfg.get("prompt", "a photo of {}."))
        text_emb = self._encode_text(textual, tok, [prompt.format(label) for label in self.labels], cfg)
        return {"visual": visual, "text": text_emb, "config": cfg}

    @staticmethod
    def _encode_text(sess: Any, tok: Any, texts: list[str], cfg: dict[str, Any]) -> np.ndarray:
        length = int(cfg.get("context_length", 77))
        pad = int(cfg.get("pad_id", 0))
        ids = np.full((len(texts), length), pad, dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.int64)
        for i, enc in enumerate(tok.encode_batch(texts)):
            row = enc.ids[:length]
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        names = [i.name for i in sess.get_inputs()]
        feed: dict[str, np.ndarray] = {names[0]: ids}
        if "attention_mask" in names:
            feed["attention_mask"] = mask
        emb = np.asarray(sess.run(None, feed)[0], dtype=np.float32)
        return emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-8)

    @staticmethod
    def preprocess(rgb: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
        from PIL import Image

        size = int(cfg.get("image_size", 224))
        mean = np.asarray(cfg.get("mean", [0.48145466, 0.4578275, 0.40821073]), np.float32)
        std = np.asarray(cfg.get("std", [0.26862954, 0.26130258, 0.27577711]), np.float32)
        img = Image.fromarray(rgb)
        s = size / min(img.size)
        img = img.resize((max(size, round(img.width * s)), max(size, round(img.height * s))), Image.Resampling.BICUBIC)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        arr = np.asarray(img.crop((left, top, left + size, top + size)), np.float32) / 255.0
        return ((arr - mean) / std).transpose(2, 0, 1)[None]

    def score(self, rgb: np.ndarray) -> list[tuple[str, float]]:
        """(label, probability) for every label, best first."""
        spec = self.spec()
        m = self.cache.get(spec, self._load)
        sess = m["visual"]
        x = self.preprocess(rgb, m["config"])
        emb = np.asarray(sess.run(None, {sess.get_inputs()[0].name: x})[0], dtype=np.float32)[0]
        emb = emb / (np.linalg.norm(emb) + 1e-8)
        logits = float(m["config"].get("logit_scale", 100.0)) * (m["text"] @ emb)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        order = np.argsort(-p)
        return [(self.labels[i], float(p[i])) for i in order]
