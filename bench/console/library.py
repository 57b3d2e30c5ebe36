"""Server time of the console's library page with 1,000 videos (target: under 300 ms).

    PYTHONPATH=src:. python bench/console/library.py [--videos 1000] [--runs 40]

Builds a throwaway data folder: N media rows, each with a finished AIVideoTag job (tags shown on
the cards), a third with an AI cover. Rows are inserted directly (probing 1,000 real files would
measure the prober, not the page). Then renders /console/library (first page, a middle page, and a
search) through ConsoleApp.handle, i.e. everything the server does for the page except the socket.
Reports wall and CPU milliseconds per render (the machine is shared: CPU time is the steadier one).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import insert

from openvod.console.app import ConsoleApp
from openvod.store.tables import ai_images, jobs, media
from openvod.util import new_id
from tests.console.client import Client, add_user, make_runtime


def populate(rt, account_id: str, n: int) -> None:  # type: ignore[no-untyped-def]
    t0 = time.time() - n
    media_rows, job_rows, image_rows = [], [], []
    for i in range(n):
        mid = new_id()
        cover = ""
        if i % 3 == 0:
            iid = new_id()
            key = f"aiimage/{account_id}/{mid}/{iid}.png"
            rt.blobs.put_bytes(key, b"\x89PNG fake")
            image_rows.append({"id": iid, "account_id": account_id, "job_id": "j", "video_id": mid, "format": "png",
                               "score": 0.5, "blob_key": key, "version": "1", "detail": "{}", "created_at": t0 + i})
            cover = "blob:" + key
        media_rows.append({
            "id": mid, "account_id": account_id, "file_url": f"oss://openvod/sv/{mid}.mp4", "title": f"Video {i:04d}",
            "description": "", "tags": "bench,console", "cover_url": cover, "cate_id": None, "status": "Normal",
            "blob_key": f"media/{account_id}/{mid}/source.mp4", "file_name": f"v{i}.mp4", "size": 1000, "md5": "",
            "duration": 30.0 + i % 60, "width": 640, "height": 360, "fps": 25.0, "bitrate": 800.0, "probe": "{}",
            "template_group_id": "", "user_data": "", "created_at": t0 + i, "modified_at": t0 + i})
        data = {"Keyword": [{"Tag": f"word{k}", "Times": ["1000"]} for k in range(8)],
                "Person": [], "Location": [], "Time": [], "Category": []}
        job_rows.append({"id": new_id(), "account_id": account_id, "media_id": mid, "type": "AIVideoTag",
                         "status": "success", "code": "0", "message": "OK", "config": "{}", "data": json.dumps(data),
                         "created_at": t0 + i, "completed_at": t0 + i + 0.5, "attempts": 1, "progress": 100.0})
    with rt.engine.begin() as conn:
        conn.execute(insert(media), media_rows)
        conn.execute(insert(jobs), job_rows)
        if image_rows:
            conn.execute(insert(ai_images), image_rows)


def measure(client: Client, url: str, runs: int) -> dict[str, float]:
    client.get(url)  # warm (template compile, caches)
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        r = client.get(url)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert r.status == 200, r.status
    wall.sort()
    cpu.sort()
    return {"wall_ms_median": round(statistics.median(wall), 1), "wall_ms_p95": round(wall[int(0.95 * (runs - 1))], 1),
            "cpu_ms_median": round(statistics.median(cpu), 1), "cpu_ms_p95": round(cpu[int(0.95 * (runs - 1))], 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rt = make_runtime(Path(tmp) / "data")
        add_user(rt, "bench", "bench")
        populate(rt, rt.accounts.find_account("bench"), args.videos)
        app = ConsoleApp(rt, ThreadPoolExecutor(1))
        c = Client(app)
        assert c.sign_in("bench").status == 303
        pages = -(-args.videos // rt.settings.console.page_size)
        out = {"videos": args.videos, "page_size": rt.settings.console.page_size}
        out["first_page"] = measure(c, "/console/library", args.runs)
        out["middle_page"] = measure(c, f"/console/library?page={max(1, pages // 2)}", args.runs)
        out["search_title"] = measure(c, "/console/library?q=Video%2005", max(5, args.runs // 4))
        print(json.dumps(out, indent=1))
        ok = out["first_page"]["wall_ms_p95"] < 300 and out["middle_page"]["wall_ms_p95"] < 300
        print("target < 300 ms (p95 wall, page renders):", "met" if ok else "NOT met", file=sys.stderr)
        rt.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
