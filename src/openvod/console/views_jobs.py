"""The jobs page and retrying a job."""

from __future__ import annotations

import math

from openvod.console.auth import Session
from openvod.console.common import JOB_STATUSES, JOB_TYPES, PREFIX, ViewsBase
from openvod.console.http import Request, Response, as_json, redirect
from openvod.errors import VodError
from openvod.services.ai_jobs import progress_of
from openvod.util import parse_utc_iso


class JobViews(ViewsBase):
    # ------------------------------------------------------------------ jobs
    def jobs(self, req: Request, sess: Session) -> Response:
        jt = req.query.get("type", "")
        st = req.query.get("status", "")
        jt = jt if jt in JOB_TYPES else ""
        st = st if st in JOB_STATUSES else ""
        since = until = None
        err = ""
        for k in ("since", "until"):
            v = req.query.get(k, "").strip()
            if v:
                try:
                    ts = parse_utc_iso(v if v.endswith("Z") else v + ":00Z" if len(v) == 16 else v + "Z")
                except ValueError:
                    err = k
                    continue
                if k == "since":
                    since = ts
                else:
                    until = ts
        try:
            page = max(1, int(req.query.get("page", "1")))
        except ValueError:
            page = 1
        size = 50
        total, rows = self.rt.jobs.list_account(sess.account_id, job_type=jt, status=st, since=since, until=until,
                                                limit=size, offset=(page - 1) * size)
        titles = {k: v["title"] for k, v in self.rt.media.find_rows(sess.account_id, list({r.media_id for r in rows})).items()}
        return self.app.render(req, "jobs.html", sess, rows=rows, titles=titles, jt=jt, st=st, types=JOB_TYPES,
                               statuses=JOB_STATUSES, page=page, pages=max(1, math.ceil(total / size)),
                               since=req.query.get("since", ""), until=req.query.get("until", ""), err=err,
                               progress_of=progress_of)

    def retry(self, req: Request, sess: Session, job_id: str) -> Response:
        try:
            self.rt.jobs.retry(sess.account_id, job_id)
        except VodError as exc:
            return as_json({"Code": exc.code, "Message": exc.message}, exc.http_status)
        return redirect(f"{PREFIX}/jobs")
