"""An OSS-compatible object endpoint in front of openvod's blob store (docs/upload.md).

``auth`` verifies OSS V1 signatures (header, presigned URL and POST policy), ``crc64`` computes the
CRC-64/ECMA that oss2 checks, ``gateway`` runs the object operations synchronously (one request per
thread) and ``asgi`` bridges it onto the ASGI server.
"""
