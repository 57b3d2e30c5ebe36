"""OSS signature V1 (HMAC-SHA1), as oss2's ``ProviderAuth`` builds it, verified on the server side.

String to sign: ``VERB\\nContent-MD5\\nContent-Type\\nDate\\n`` + the sorted ``x-oss-*`` headers
(``name:value\\n``, names lower-cased) + ``/<bucket>/<key>`` + the sorted sub-resources of the query
(a fixed allow-list, ``k=v`` or bare ``k``). ``Date`` is ``x-oss-date`` when present. A presigned URL
puts ``Expires`` in the Date position; a POST policy is signed as its base64 text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# oss2.auth.ProviderAuth._subresource_key_set (2.19).
SUBRESOURCES = frozenset(
    """response-content-type response-content-language response-cache-control logging response-content-encoding
    acl uploadId uploads partNumber group link delete website location objectInfo objectMeta response-expires
    response-content-disposition cors lifecycle restore qos referer stat bucketInfo append position
    security-token live comp status vod startTime endTime x-oss-process symlink callback callback-var tagging
    encryption versions versioning versionId policy requestPayment x-oss-traffic-limit qosInfo asyncFetch
    x-oss-request-payer sequential inventory inventoryId continuation-token worm wormId wormExtend replication
    replicationLocation replicationProgress transferAcceleration cname metaQuery x-oss-ac-source-ip
    x-oss-ac-subnet-mask x-oss-ac-vpc-id x-oss-ac-forward-allow resourceGroup style styleName
    x-oss-async-process regionList x-oss-write-get-object-response bucketArchiveDirectRead httpsConfig
    redundancyTransition x-oss-target-redundancy-type x-oss-redundancy-transition-taskid accessPoint
    accessPointPolicy publicAccessBlock x-oss-access-point-name requesterQosInfo qosRequester
    resourcePoolInfo resourcePool resourcePoolBuckets""".split()
)


def canonical_resource(bucket: str, key: str, query: list[tuple[str, str]]) -> str:
    sub = sorted((k, v) for k, v in query if k in SUBRESOURCES)
    res = f"/{bucket}/{key}" if bucket else "/"
    if sub:
        res += "?" + "&".join(f"{k}={v}" if v else k for k, v in sub)
    return res


def canonical_headers(headers: dict[str, list[str]]) -> str:
    items = sorted((k, ",".join(v)) for k, v in headers.items() if k.startswith("x-oss-"))
    return "".join(f"{k}:{v}\n" for k, v in items)


def string_to_sign(method: str, headers: dict[str, list[str]], bucket: str, key: str,
                   query: list[tuple[str, str]], date: str | None = None) -> str:
    def h(name: str) -> str:
        v = headers.get(name)
        return v[0] if v else ""

    if date is None:
        date = h("x-oss-date") or h("date")
    return "\n".join([method, h("content-md5"), h("content-type"), date,
                      canonical_headers(headers) + canonical_resource(bucket, key, query)])


def sign(secret: str, text: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()).decode()


def equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def parse_authorization(value: str) -> tuple[str, str] | None:
    """``OSS <AccessKeyId>:<Signature>`` -> (id, signature); None for anything else."""
    if not value.startswith("OSS "):
        return None
    ak, sep, sig = value[4:].strip().partition(":")
    if not sep or not ak or not sig:
        return None
    return ak, sig
