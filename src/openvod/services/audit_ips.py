"""Audit security IPs (SetAuditSecurityIp / ListAuditSecurityIp) and what they are for.

The cloud: "when a video is under review (``Checking``) or ``Blocked``, only requests from the audit
security IPs can play it" — GetPlayInfo hands out play URLs of such a video only to callers whose
address is in one of the account's groups. openvod does that, and goes one step further for its own
signed URLs: a Checking / Blocked video's files are served only to those addresses (the cloud lets a
leaked URL play; openvod refuses it, also for URLs signed before the block).

The caller's address is the TCP peer, or — when the peer is one of ``audit.trusted_proxies`` — the
right-most X-Forwarded-For address that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update

from openvod.errors import InvalidParameter, VodError
from openvod.store.tables import audit_security_ips
from openvod.util import now, utc_iso

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Engine

REVIEW_STATUSES = ("Checking", "Blocked")
MAX_IPS = 100
MAX_GROUPS = 10
_GROUP = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class IpsIsEmpty(VodError):
    code = "IpsIsEmpty"
    http_status = 400
    message = "The specified \"Ips\" can not be empty."


class IpsExceededMax(VodError):
    code = "IpsExceededMax"
    http_status = 403
    message = f"The specified Ips count has exceeded {MAX_IPS}."


class SecurityIpGroupExceededMax(VodError):
    code = "SecurityIpGroupExceededMax"
    http_status = 403
    message = f"The audit security group count has exceeded {MAX_GROUPS}."


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:10.0.0.1 (a dual-stack socket) is 10.0.0.1
    return mapped or ip


def in_networks(ip_text: str, networks: Iterable[str]) -> bool:
    ip = _ip(ip_text)
    if ip is None:
        return False
    for n in networks:
        net = _network(n)
        if net is not None and ip.version == net.version and ip in net:
            return True
    return False


def client_address(peer: str, forwarded_for: list[str], trusted: list[str]) -> str:
    """The caller's address. X-Forwarded-For is believed only when the TCP peer is a trusted proxy;
    then its entries are walked from the right, skipping further trusted proxies."""
    if not trusted or not in_networks(peer, trusted):
        return peer
    chain = [x.strip() for v in forwarded_for for x in v.split(",") if x.strip()]
    for hop in reversed(chain):
        if _ip(hop) is None:
            return peer  # a malformed header: fall back to the peer rather than guess
        if not in_networks(hop, trusted):
            return hop
    return chain[0] if chain else peer


def ip_allowed(engine: Engine, account_id: str, client_ip: str) -> bool:
    """Whether ``client_ip`` is in any of the account's audit security IP groups."""
    if not client_ip:
        return False
    with engine.connect() as conn:
        rows = conn.execute(select(audit_security_ips.c.ips).where(audit_security_ips.c.account_id == account_id)).all()
    return in_networks(client_ip, (x for r in rows for x in r.ips.split(",") if x))


def set_security_ips(engine: Engine, account_id: str, ips_raw: str, group: str, mode: str) -> None:
    group = group or "Default"
    if not _GROUP.match(group):
        raise InvalidParameter("SecurityGroupName", "1-64 letters, digits, '-' or '_'.")
    # The cloud: a value outside Append / Cover / Delete is taken as the default, Append.
    mode = mode if mode in ("Append", "Cover", "Delete") else "Append"
    ips = [x.strip() for x in ips_raw.split(",") if x.strip()]
    if not ips:
        raise IpsIsEmpty()
    if len(ips) > MAX_IPS:
        raise IpsExceededMax()
    for ip in ips:
        net = _network(ip)
        if net is None or ("/" in ip and net.prefixlen == 0):
            raise InvalidParameter("Ips", f"{ip!r} is not an IP address or a CIDR block (prefix 1-32).")
    t = now()
    with engine.begin() as conn:
        cur = conn.execute(select(audit_security_ips).where(
            audit_security_ips.c.account_id == account_id, audit_security_ips.c.group_name == group)).first()
        have = [x for x in (cur.ips.split(",") if cur else []) if x]
        if mode == "Append":
            new = have + [x for x in dict.fromkeys(ips) if x not in have]
        elif mode == "Cover":
            new = list(dict.fromkeys(ips))
        else:
            new = [x for x in have if x not in ips]
        if len(new) > MAX_IPS:
            raise IpsExceededMax()
        if cur is None:
            n = conn.execute(select(func.count()).select_from(audit_security_ips).where(
                audit_security_ips.c.account_id == account_id)).scalar_one()
            if n >= MAX_GROUPS:
                raise SecurityIpGroupExceededMax()
            conn.execute(insert(audit_security_ips).values(account_id=account_id, group_name=group,
                                                           ips=",".join(new), created_at=t, modified_at=t))
        else:
            conn.execute(update(audit_security_ips).where(
                audit_security_ips.c.account_id == account_id, audit_security_ips.c.group_name == group)
                .values(ips=",".join(new), modified_at=t))


def list_security_ips(engine: Engine, account_id: str) -> list[dict[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_security_ips).where(audit_security_ips.c.account_id == account_id)
                            .order_by(audit_security_ips.c.created_at)).all()
    return [{"SecurityGroupName": r.group_name, "Ips": r.ips, "CreationTime": utc_iso(r.created_at),
             "ModificationTime": utc_iso(r.modified_at)} for r in rows]
