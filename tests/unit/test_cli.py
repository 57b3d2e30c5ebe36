"""The ``openvod`` command explains itself: help, --version, refusals with a reason, confirmations,
no silent creation of data folders or accounts, no traceback on a closed pipe."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from openvod.cli import build_parser, main
from tests.conftest import REPO, db_env, settings_db
from tests.media import make_video


def _sub_parsers(p: argparse.ArgumentParser, path: str = "openvod") -> list[tuple[str, argparse.ArgumentParser]]:
    out = [(path, p)]
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                out += _sub_parsers(sp, f"{path} {name}")
    return out


def test_every_option_has_help() -> None:
    missing = []
    for path, p in _sub_parsers(build_parser()):
        for a in p._actions:
            if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not a.help:
                missing.append(f"{path} {'/'.join(a.option_strings) or a.dest}")
    assert not missing, missing


def test_no_arguments_prints_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: openvod" in out and "serve" in out and "upload" in out
    with pytest.raises(SystemExit) as ei:
        main(["--version"])
    assert ei.value.code == 0 and capsys.readouterr().out.startswith("openvod 0.")


def test_missing_data_folder_is_refused_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENVOD_DATA_DIR", raising=False)
    for argv in (["keys", "list"], ["keys", "disable", "LTAIx"], ["upload", "x.mp4"], ["face", "list"],
                 ["tag", "export", "--media-id", "m"], ["dna", "groups"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "no data folder" in err and "--data-dir" in err, (argv, err)
    assert not (tmp_path / "openvod-data").exists()
    # keys create is how a data folder is made without starting the server
    assert main(["keys", "create", "--json"]) == 0
    assert (tmp_path / "openvod-data").is_dir() and "creating data folder" in capsys.readouterr().err


@pytest.fixture()
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    for k, v in db_env(d).items():  # PostgreSQL mode: the in-process CLI uses the folder's database
        monkeypatch.setenv(k, v)
    assert main(["keys", "create", "--data-dir", str(d), "--json"]) == 0
    capsys.readouterr()
    return d


def test_keys_list_shows_the_secret_again(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "list", "--data-dir", str(data), "--json"]) == 0
    keys = json.loads(capsys.readouterr().out)
    assert keys[0]["Account"] == "default" and len(keys[0]["AccessKeySecret"]) >= 20
    assert main(["keys", "list", "--data-dir", str(data)]) == 0
    assert keys[0]["AccessKeySecret"] in capsys.readouterr().out
    assert main(["keys", "list", "--data-dir", str(data), "--account", "nobody"]) == 2
    assert "no account named 'nobody'" in capsys.readouterr().err


def test_upload_refuses_unknown_account_and_missing_file(data: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=0.5)
    assert main(["upload", str(video), "--data-dir", str(data), "--account", "defualt"]) == 2
    err = capsys.readouterr().err
    assert "no account named 'defualt'" in err and "default" in err and "--create-account" in err
    assert main(["keys", "list", "--data-dir", str(data), "--account", "defualt"]) == 2  # not created
    capsys.readouterr()
    assert main(["upload", str(tmp_path / "missing.mp4"), "--data-dir", str(data)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["upload", str(tmp_path / "missing.mp4"), "--data-dir", str(data), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["Code"] == "InvalidFileURL.NotFound"
    assert main(["upload", str(video), "--data-dir", str(data), "--account", "fresh", "--create-account",
                 "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)[0]["MediaId"]) == 32


def test_face_name_accepts_the_shown_tag_and_confirms(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openvod.config import Settings
    from openvod.runtime import Runtime
    from openvod.store.tables import face_people

    rt = Runtime(Settings(data_dir=data, database_url=settings_db(data)))
    acc = rt.accounts.find_account("default")
    pid = "d9168ae4" + "0" * 24
    with rt.engine.begin() as conn:
        conn.execute(face_people.insert().values(
            id=pid, account_id=acc, name="", source="auto", backend="dlib",
            embedding=np.zeros(128, np.float32).tobytes(), created_at=time.time(), modified_at=time.time()))
    rt.close()
    assert main(["face", "name", "Unknown-d9168ae4", "Ada", "--data-dir", str(data)]) == 0
    assert "Unknown-d9168ae4 -> Ada" in capsys.readouterr().out
    assert main(["face", "list", "--data-dir", str(data), "--json"]) == 0
    assert [p["Name"] for p in json.loads(capsys.readouterr().out)] == ["Ada"]
    assert main(["face", "remove", "Ada", "--data-dir", str(data)]) == 0
    assert f"removed {pid}" in capsys.readouterr().out
    assert main(["face", "remove", "Ada", "--data-dir", str(data)]) == 1
    assert "no such person" in capsys.readouterr().err
    assert main(["face", "list", "--data-dir", str(data), "--account", "defualt"]) == 2


def test_closed_pipe_is_not_a_traceback(data: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    p = subprocess.Popen([sys.executable, "-m", "openvod.cli", "keys", "list", "--json", "--data-dir", str(data)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # like `| head` that has already exited
    err = p.stderr.read().decode()
    p.wait(60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_tag_run_prints_no_python_reprs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from openvod.analyzers.tag import engine
    from openvod.analyzers.tag.category import CategoryScore

    def fake_analyse(path, types, options, cache):  # type: ignore[no-untyped-def]
        # what analyse returns for a short clip (the analysis itself is tested in tests/analyzers)
        cat = CategoryScore("News", 0.8, 3.1, {"news": 2})
        return engine.TagResult(types, 1.0, (320, 240), categories=[cat], category_scores=[cat],
                                seconds={"category": 0.01, "total": 0.02})

    monkeypatch.setattr(engine, "analyse", fake_analyse)
    assert main(["tag", "run", str(tmp_path / "x.mp4"), "--types", "Category"]) == 0
    out = capsys.readouterr().out
    assert "Category  News  (0.8)" in out
    seconds = next(x for x in out.splitlines() if x.startswith("seconds: "))
    assert json.loads(seconds.removeprefix("seconds: ")) == {"category": 0.01, "total": 0.02}
    assert "{'" not in out and "'}" not in out
