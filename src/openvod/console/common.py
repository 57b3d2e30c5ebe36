"""What the console's application object and its views share: the URL prefix, cookie names, the
not-found signal, small parsing helpers, and ``ConsoleHost`` — the part of the application the views
use. The views know the application only through that protocol, so ``openvod.console.app`` imports
the views and never the other way round."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from openvod.domain.jobs import AI_IMAGE_TYPE, AI_JOB_TYPES

if TYPE_CHECKING:
    from openvod.console.auth import ConsoleAuth, Session
    from openvod.console.http import Request, Response
    from openvod.runtime import Runtime

PREFIX = "/console"
SESSION_COOKIE = "ovc_session"
LOGIN_COOKIE = "ovc_login"  # double-submit token of the sign-in form (login CSRF)
LANG_COOKIE = "ovc_lang"
MAX_FORM = 256 * 1024

MEDIA_ID = r"(?P<media_id>[0-9a-f]{32})"
JOB_TYPES = AI_JOB_TYPES + (AI_IMAGE_TYPE, "AIMediaAudit")
JOB_STATUSES = ("init", "processing", "success", "fail")

# (method, path pattern under PREFIX, handler, needs a signed-in session)
Route = tuple[str, str, Any, bool]


class NotFound(Exception):
    pass


class ConsoleHost(Protocol):
    """What a view needs of the console application (``openvod.console.app.ConsoleApp``)."""

    @property
    def rt(self) -> Runtime: ...

    @property
    def auth(self) -> ConsoleAuth: ...

    def render(self, req: Request, template: str, sess: Session | None = None, status: int = 200,
               **ctx: Any) -> Response: ...

    def session_cookie(self, token: str) -> tuple[str, str]: ...

    def clear_cookie(self) -> tuple[str, str]: ...

    def login_token_cookie(self) -> tuple[str, tuple[str, str]]: ...

    def sign(self, blob_key: str) -> str: ...

    def thumb_url(self, row: dict[str, Any]) -> str: ...

    def frame(self, sess: Session, media_id: str, t: float) -> Response: ...


class ViewsBase:
    """A group of views: the application they serve and its runtime."""

    def __init__(self, app: ConsoleHost):
        self.app = app
        self.rt = app.rt


def safe_next(target: str) -> str:
    """``target`` when it is a console path, else the library (no open redirect)."""
    return target if target.startswith(PREFIX + "/") and "//" not in target and "\\" not in target else PREFIX + "/library"


def fmt_duration(s: float) -> str:
    s = int(round(float(s or 0)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def num(x: Any, default: float = 0.0) -> float:
    """``float(x)``, or ``default`` when ``x`` is not a number."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return default
