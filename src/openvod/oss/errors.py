"""OSS errors: an XML ``<Error>`` body with Code, Message, RequestId, HostId (and extras), HTTP status."""

from __future__ import annotations

from xml.sax.saxutils import escape


class OssError(Exception):
    """An error of the object endpoint, rendered as OSS's XML error body."""

    def __init__(self, status: int, code: str, message: str, **extra: str):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def xml(self, request_id: str, host_id: str) -> bytes:
        fields = [("Code", self.code), ("Message", self.message), ("RequestId", request_id), ("HostId", host_id)]
        fields += list(self.extra.items())
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'.encode()


def access_denied(message: str) -> OssError:
    return OssError(403, "AccessDenied", message)


def security_token_expired() -> OssError:
    return OssError(403, "SecurityTokenExpired", "The security token you provided has expired.")


def invalid_access_key(ak: str) -> OssError:
    return OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
                    OSSAccessKeyId=ak)


def invalid_token() -> OssError:
    return OssError(403, "InvalidSecurityToken", "The security token you provided is invalid.")


def entity_too_large(limit: int) -> OssError:
    return OssError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.",
                    MaxSizeAllowed=str(limit))


def no_such_upload(upload_id: str) -> OssError:
    return OssError(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, "
                    "or the upload may have been aborted or completed.", UploadId=upload_id)


def no_such_key(key: str) -> OssError:
    return OssError(404, "NoSuchKey", "The specified key does not exist.", Key=key)


def invalid_argument(message: str, name: str = "", value: str = "") -> OssError:
    extra = {"ArgumentName": name, "ArgumentValue": value} if name else {}
    return OssError(400, "InvalidArgument", message, **extra)
