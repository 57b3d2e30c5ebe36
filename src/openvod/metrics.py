"""Prometheus metrics. Job and callback figures are read from the store at scrape time, so they are
right across worker processes and restarts; request counters live in the API process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import case, func, select

from openvod.store.tables import jobs, outbox

if TYPE_CHECKING:
    from openvod.runtime import Runtime

DURATION_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class StoreCollector:
    """Jobs by type and state, queue depth, job durations, callback deliveries."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def collect(self):  # type: ignore[no-untyped-def]
        with self.rt.engine.connect() as conn:
            by_state = conn.execute(
                select(jobs.c.type, jobs.c.status, func.count()).group_by(jobs.c.type, jobs.c.status)
            ).all()
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
        g = GaugeMetricFamily("openvod_jobs", "AI jobs by type and status", labels=["type", "status"])
        depth = 0
        for t, s, n in by_state:
            g.add_metric([t, s], n)
            if s == "init":
                depth += n
        yield g
        yield GaugeMetricFamily("openvod_queue_depth", "Jobs waiting for a worker", value=depth)
        h = HistogramMetricFamily("openvod_job_duration_seconds", "Run time of finished jobs", labels=["type"])
        for t, count, total, *buckets in durations:
            pairs = [(str(le), int(b or 0)) for le, b in zip(DURATION_BUCKETS, buckets, strict=True)]
            h.add_metric([t], pairs + [("+Inf", int(count))], float(total or 0))
        yield h
        d = GaugeMetricFamily("openvod_callback_events", "Callback events by delivery status", labels=["status"])
        a = GaugeMetricFamily("openvod_callback_attempts", "Callback delivery attempts by event status", labels=["status"])
        for s, n, attempts in deliveries:
            d.add_metric([s], n)
            a.add_metric([s], attempts)
        yield d
        yield a


class Metrics:
    """The API process's metrics registry."""

    def __init__(self, rt: Runtime):
        self.registry = CollectorRegistry()
        self.registry.register(StoreCollector(rt))
        self.requests = Counter(
            "openvod_rpc_requests", "RPC requests by action and HTTP status", ["action", "status"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
