"""Prometheus metrics. Job and callback figures are read from the store at scrape time, so they are
right across worker processes and restarts; request counters live in the API process."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, InfoMetricFamily
from sqlalchemy import case, func, select

from openvod.domain.jobs import JobStatus
from openvod.store.tables import jobs, outbox

if TYPE_CHECKING:
    from openvod.runtime import Runtime

DURATION_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class StoreCollector:
    """Jobs by type and state, queue depth per queue and state, job durations, callback deliveries.

    The figures come from a few aggregate queries, run at most once per ``scale.metrics_cache_s``
    (scrapes in between reuse them). The queue figures carry this node's ``node`` and ``role``
    labels; every node reads the same shared database, so sum them over one node only."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.node = rt.settings.scale.node_name or socket.gethostname()
        self._lock = threading.Lock()
        self._snap: tuple[float, dict[str, list[Any]]] | None = None

    def _query(self) -> dict[str, list[Any]]:
        with self.rt.engine.connect() as conn:
            by_state = conn.execute(
                select(jobs.c.type, jobs.c.status, func.count()).group_by(jobs.c.type, jobs.c.status)
            ).all()
            # Waiting and running jobs only (ix_jobs_status_created): cheap however many jobs ended.
            # With scale.dna_queues, AIMediaDNA jobs go to a queue per library: group those by account
            # and config too (the queue is derived from them), the rest by type only.
            # (Every selected column is grouped: PostgreSQL refuses the bare columns SQLite allows.)
            by_lib = bool(self.rt.settings.scale.dna_queues)
            lib_cols = [jobs.c.account_id, jobs.c.config]
            waiting = jobs.c.status.in_([JobStatus.INIT, JobStatus.PROCESSING])
            live_q = select(jobs.c.type, jobs.c.status, func.count(), func.min(jobs.c.created_at)).where(waiting)
            live = list(conn.execute(live_q.where(jobs.c.type != "AIMediaDNA").group_by(jobs.c.type, jobs.c.status)
                                     if by_lib else live_q.group_by(jobs.c.type, jobs.c.status)).all())
            if by_lib:
                live += conn.execute(live_q.add_columns(*lib_cols).where(jobs.c.type == "AIMediaDNA")
                                     .group_by(jobs.c.type, jobs.c.status, *lib_cols)).all()
            dur = jobs.c.completed_at - jobs.c.started_at
            bucket_cols = [func.sum(case((dur <= le, 1), else_=0)) for le in DURATION_BUCKETS]
            durations = conn.execute(
                select(jobs.c.type, func.count(), func.coalesce(func.sum(dur), 0.0), *bucket_cols)
                .where(jobs.c.status.in_(["success", "fail"]), jobs.c.started_at.is_not(None))
                .group_by(jobs.c.type)
            ).all()
            deliveries = conn.execute(
                select(outbox.c.status, func.count(), func.coalesce(func.sum(outbox.c.attempts), 0)).group_by(
                    outbox.c.status
                )
            ).all()
        return {"by_state": list(by_state), "live": list(live), "durations": list(durations),
                "deliveries": list(deliveries)}

    def snapshot(self) -> dict[str, list[Any]]:
        with self._lock:  # concurrent scrapes share one round of queries
            t = time.monotonic()
            if self._snap is None or t - self._snap[0] >= self.rt.settings.scale.metrics_cache_s:
                self._snap = (time.monotonic(), self._query())
            return self._snap[1]

    def collect(self):  # type: ignore[no-untyped-def]
        snap = self.snapshot()
        g = GaugeMetricFamily("openvod_jobs", "AI jobs by type and status", labels=["type", "status"])
        depth = 0
        for t, s, n in snap["by_state"]:
            g.add_metric([t, s], n)
            if s == "init":
                depth += n
        yield g
        yield GaugeMetricFamily("openvod_queue_depth", "Jobs waiting for a worker", value=depth)
        scale = self.rt.settings.scale
        labels = ["queue", "type", "status", "node", "role"]
        q = GaugeMetricFamily("openvod_queue_jobs", "Jobs waiting (init) or running (processing), per queue "
                              "(job type) and status", labels=labels)
        age = GaugeMetricFamily("openvod_queue_oldest_seconds", "Age of the oldest job waiting or running, "
                                "per queue (job type) and status", labels=labels)
        now = time.time()
        counts: dict[tuple[str, str, str], list[float]] = {}  # (queue, type, status) -> [jobs, oldest]
        for t, s, n, oldest, *lib in snap["live"]:
            c = counts.setdefault((scale.queue_for(t, *lib), t, s), [0, now])
            c[0] += n
            c[1] = min(c[1], float(oldest or now))
        for t in sorted({r[0] for r in snap["by_state"]}):  # known types report their empty queues as 0
            for s in (JobStatus.INIT, JobStatus.PROCESSING):
                if not any(k[1:] == (t, s) for k in counts):
                    counts[(scale.queue_for(t), t, s)] = [0, now]
        for qname in set(scale.dna_queues.values()):  # so do the queues of DNA libraries (dna_queues)
            for s in (JobStatus.INIT, JobStatus.PROCESSING):
                counts.setdefault((qname, "AIMediaDNA", s), [0, now])
        for (qname, t, s), (n, oldest) in sorted(counts.items()):
            q.add_metric([qname, t, s, self.node, scale.role], n)
            if n:
                age.add_metric([qname, t, s, self.node, scale.role], max(0.0, now - oldest))
        yield q
        yield age
        yield InfoMetricFamily("openvod_node", "This node", value={"node": self.node, "role": scale.role})
        h = HistogramMetricFamily("openvod_job_duration_seconds", "Run time of finished jobs", labels=["type"])
        for t, count, total, *buckets in snap["durations"]:
            pairs = [(str(le), int(b or 0)) for le, b in zip(DURATION_BUCKETS, buckets, strict=True)]
            h.add_metric([t], pairs + [("+Inf", int(count))], float(total or 0))
        yield h
        d = GaugeMetricFamily("openvod_callback_events", "Callback events by delivery status", labels=["status"])
        a = GaugeMetricFamily("openvod_callback_attempts", "Callback delivery attempts by event status", labels=["status"])
        for s, n, attempts in snap["deliveries"]:
            d.add_metric([s], n)
            a.add_metric([s], attempts)
        yield d
        yield a


class Metrics:
    """The API process's metrics registry."""

    def __init__(self, rt: Runtime):
        self.registry = CollectorRegistry()
        self.store = StoreCollector(rt)
        self.registry.register(self.store)
        self.requests = Counter(
            "openvod_rpc_requests", "RPC requests by action and HTTP status", ["action", "status"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
