"""The web console in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

One real ``openvod serve`` with the built-in analyzers; two generated videos (the second is the first
mirrored, so AIMediaDNA finds a flipped copy; the first has a face and synthesised speech).

Screenshots go to the test's temporary folder, and to ``$OPENVOD_CONSOLE_SCREENSHOTS`` when set
(docs/img is filled that way: ``OPENVOD_CONSOLE_SCREENSHOTS=docs/img pytest -m browser tests/console``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Server, free_port

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PASSWORD = "console-test-pw"


def _need() -> None:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip("chromium / chromium-driver are not installed (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium")


def make_clips(folder: Path) -> tuple[Path, Path]:
    """A: 6 s with a face photograph, a caption and speech. B: A mirrored left-right (a copy)."""
    import av
    import numpy as np

    from bench.tag.media import Caption, ClipSpec, FaceAppearance, Shot, Speech, espeak_available, render
    from tests.media import VideoWriter

    a = folder / "launch-day.mp4"
    spec = ClipSpec(duration=6.0, width=480, height=270,
                    shots=[Shot(0, 3, "motion", 1), Shot(3, 6, "gradient", 2)],
                    captions=[Caption("OPENVOD CONSOLE", 0.5, 5.5, where="top", size=0.09)],
                    faces=[FaceAppearance("astronaut", 0.5, 5.5, x=0.55, y=0.25, height=0.6, person="astronaut")],
                    speech=[Speech("hello world, this is the open video console", 0.6)] if espeak_available() else [],
                    preset="ultrafast")
    render(spec, a)
    b = folder / "mirrored-copy.mp4"
    with av.open(str(a)) as src, VideoWriter(b, (480, 270), 25) as out:
        for f in src.decode(video=0):
            out.write(np.ascontiguousarray(f.to_ndarray(format="rgb24")[:, ::-1]))
    return a, b


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _need()
    root = tmp_path_factory.mktemp("console-browser")
    srv = Server(root / "data", free_port(), env={"OPENVOD_PLUGINS": "[]", "OPENVOD_ENGINE__WORKERS": "2",
                                                  "OPENVOD_ENGINE__HEARTBEAT_S": "0.5"})
    srv.start(timeout=120)
    try:
        srv.key("alice")
        r = subprocess.run([sys.executable, "-m", "openvod.cli", "console-user", "add", "alice", "--account", "alice",
                            "--password-stdin", "--data-dir", str(srv.data_dir)], input=PASSWORD + "\n",
                           capture_output=True, text=True, cwd=REPO, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
        assert r.returncode == 0, r.stderr
        clips = make_clips(root)
        yield {"server": srv, "clips": clips, "root": root}
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(served: dict[str, Any]) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def shoot(drv: Any, served: dict[str, Any], name: str) -> None:
    drv.save_screenshot(str(served["root"] / f"{name}.png"))
    out = os.environ.get("OPENVOD_CONSOLE_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        drv.save_screenshot(str(Path(out) / f"{name}.png"))


def wait(fn: Any, timeout: float = 120.0, what: str = "") -> Any:
    end = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < end:
        try:
            last = fn()
        except Exception as exc:  # stale elements while the page reloads
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def Select(el: Any) -> Any:  # noqa: N802 - Selenium's own name
    from selenium.webdriver.support.ui import Select as _Select

    return _Select(el)


def css(drv: Any, sel: str) -> Any:
    from selenium.webdriver.common.by import By

    return drv.find_element(By.CSS_SELECTOR, sel)


def csss(drv: Any, sel: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return drv.find_elements(By.CSS_SELECTOR, sel)


def run_and_watch(drv: Any, button: str, job_type: str, timeout: float = 300.0) -> list[float]:
    """Click a job button on the video page; return the progress values seen until the job succeeded."""
    before = {tr.get_attribute("data-job") for tr in csss(drv, "#video-jobs tbody tr")}
    css(drv, button).click()
    seen: list[float] = []

    def done() -> bool:
        for tr in csss(drv, "#video-jobs tbody tr"):
            if tr.get_attribute("data-job") in before or tr.find_element("css selector", "td").text != job_type:
                continue
            seen.append(float(tr.find_element("css selector", "progress").get_attribute("value")))
            st = tr.get_attribute("data-status")
            assert st != "fail", tr.text
            return st == "success"
        return False

    wait(done, timeout, f"{job_type} to finish")
    # The page reloads by itself to show the results.
    wait(lambda: not csss(drv, "#video-jobs tbody tr[data-status='processing'], #video-jobs tbody tr[data-status='init']"),
         30, "the page to settle")
    return seen


def player_time(drv: Any, sel: str) -> float:
    return float(drv.execute_script("return document.querySelector(arguments[0]).currentTime", sel))


def test_console_end_to_end(served: dict[str, Any], browser: Any) -> None:
    drv, url = browser, served["server"].url
    a, b = served["clips"]

    # ---- sign in
    drv.get(url + "/console/")
    css(drv, "#username").send_keys("alice")
    css(drv, "#password").send_keys(PASSWORD)
    css(drv, "#sign-in").click()
    wait(lambda: "/console/library" in drv.current_url, 30, "the library")

    # ---- upload two generated videos, each with its own progress bar
    drv.get(url + "/console/upload")
    css(drv, "#files").send_keys(f"{a}\n{b}")
    wait(lambda: len(csss(drv, "#uploads li.done")) == 2 or csss(drv, "#uploads li.failed"), 120, "two uploads")
    assert not csss(drv, "#uploads li.failed"), css(drv, "#uploads").text
    bars = csss(drv, "#uploads progress")
    assert [int(x.get_attribute("value")) for x in bars] == [100, 100]
    # A refused file shows the server's Code and Message (here the API's, from CreateUploadVideo).
    notes = served["root"] / "notes.txt"
    notes.write_text("not a video")
    css(drv, "#files").send_keys(str(notes))
    wait(lambda: csss(drv, "#uploads li.failed"), 30, "the refused upload")
    assert "InvalidFileName.Extension" in css(drv, "#uploads li.failed").text

    drv.get(url + "/console/library")
    cards = csss(drv, "#library .card")
    assert len(cards) == 2
    ids = {c.find_element("css selector", ".title").text: c.get_attribute("data-id") for c in cards}
    id_a, id_b = ids["launch-day"], ids["mirrored-copy"]

    # ---- AIMediaDNA on the original (enters the library), then on the copy: live progress to 100
    drv.get(f"{url}/console/video/{id_a}")
    seen = run_and_watch(drv, "#run-dna", "AIMediaDNA")
    assert seen and seen[-1] == 100.0 and seen == sorted(seen)
    drv.get(f"{url}/console/video/{id_b}")
    seen = run_and_watch(drv, "#run-dna", "AIMediaDNA")
    assert seen[-1] == 100.0

    # ---- the copy view: badges, evidence, and a segment click seeks both players
    card = wait(lambda: csss(drv, "#copies .copy"), 30, "the copy result")[0]
    assert card.get_attribute("data-other") == id_a
    assert "Flip" in card.text
    assert csss(drv, "#copies .evidence img")
    drv.execute_script("document.querySelector('#copies').scrollIntoView()")
    seg = csss(drv, "#copies .seg")[-1]
    want_a, want_b = float(seg.get_attribute("data-a")), float(seg.get_attribute("data-b"))
    wait(lambda: drv.execute_script("return document.querySelector('#player').readyState") >= 1, 30, "player metadata")
    seg.click()
    wait(lambda: abs(player_time(drv, "#player") - want_a) < 0.05, 10, "the player to seek")
    wait(lambda: abs(player_time(drv, "#copies .other-player") - want_b) < 0.05, 10, "the library player to seek")
    shoot(drv, served, "console-copy")

    # ---- AIVideoTag (Face, ASR, OCR): lanes, transcript click-to-seek, current word
    drv.get(f"{url}/console/video/{id_a}")
    for box in csss(drv, "input[name=types]"):
        if box.get_attribute("value") in ("Category", "Annotation") and box.is_selected():
            box.click()
    seen = run_and_watch(drv, "#run-tag", "AIVideoTag", timeout=600)
    assert seen[-1] == 100.0
    lanes = {ln.get_attribute("data-lane"): ln for ln in csss(drv, "#lanes .lane")}
    assert lanes["people"].find_elements("css selector", ".mark")
    assert lanes["onscreen"].find_elements("css selector", ".mark")
    words = csss(drv, "#transcript .w")
    if words:  # espeak-ng present: there is speech to transcribe
        w = words[min(2, len(words) - 1)]
        t = float(w.get_attribute("data-s"))
        wait(lambda: drv.execute_script("return document.querySelector('#player').readyState") >= 1, 30, "metadata")
        drv.execute_script("arguments[0].scrollIntoView()", w)
        w.click()
        wait(lambda: abs(player_time(drv, "#player") - t) < 0.05, 10, "the transcript seek")
        assert "now" in w.get_attribute("class")
        assert csss(drv, "#dl-srt") and csss(drv, "#dl-vtt")
    drv.execute_script("document.querySelector('#tags').scrollIntoView()")
    shoot(drv, served, "console-tags")

    # ---- AI covers, then "set as cover": the library thumbnail becomes the chosen image
    drv.get(f"{url}/console/library")
    old = css(drv, f'.card[data-id="{id_a}"] img').get_attribute("src")
    assert "/frame.jpg" in old
    drv.get(f"{url}/console/video/{id_a}")
    run_and_watch(drv, "#run-covers", "AIImage")
    shots = wait(lambda: csss(drv, "#covers .shot"), 30, "the gallery")
    assert shots[0].find_elements("css selector", ".breakdown tr")
    target = shots[-1]
    image_src = target.find_element("css selector", "img").get_attribute("src").split("?")[0]
    target.find_element("css selector", ".set-cover").click()
    wait(lambda: csss(drv, "#covers .shot.cover"), 30, "the cover mark")
    drv.get(f"{url}/console/library")
    new = css(drv, f'.card[data-id="{id_a}"] img').get_attribute("src")
    assert new.split("?")[0] == image_src and new != old

    # ---- name a face
    drv.get(f"{url}/console/faces")
    face = wait(lambda: csss(drv, "#faces .face"), 10, "a face")[0]
    name = face.find_element("css selector", ".face-name")
    name.clear()
    name.send_keys("Eileen Collins")
    face.find_element("css selector", ".face-save").click()
    wait(lambda: "Eileen Collins" in css(drv, "#faces .face-tag").text, 10, "the new name")

    # ---- AI templates: a refused config shows the server's Code and Message; then create, set default
    drv.get(f"{url}/console/settings")
    css(drv, "#new-template input[name=name]").send_keys("strict audit")
    Select(css(drv, "#new-template-type")).select_by_value("AIMediaAudit")
    assert '"AuditItem"' in css(drv, "#new-template-config").get_attribute("value")  # the type's example
    cfg = css(drv, "#new-template-config")
    cfg.clear()
    cfg.send_keys('{"AuditItem": ["porn"], "AuditRange": ["video"], "AuditContent": ["screen"]}')
    css(drv, "#create-template").click()
    err = wait(lambda: csss(drv, "#template-error"), 10, "the refusal")[0]
    assert "InvalidParameter" in err.text and "AuditAutoBlock" in err.text
    cfg = css(drv, "#new-template-config")
    cfg.clear()
    cfg.send_keys('{"AuditItem": ["porn", "ad"], "AuditRange": ["video", "text-title"], "AuditContent": ["screen"], '
                  '"AuditAutoBlock": "no"}')
    css(drv, "#create-template").click()
    row = wait(lambda: [r for r in csss(drv, "#template-list tr[data-template]") if "strict audit" in r.text], 10,
               "the new template")[0]
    row.find_element("css selector", ".tpl-set-default").click()
    wait(lambda: [r for r in csss(drv, "#template-list tr[data-template]")
                  if "strict audit" in r.text and r.find_elements("css selector", ".tpl-default")], 10, "the default")

    # ---- the audit word library: add two words, remove one
    drv.get(f"{url}/console/words")
    Select(css(drv, "#words-label")).select_by_value("ad")
    css(drv, "#words-new").send_keys("launch\nmirrored")
    css(drv, "#words-add").click()
    wait(lambda: len(csss(drv, "#label-ad .word-chip")) == 2, 10, "two words")
    [c for c in csss(drv, "#label-ad .word-chip") if c.text.startswith("mirrored")][0].find_element(
        "css selector", ".word-remove").click()
    wait(lambda: [c.find_element("css selector", ".w").text for c in csss(drv, "#label-ad .word-chip")] == ["launch"],
         10, "one word left")

    # ---- audit the video: the title has a word of the library, so the result is not a pass
    drv.get(f"{url}/console/video/{id_a}")
    run_and_watch(drv, "#run-audit", "AIMediaAudit")
    sugg = wait(lambda: csss(drv, "#audit-suggestion"), 30, "the audit result")[0]
    assert sugg.text in ("review", "block"), sugg.text
    assert "ad" in css(drv, '#audit tr[data-scene="text: title"]').text

    # ---- language switch, library screenshot, sign out
    css(drv, "#lang-switch").click()
    wait(lambda: "媒资库" in css(drv, "#nav-library").text, 10, "Chinese UI")
    css(drv, "#lang-switch").click()
    wait(lambda: "Library" in css(drv, "#nav-library").text, 10, "English UI")
    drv.get(f"{url}/console/library")
    shoot(drv, served, "console-library")

    # ---- the object endpoint's own refusal (OSS XML Code/Message) reaches the page: a form whose
    # signature was tampered with in the browser is refused before anything is stored
    drv.get(f"{url}/console/upload")
    drv.execute_script("""const add = FormData.prototype.append;
        FormData.prototype.append = function (k, v, n) {
          const args = Array.from(arguments);
          if (k === "Signature") args[1] = "AAAA" + v.slice(4);
          return add.apply(this, args); };""")
    css(drv, "#files").send_keys(str(a))
    failed = wait(lambda: csss(drv, "#uploads li.failed"), 60, "the refused PostObject")[0]
    assert "SignatureDoesNotMatch" in failed.text and "signature" in failed.text.lower(), failed.text
    css(drv, "#sign-out").click()
    wait(lambda: "/console/login" in drv.current_url, 10, "the login page")
    drv.get(f"{url}/console/library")
    assert "/console/login" in drv.current_url
