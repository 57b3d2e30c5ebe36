"""How long one account's callback waits while another account's receiver hangs (issue 10, defect 5).

Account A has N events for a receiver that accepts connections and never answers; account B's
event is added once A's sends are hanging. Prints B's delay (event due -> received) and the ratio
to callbacks.timeout_s. In process, with the production defaults unless overridden:

    PYTHONPATH=src:. python -m bench.callbacks.fairness [--events 20] [--timeout 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from openvod.notify.delivery import OutboxDeliverer
from tests.engine.test_delivery import Hanging, add_event, make_rt
from tests.receiver import CallbackReceiver


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    delays = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            rt = make_rt(Path(tmp), timeout_s=args.timeout, backoff_initial_s=60)
            slow, rx = Hanging(), CallbackReceiver()
            d = OutboxDeliverer(rt)
            try:
                t0 = time.time() - 5
                for i in range(args.events):
                    add_event(rt, "acct-a", slow.url + f"/{i}", f"a{i}", at=t0 + i * 0.01)
                d.start()
                while slow.accepted < min(args.events, rt.settings.callbacks.per_destination):
                    time.sleep(0.005)
                tb = time.monotonic()
                add_event(rt, "acct-b", rx.url, "b0")
                while not rx.requests:
                    time.sleep(0.002)
                delays.append(rx.requests[0].at - tb)
                print(f"run {run}: B delayed {delays[-1] * 1000:.0f} ms; A's receiver held {slow.max_open} "
                      f"connections at most (limit {rt.settings.callbacks.per_destination})")
            finally:
                d.stop()
                slow.close()
                rx.close()
                rt.close()
    worst = max(delays)
    print(f"worst B delay {worst * 1000:.0f} ms = {worst / args.timeout:.3f} x callbacks.timeout_s "
          f"({args.events} hanging events for A; serial delivery would be ~{args.events} x)")


if __name__ == "__main__":
    main()
