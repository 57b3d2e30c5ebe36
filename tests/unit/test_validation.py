"""Input validation and small building blocks: AI job Config, UserData, template configs, the SSRF
guard, settings precedence, signed blob URLs and blob keys."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from openvod.config import load_settings
from openvod.domain import userdata
from openvod.errors import InvalidParameter
from openvod.net import UnsafeTarget, check_http_target
from openvod.domain.options import ANALYSE_TYPES
from openvod.services.ai_jobs import normalise_config
from openvod.services.templates import validate_config
from openvod.storage.blobs import BlobKeyError, LocalBlobStore
from openvod.storage.urls import UrlSigner
from openvod.util import loads

ALL_TYPES = ["Face", "ASR", "OCR", "Category", "Annotation"]


# ---------------------------------------------------------------------------------------------- Config
def _refused(raw: str, types: list[str]) -> str:
    with pytest.raises(InvalidParameter) as ei:
        normalise_config(raw, types)
    assert ei.value.code == "InvalidParameter" and ei.value.http_status == 400
    assert ei.value.param == "Config"
    return ei.value.message


def test_config_default_is_all_five_types() -> None:
    assert list(ANALYSE_TYPES) == ALL_TYPES
    out = normalise_config("", ["AIVideoTag"])
    assert out == {"AIVideoTag": {"AnalyseTypes": ALL_TYPES, "OrigASRData": False}}
    assert normalise_config("{}", ["AIVideoTag"])["AIVideoTag"]["AnalyseTypes"] == ALL_TYPES
    assert normalise_config('{"AIVideoTag":{}}', ["AIVideoTag"])["AIVideoTag"]["AnalyseTypes"] == ALL_TYPES


@pytest.mark.parametrize("key", ["AIVideoTag", "AIVideoTagConfig"])
def test_config_both_spellings(key: str) -> None:
    raw = json.dumps({key: {"AnalyseTypes": "Face,ASR", "OrigASRData": True}})
    assert normalise_config(raw, ["AIVideoTag"]) == {"AIVideoTag": {"AnalyseTypes": ["Face", "ASR"], "OrigASRData": True}}


def test_config_both_spellings_at_once_refused() -> None:
    msg = _refused('{"AIVideoTag":{"AnalyseTypes":"ASR"},"AIVideoTagConfig":{"AnalyseTypes":"OCR"}}', ["AIVideoTag"])
    assert "AIVideoTag" in msg and "AIVideoTagConfig" in msg
    _refused('{"AIMediaDNA":{},"AIMediaDNAConfig":{}}', ["AIMediaDNA"])


def test_config_values_case_insensitive_and_canonical_order() -> None:
    out = normalise_config('{"AIVideoTag":{"AnalyseTypes":" ocr , asr ,FACE,asr"}}', ["AIVideoTag"])
    assert out["AIVideoTag"]["AnalyseTypes"] == ["Face", "ASR", "OCR"]


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), ("TRUE", True), (False, False),
                                                  ("false", False)])
def test_config_orig_asr_data(value: object, expected: bool) -> None:
    raw = json.dumps({"AIVideoTag": {"AnalyseTypes": "ASR", "OrigASRData": value}})
    assert normalise_config(raw, ["AIVideoTag"])["AIVideoTag"]["OrigASRData"] is expected


@pytest.mark.parametrize("value", ["yes", 1, None, "1"])
def test_config_orig_asr_data_bad(value: object) -> None:
    assert "OrigASRData" in _refused(json.dumps({"AIVideoTag": {"OrigASRData": value}}), ["AIVideoTag"])


@pytest.mark.parametrize(
    "raw",
    [
        '{"Bogus":1}',
        '{"AIVideoTag":{"AnalyseTypes":"ASR","Speed":"fast"}}',
        '{"AIVideoTag":{"AnalyseTypes":"ASR,Smell"}}',
        '{"AIVideoTag":{"AnalyseTypes":""}}',
        '{"AIVideoTag":{"AnalyseTypes":" , "}}',
        '{"AIVideoTag":{"AnalyseTypes":["ASR"]}}',
        '{"AIVideoTag":"ASR"}',
        "[1,2]",
        '"str"',
        "{not json",
    ],
)
def test_config_refused(raw: str) -> None:
    _refused(raw, ["AIVideoTag"])


def test_config_unknown_analyse_type_named_in_message() -> None:
    assert "Smell" in _refused('{"AIVideoTag":{"AnalyseTypes":"ASR,Smell"}}', ["AIVideoTag"])


def test_config_dna_db_nested_or_top_level() -> None:
    assert normalise_config("", ["AIMediaDNA"]) == {"AIMediaDNA": {"DNADBId": "", "SearchOnly": False}}
    nested = normalise_config('{"AIMediaDNA":{"DNADBId":"db1"}}', ["AIMediaDNA"])
    assert nested["AIMediaDNA"]["DNADBId"] == "db1"
    legacy = normalise_config('{"AIMediaDNAConfig":{"DNADBId":"db3"}}', ["AIMediaDNA"])
    assert legacy["AIMediaDNA"]["DNADBId"] == "db3"
    top = normalise_config('{"DNADBId":"db2"}', ["AIMediaDNA"])
    assert top["AIMediaDNA"]["DNADBId"] == "db2"
    # the nested value wins over the top-level one
    both = normalise_config('{"DNADBId":"top","AIMediaDNA":{"DNADBId":"inner"}}', ["AIMediaDNA"])
    assert both["AIMediaDNA"]["DNADBId"] == "inner"


@pytest.mark.parametrize("raw", ['{"DNADBId":""}', '{"DNADBId":5}', '{"AIMediaDNA":{"DNADBId":"' + "x" * 65 + '"}}',
                                 '{"AIMediaDNA":{"Library":"x"}}'])
def test_config_dna_refused(raw: str) -> None:
    _refused(raw, ["AIMediaDNA"])


def test_config_two_types() -> None:
    out = normalise_config('{"AIVideoTagConfig":{"AnalyseTypes":"ASR"},"DNADBId":"d"}', ["AIVideoTag", "AIMediaDNA"])
    assert out["AIVideoTag"]["AnalyseTypes"] == ["ASR"] and out["AIMediaDNA"]["DNADBId"] == "d"


def test_config_lone_surrogate_refused() -> None:
    _refused('{"AIVideoTag":{"AnalyseTypes":"\\ud800"}}', ["AIVideoTag"])
    _refused('{"DNADBId":"\\udc00"}', ["AIMediaDNA"])


def test_strict_json_loads() -> None:
    assert loads('{"a":"\\u00e9\\ud83d\\ude00","b":[1]}') == {"a": "é😀", "b": [1]}  # valid pair: fine
    for raw in ('"\\ud800"', '{"\\udfff":1}', '["x","\\ud800y"]', "{bad"):
        with pytest.raises(ValueError):
            loads(raw)


# ---------------------------------------------------------------------------------------------- UserData
def _ud_refused(raw: str) -> str:
    with pytest.raises(InvalidParameter) as ei:
        userdata.parse(raw)
    assert ei.value.param == "UserData" and ei.value.http_status == 400
    return ei.value.message


def test_userdata_empty_is_none() -> None:
    assert userdata.parse("") is None
    assert userdata.callback_url("") is None and userdata.extend("") is None


def test_userdata_size_limit() -> None:
    ok = '{"Extend":"' + "x" * 499 + '"}'
    assert len(ok.encode()) == 512
    assert userdata.parse(ok) == {"Extend": "x" * 499}
    too_big = ok[:-2] + 'x"}'
    assert len(too_big.encode()) == 513
    assert "512" in _ud_refused(too_big)
    # bytes, not characters
    multi = '{"Extend":"' + "视" * 170 + '"}'
    assert len(multi) < 512 < len(multi.encode())
    _ud_refused(multi)


@pytest.mark.parametrize("raw", ["{not json", "[1]", '"x"', "42", "null", '{"Extend":"\\ud800"}'])
def test_userdata_must_be_object(raw: str) -> None:
    _ud_refused(raw)


def test_userdata_message_callback_object_form() -> None:
    raw = '{"MessageCallback":{"CallbackURL":"http://test.test.com/cb","CallbackType":"http"},"Extend":{"localId":"x"}}'
    obj = userdata.parse(raw)
    assert obj is not None and obj["MessageCallback"]["CallbackURL"] == "http://test.test.com/cb"
    assert userdata.callback_url(raw) == "http://test.test.com/cb"
    assert userdata.extend(raw) == '{"localId":"x"}'


def test_userdata_legacy_string_in_string_form() -> None:
    raw = json.dumps({"MessageCallback": '{"CallbackURL":"http://test.test.com"}',
                      "Extend": '{"localId":"xxx","test":"www"}'})
    assert userdata.parse(raw) is not None
    assert userdata.callback_url(raw) == "http://test.test.com"
    assert userdata.extend(raw) == '{"localId":"xxx","test":"www"}'


def test_userdata_extend_forms() -> None:
    assert userdata.extend('{"Extend":"test data"}') == "test data"
    assert userdata.extend('{"Extend":{"a":"视频","b":[1,2]}}') == '{"a":"视频","b":[1,2]}'
    assert userdata.extend('{"MessageCallback":{"CallbackURL":"http://a.b/"}}') is None
    assert userdata.callback_url('{"Extend":"x"}') is None


@pytest.mark.parametrize(
    "mc",
    [
        {"CallbackURL": "ftp://x.y/cb"},
        {"CallbackURL": "not a url"},
        {"CallbackURL": "http://"},
        {"CallbackURL": 5},
        {"Url": "http://a.b/"},
        {"CallbackURL": "http://a.b/", "CallbackType": "mns"},
        "just a string",
        ["http://a.b/"],
    ],
)
def test_userdata_bad_message_callback(mc: object) -> None:
    assert "MessageCallback" in _ud_refused(json.dumps({"MessageCallback": mc}))


# ---------------------------------------------------------------------------------------------- templates
def _tpl_refused(ttype: str, cfg: object) -> str:
    with pytest.raises(InvalidParameter) as ei:
        validate_config(ttype, cfg if isinstance(cfg, str) else json.dumps(cfg))
    assert ei.value.param == "TemplateConfig"
    return ei.value.message


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        ({"Format": "gif", "SetDefaultCover": "true"}, {"Format": "gif", "SetDefaultCover": "true"}),
        ({"Format": "PNG", "SetDefaultCover": "False"}, {"Format": "png", "SetDefaultCover": "false"}),
        ({"Format": "png", "SetDefaultCover": True}, {"Format": "png", "SetDefaultCover": "true"}),
        ({"Format": "gif", "SetDefaultCover": False}, {"Format": "gif", "SetDefaultCover": "false"}),
    ],
)
def test_ai_image_config_ok(cfg: dict, expected: dict) -> None:  # type: ignore[type-arg]
    out = validate_config("AIImage", json.dumps(cfg))
    assert json.loads(out) == expected
    assert " " not in out


@pytest.mark.parametrize(
    "cfg",
    [
        {"Format": "jpg", "SetDefaultCover": "true"},
        {"SetDefaultCover": "true"},
        {"Format": "gif"},
        {"Format": "gif", "SetDefaultCover": "yes"},
        {"Format": "gif", "SetDefaultCover": 1},
        {"Format": "gif", "SetDefaultCover": "true", "Quality": 9},
        {"Format": "gif", "SetDefaultCover": "true", "Count": 0},
        {"Format": "gif", "SetDefaultCover": "true", "Count": 11},
        "[]",
        "nope",
        '{"Format":"gif","SetDefaultCover":"true","\\ud800":1}',
    ],
)
def test_ai_image_config_refused(cfg: object) -> None:
    _tpl_refused("AIImage", cfg)


def test_ai_image_set_default_cover_required_message() -> None:
    assert "SetDefaultCover" in _tpl_refused("AIImage", {"Format": "png"})


def test_audit_config_ok() -> None:
    cfg = {"AuditItem": ["terrorism", "porn", "porn"], "AuditRange": ["image-cover", "text-title", "video"],
           "AuditContent": ["screen"], "AuditAutoBlock": "yes"}
    assert json.loads(validate_config("AIMediaAudit", json.dumps(cfg))) == {
        "AuditItem": ["terrorism", "porn"],
        "AuditRange": ["image-cover", "text-title", "video"],
        "AuditContent": ["screen"],
        "AuditAutoBlock": "yes",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"AuditItem": ["violence"]},
        {"AuditItem": []},
        {"AuditItem": "porn"},
        {"AuditRange": ["audio"]},
        {"AuditContent": ["sound"]},
        {"AuditAutoBlock": "true"},
        {"AuditAutoBlock": None},
        {"Extra": 1},
    ],
)
def test_audit_config_refused(change: dict) -> None:  # type: ignore[type-arg]
    cfg = {"AuditItem": ["porn"], "AuditRange": ["video"], "AuditContent": ["screen"], "AuditAutoBlock": "no", **change}
    _tpl_refused("AIMediaAudit", cfg)


# ---------------------------------------------------------------------------------------------- SSRF guard
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cb",
        "http://127.0.0.1:8080/cb",
        "https://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9000/x",
        "http://[::ffff:127.0.0.1]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://localhost/",
    ],
)
def test_check_http_target_refuses_private(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_http_target(url, allow_private=False)
    check_http_target(url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://8.8.8.8/x", "file:///etc/passwd", "gopher://8.8.8.8/", "http://", "8.8.8.8",
                                 "javascript:alert(1)"])
def test_check_http_target_refuses_non_http(url: str) -> None:
    for allow in (False, True):
        with pytest.raises(UnsafeTarget):
            check_http_target(url, allow_private=allow)


def test_check_http_target_public_ip_ok() -> None:
    check_http_target("http://8.8.8.8/cb", allow_private=False)
    check_http_target("https://[2001:4860:4860::8888]:443/cb", allow_private=False)


# ---------------------------------------------------------------------------------------------- settings
@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for k in list(os.environ):
        if k.startswith("OPENVOD_"):
            monkeypatch.delenv(k)
    return monkeypatch


def _toml(tmp_path: Path) -> Path:
    p = tmp_path / "openvod.toml"
    p.write_text(
        'log_level = "DEBUG"\n'
        f'data_dir = "{tmp_path / "from-file"}"\n'
        "[api]\nport = 1111\nhost = \"0.0.0.0\"\nrate_limit_qps = 5.0\n"
        "[engine]\nworkers = 3\n"
    )
    return p


def test_settings_defaults(clean_env: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.api.port == 8080 and s.api.host == "127.0.0.1" and s.api.timestamp_window_s == 900


def test_settings_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = load_settings(_toml(tmp_path))
    assert s.api.port == 1111 and s.api.host == "0.0.0.0" and s.api.rate_limit_qps == 5.0
    assert s.engine.workers == 3 and s.log_level == "DEBUG" and s.data_dir == tmp_path / "from-file"
    assert s.api.rate_limit_burst == 2000  # default kept for keys the file does not set


def test_settings_env_beats_file_with_nesting(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("OPENVOD_API__PORT", "2222")
    clean_env.setenv("OPENVOD_ENGINE__WORKERS", "7")
    clean_env.setenv("OPENVOD_LOG_LEVEL", "WARNING")
    clean_env.setenv("OPENVOD_MEDIA__ALLOWED_ROOTS", '["/a","/b"]')
    s = load_settings(_toml(tmp_path))
    assert s.api.port == 2222 and s.engine.workers == 7 and s.log_level == "WARNING"
    assert s.media.allowed_roots == ["/a", "/b"]
    # file values for sibling keys of the same group survive
    assert s.api.host == "0.0.0.0" and s.api.rate_limit_qps == 5.0


def test_settings_config_file_from_env(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("OPENVOD_CONFIG", str(_toml(tmp_path)))
    assert load_settings().api.port == 1111


def test_settings_overrides_beat_env_and_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("OPENVOD_API__PORT", "2222")
    clean_env.setenv("OPENVOD_DATA_DIR", str(tmp_path / "from-env"))
    s = load_settings(_toml(tmp_path), data_dir=str(tmp_path / "explicit"), api={"port": 3333}, log_level=None)
    assert s.data_dir == tmp_path / "explicit"
    assert s.api.port == 3333 and s.api.host == "0.0.0.0"
    assert s.log_level == "DEBUG"  # None overrides are ignored


# ---------------------------------------------------------------------------------------------- signed URLs
def _split(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)["auth_key"][0]


def test_url_signer_roundtrip_and_format() -> None:
    signer = UrlSigner("secret-key", ttl_s=100)
    url = signer.sign("http://h:1/", "media/a/b/source.mp4", now=1000.0)
    assert url.startswith("http://h:1/blobs/media/a/b/source.mp4?auth_key=1100-0-0-")
    path, auth = _split(url)
    assert signer.verify(path, auth, now=1000.0)
    assert signer.verify(path, auth, now=1100.0)
    assert signer.unsigned("http://h:1", "k/x.png") == "http://h:1/blobs/k/x.png"


def test_url_signer_expiry() -> None:
    signer = UrlSigner("secret-key")
    path, auth = _split(signer.sign("http://h", "k/x.png", ttl_s=60, now=1000.0))
    assert signer.verify(path, auth, now=1059.0)
    assert not signer.verify(path, auth, now=1061.0)
    path2, auth2 = _split(signer.sign("http://h", "k/x.png"))
    assert signer.verify(path2, auth2)  # default clock and ttl


def test_url_signer_tampering() -> None:
    signer = UrlSigner("secret-key")
    path, auth = _split(signer.sign("http://h", "k/x.png", ttl_s=60, now=1000.0))
    exp, rand, uid, digest = auth.split("-")
    assert not signer.verify("/blobs/k/y.png", auth, now=1000.0)
    assert not signer.verify(path, f"{int(exp) + 1000}-{rand}-{uid}-{digest}", now=1000.0)
    assert not signer.verify(path, f"{exp}-1-{uid}-{digest}", now=1000.0)
    assert not signer.verify(path, f"{exp}-{rand}-{uid}-{'0' * 32}", now=1000.0)
    assert not UrlSigner("other-key").verify(path, auth, now=1000.0)
    for bad in ("", "abc", f"{exp}-{rand}-{digest}", f"x{exp}-{rand}-{uid}-{digest}", f"{auth}-extra"):
        assert not signer.verify(path, bad, now=1000.0)


def test_url_signer_quotes_keys() -> None:
    signer = UrlSigner("k")
    url = signer.sign("http://h", "dir/a b#?.png", now=0.0)
    path, auth = _split(url)
    assert path == "/blobs/dir/a%20b%23%3F.png"
    assert signer.verify(path, auth, now=0.0)


# ---------------------------------------------------------------------------------------------- blob keys
@pytest.mark.parametrize("key", ["..", "../x", "a/../../x", "a/..", "/etc/passwd", "", ".", "a//b", "a/./b",
                                 "a\\..\\b", "a/"])
def test_blob_store_refuses_bad_keys(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(BlobKeyError):
        store.path(key)
    with pytest.raises(BlobKeyError):
        store.put_bytes(key, b"x")
    assert store.exists(key) is False
    assert not (tmp_path / "x").exists()


def test_blob_store_roundtrip(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    assert store.put_bytes("a/b/c.bin", b"hello") == 5
    assert store.exists("a/b/c.bin")
    assert store.path("a/b/c.bin").read_bytes() == b"hello"
    assert store.path("a/b/c.bin").is_relative_to(store.root)
    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 10)
    assert store.put_file("a/d.bin", src) == 10
    assert not [p for p in (tmp_path / "blobs" / "a").iterdir() if p.name.startswith(".tmp-")]
    store.delete("a/b/c.bin")
    assert not store.exists("a/b/c.bin")
    store.delete_prefix("a")
    assert not store.exists("a/d.bin")


def test_stored_userdata_with_a_url_no_longer_valid_never_raises_at_job_end() -> None:
    """callback_url runs in a job's final transaction on values an older version accepted: a URL that
    today's submit-time check refuses comes back as it is (the sender fails it as an attempt)."""
    import json

    from openvod.domain import userdata

    bad = json.dumps({"MessageCallback": {"CallbackURL": "http://[::1"}})
    assert userdata.callback_url(bad) == "http://[::1"
    legacy = json.dumps({"MessageCallback": json.dumps({"CallbackURL": "http://h:99999/x"})})
    assert userdata.callback_url(legacy) == "http://h:99999/x"
    assert userdata.callback_url("not json") is None
    assert userdata.callback_url(json.dumps({"Extend": "x"})) is None
    assert userdata.callback_url(json.dumps({"MessageCallback": {"CallbackURL": 5}})) is None


def test_urls_written_by_workers_never_name_a_wildcard_address() -> None:
    """`serve --host 0.0.0.0` must not give FaceUrl / AI image URLs of http://0.0.0.0:…"""
    from openvod.services.ai_images import base_url_for_workers

    assert base_url_for_workers("", "0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert base_url_for_workers("", "::", 8080) == "http://127.0.0.1:8080"
    assert base_url_for_workers("", "10.1.2.3", 9000) == "http://10.1.2.3:9000"
    assert base_url_for_workers("", "fd00::5", 9000) == "http://[fd00::5]:9000"
    assert base_url_for_workers("https://vod.example.com", "0.0.0.0", 8080) == "https://vod.example.com"
