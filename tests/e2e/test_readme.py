"""A scripted newcomer follows the README's quick start literally.

The quick start's shell block is read for the setting that allows a media folder and for the
``serve.sh`` arguments; the server is started the way ``serve.sh`` starts it (in the checkout) on a
fresh data folder; the AccessKey pair is taken from what the first start prints; the README's Python
block is run with only its placeholders filled in (key pair, endpoint port, the video's path): a
generated video in a folder outside the checkout, allowed only through the documented setting; the
script polls the job to the end and reads Data. Then the keys are shown again as documented, and a
file outside the allowed folder is refused with the reason the README describes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import REPO, Key, free_port
from tests.media import make_video
from tests.sdk import v1_request


def _section(readme: str, title: str) -> str:
    start = readme.index(f"## {title}")
    nxt = readme.find("\n## ", start + 3)
    return readme[start: nxt if nxt > 0 else None]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env, cwd=REPO)


def test_readme_quick_start_as_a_newcomer(tmp_path: Path) -> None:
    assert not str(tmp_path).startswith(str(REPO))
    quick = _section((REPO / "README.md").read_text(), "Quick start")
    shell = _blocks(quick, "sh")
    videos, data = tmp_path / "videos", tmp_path / "data"
    videos.mkdir()
    video = make_video(videos / "movie.mp4", seconds=2.0, seed=21)

    # --- 1. the server, as the README starts it
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVOD_")}
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    env["OPENVOD_ENGINE__WORKERS"] = "1"
    serve_args: list[str] | None = None
    for line in shell[0].splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            name, value = words[1].split("=", 1)
            env[name] = value.replace("/path/to/videos", str(videos))
        elif words[:1] == ["./scripts/serve.sh"]:
            serve_args = words[1:]
    assert "OPENVOD_MEDIA__ALLOWED_ROOTS" in env and serve_args is not None, shell[0]
    assert json.loads(env["OPENVOD_MEDIA__ALLOWED_ROOTS"]) == [str(videos)]
    serve_args = [str(data) if a == "./openvod-data" else a for a in serve_args]
    assert str(data) in serve_args, "the quick start names its data folder"
    port = free_port()
    log = tmp_path / "server.log"
    proc = _start([sys.executable, "-m", "openvod.cli", "serve", *serve_args, "--port", str(port)], env, log)
    try:
        pair: dict[str, str] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not pair:
            assert proc.poll() is None, log.read_text()
            for line in log.read_text().splitlines():
                if line.startswith("{") and "AccessKeySecret" in line:
                    pair = json.loads(line)  # "prints it as JSON" on first start
            time.sleep(0.2)
        assert pair, log.read_text()
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert f"endpoint 127.0.0.1:{port}" in log.read_text()

        # --- 2. the SDK packages the README names are real and importable
        for cmd in shell[1].splitlines():
            words = shlex.split(cmd, comments=True)
            if words[:2] == ["pip", "install"]:
                for pkg in words[2:]:
                    assert metadata.version(pkg), pkg

        # --- 3. the Python quick start, placeholders filled in
        code = _blocks(quick, "python")[0]
        for placeholder, value in {'"YOUR_ACCESS_KEY_ID"': repr(pair["AccessKeyId"]),
                                   '"YOUR_ACCESS_KEY_SECRET"': repr(pair["AccessKeySecret"]),
                                   '"127.0.0.1:8080"': repr(f"127.0.0.1:{port}"),
                                   '"/path/to/videos/movie.mp4"': repr(str(video))}.items():
            assert placeholder in code, placeholder
            code = code.replace(placeholder, value)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240, cwd=tmp_path)
        assert r.returncode == 0, r.stderr + log.read_text()[-3000:]
        out = r.stdout.splitlines()
        assert out[0] == "success 0 OK", r.stdout
        assert out[1] == "0 library videos copied by this one", r.stdout

        # --- 4. "keys list shows the keys again"
        keys = subprocess.run([sys.executable, "-m", "openvod.cli", "keys", "list", "--data-dir", str(data)],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        assert keys.returncode == 0 and pair["AccessKeyId"] in keys.stdout and pair["AccessKeySecret"] in keys.stdout

        # --- 5. a folder that was not allowed is refused, and the reason says what to set
        (tmp_path / "elsewhere").mkdir()
        elsewhere = make_video(tmp_path / "elsewhere" / "movie.mp4", seconds=1.0, seed=22)
        k: Any = Key(pair["AccessKeyId"], pair["AccessKeySecret"])
        body = v1_request(f"http://127.0.0.1:{port}", k, "RegisterMedia", {"RegisterMetadatas": json.dumps(
            [{"FileURL": str(elsewhere), "Title": "elsewhere"}])}).json()
        assert body["FailedFileURLs"] == [str(elsewhere)]
        reason = body["FailedFileURLReasons"][0]
        assert reason["Code"] == "InvalidFileURL.Forbidden" and "OPENVOD_MEDIA__ALLOWED_ROOTS" in reason["Message"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
