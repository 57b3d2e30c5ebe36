"""JSON and XML rendering of response bodies (spec §1.4-§1.6)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from openvod.api.render import JSON_TYPE, XML_TYPE, to_json, to_xml

PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'


def _xml(root: str, body: dict) -> str:  # type: ignore[type-arg]
    out = to_xml(root, body)
    assert isinstance(out, bytes)
    text = out.decode("utf-8")
    assert text.startswith(PROLOG)
    return text[len(PROLOG) :]


def test_content_types_exact() -> None:
    assert JSON_TYPE == "application/json;charset=utf-8"
    assert XML_TYPE == "text/xml;charset=utf-8"


def test_wrapper_lists() -> None:
    body = {
        "RequestId": "R1",
        "NonExistAIJobIds": {"String": ["a", "b"]},
        "AIJobList": {"AIJob": [{"JobId": "j1", "Type": "AIVideoTag"}, {"JobId": "j2", "Type": "AIMediaDNA"}]},
    }
    assert _xml("ListAIJobResponse", body) == (
        "<ListAIJobResponse><RequestId>R1</RequestId>"
        "<NonExistAIJobIds><String>a</String><String>b</String></NonExistAIJobIds>"
        "<AIJobList><AIJob><JobId>j1</JobId><Type>AIVideoTag</Type></AIJob>"
        "<AIJob><JobId>j2</JobId><Type>AIMediaDNA</Type></AIJob></AIJobList>"
        "</ListAIJobResponse>"
    )


def test_empty_wrapper_list() -> None:
    body = {"RequestId": "R1", "NonExistAIJobIds": {"String": []}, "AIJobList": {"AIJob": []}}
    assert _xml("ListAIJobResponse", body) == (
        "<ListAIJobResponse><RequestId>R1</RequestId>"
        "<NonExistAIJobIds></NonExistAIJobIds><AIJobList></AIJobList></ListAIJobResponse>"
    )
    assert json.loads(to_json(body))["NonExistAIJobIds"] == {"String": []}


def test_plain_arrays_repeat_directly_under_parent() -> None:
    body = {
        "RequestId": "R2",
        "RegisteredMediaList": [{"MediaId": "m1", "FileURL": "u0", "NewRegister": True}],
        "FailedFileURLs": ["u1", "u2"],
    }
    assert _xml("RegisterMediaResponse", body) == (
        "<RegisterMediaResponse><RequestId>R2</RequestId>"
        "<RegisteredMediaList><MediaId>m1</MediaId><FileURL>u0</FileURL><NewRegister>true</NewRegister>"
        "</RegisteredMediaList>"
        "<FailedFileURLs>u1</FailedFileURLs><FailedFileURLs>u2</FailedFileURLs>"
        "</RegisterMediaResponse>"
    )


def test_nested_plain_arrays_times() -> None:
    body = {"VideoTagResult": {"Keyword": [{"Times": ["3260", "4000"], "Tag": "Cushion"}, {"Times": [], "Tag": "Air"}]}}
    assert _xml("GetAIVideoTagResultResponse", body) == (
        "<GetAIVideoTagResultResponse><VideoTagResult>"
        "<Keyword><Times>3260</Times><Times>4000</Times><Tag>Cushion</Tag></Keyword>"
        "<Keyword><Tag>Air</Tag></Keyword>"
        "</VideoTagResult></GetAIVideoTagResultResponse>"
    )


def test_plain_array_of_objects_has_no_wrapper() -> None:
    body = {"AIImageJobList": [{"JobId": "a"}, {"JobId": "b"}]}
    root = ET.fromstring(to_xml("GetAIImageJobsResponse", body))
    items = root.findall("AIImageJobList")
    assert [i.findtext("JobId") for i in items] == ["a", "b"]
    assert root.find("AIImageJobList/AIImageJob") is None


def test_booleans_numbers_none() -> None:
    body = {"T": True, "F": False, "N": None, "I": 10897890, "D": 135.6}
    assert _xml("X", body) == "<X><T>true</T><F>false</F><N></N><I>10897890</I><D>135.6</D></X>"
    j = json.loads(to_json(body))
    assert j == {"T": True, "F": False, "N": None, "I": 10897890, "D": 135.6}
    assert b'"T":true' in to_json(body)


def test_xml_escaping() -> None:
    body = {"Message": 'a < b & c > d "q"', "Data": '{"k":"<v>"}'}
    text = _xml("Error", body)
    assert "<Message>a &lt; b &amp; c &gt; d" in text
    assert "&lt;v&gt;" in text and "<v>" not in text
    root = ET.fromstring(to_xml("Error", body))
    assert root.findtext("Message") == body["Message"]
    assert json.loads(root.findtext("Data") or "") == {"k": "<v>"}


def test_xml_utf8() -> None:
    out = to_xml("X", {"Title": "视频 é"})
    assert "视频 é".encode() in out
    assert ET.fromstring(out).findtext("Title") == "视频 é"


def test_json_compact_and_utf8() -> None:
    body = {"RequestId": "R", "Title": "视频", "List": [1, 2], "Obj": {"a": "b"}}
    out = to_json(body)
    assert isinstance(out, bytes)
    assert out == '{"RequestId":"R","Title":"视频","List":[1,2],"Obj":{"a":"b"}}'.encode()
    assert b"\\u" not in out and b", " not in out and b": " not in out
    assert json.loads(out.decode("utf-8")) == body


def test_json_key_order_preserved() -> None:
    body = {"RequestId": "R", "Z": 1, "A": 2}
    assert list(json.loads(to_json(body))) == ["RequestId", "Z", "A"]


def test_xml_replaces_characters_xml_cannot_carry() -> None:
    import xml.dom.minidom

    from openvod.api.render import to_xml

    out = to_xml("R", {"FailedFileURLs": ["/tmp/a\x00b\x1f.mp4"], "Title": "ok\ttab"})
    doc = xml.dom.minidom.parseString(out)  # well-formed
    urls = [n.firstChild.data for n in doc.getElementsByTagName("FailedFileURLs")]
    assert urls == ["/tmp/a\ufffdb\ufffd.mp4"]
    assert doc.getElementsByTagName("Title")[0].firstChild.data == "ok\ttab"
