"""One error hierarchy. Raised anywhere, turned into the Alibaba error envelope in one place (api.rpc)."""

from __future__ import annotations


class VodError(Exception):
    """An error with a wire code, an HTTP status and a message."""

    code: str = "InternalError"
    http_status: int = 500
    message: str = "The request processing has failed due to some unknown error."

    def __init__(self, message: str | None = None, *, code: str | None = None, http_status: int | None = None):
        self.message = message if message is not None else type(self).message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        super().__init__(f"{self.code}: {self.message}")


class MissingParameter(VodError):
    """A mandatory parameter is absent."""

    code = "MissingParameter"
    http_status = 400

    def __init__(self, name: str):
        super().__init__(f'The input parameter "{name}" that is mandatory for processing this request is not supplied.')
        self.param = name


class InvalidParameter(VodError):
    """A parameter has the wrong type, form or value."""

    code = "InvalidParameter"
    http_status = 400

    def __init__(self, name: str, detail: str | None = None, *, code: str | None = None):
        msg = f'The specified parameter "{name}" is not valid.'
        if detail:
            msg += f" {detail}"
        super().__init__(msg, code=code)
        self.param = name


class InvalidAccessKeyIdNotFound(VodError):
    code = "InvalidAccessKeyId.NotFound"
    http_status = 404
    message = "Specified access key is not found."


class InvalidAccessKeyIdInactive(VodError):
    code = "InvalidAccessKeyId.Inactive"
    http_status = 400
    message = "Specified access key is disabled."


class SignatureDoesNotMatch(VodError):
    code = "SignatureDoesNotMatch"
    http_status = 400

    def __init__(self, string_to_sign: str):
        super().__init__(
            "Specified signature is not matched with our calculation. server string to sign is:" + string_to_sign
        )


class IncompleteSignature(VodError):
    code = "IncompleteSignature"
    http_status = 400
    message = "The request signature does not conform to Aliyun standards."


class InvalidTimeStampExpired(VodError):
    code = "InvalidTimeStamp.Expired"
    http_status = 400
    message = "Specified time stamp or date value is expired."


class InvalidTimeStampFormat(VodError):
    code = "InvalidTimeStamp.Format"
    http_status = 400
    message = "Specified time stamp or date value is not well formatted."


class SignatureNonceUsed(VodError):
    code = "SignatureNonceUsed"
    http_status = 400
    message = "Specified signature nonce was used already."


class UnsupportedSignatureMethod(VodError):
    code = "InvalidSignatureMethod"
    http_status = 400
    message = "Specified signature method is not supported."


class InvalidVersion(VodError):
    code = "InvalidVersion"
    http_status = 400
    message = "Specified parameter Version is not valid."


class InvalidActionNotFound(VodError):
    code = "InvalidAction.NotFound"
    http_status = 404
    message = "Specified api is not found, please check your url and method."


class ThrottlingUser(VodError):
    code = "Throttling.User"
    http_status = 400
    message = "Request was denied due to user flow control."


class InternalError(VodError):
    code = "InternalError"
    http_status = 500


class ServiceUnavailable(VodError):
    """A temporary condition of the server (e.g. its disk is full): the client may retry later."""

    code = "ServiceUnavailable"
    http_status = 503
    message = "The request has failed due to a temporary failure of the server."


class VideoNotFound(VodError):
    code = "InvalidVideo.NotFound"
    http_status = 404
    message = "The video does not exist."


class TemplateNotFound(VodError):
    code = "InvalidAITemplate.NotFound"
    http_status = 404
    message = "The AI template does not exist."
