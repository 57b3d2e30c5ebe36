"""The account's custom audit word library (what ``openvod audit words`` manages): words per label,
add and remove, through the same service calls (``rt.audit.custom_words / add_words / remove_words``),
so a refused word or label shows the service's Code and Message."""

from __future__ import annotations

from openvod.console.auth import Session
from openvod.console.common import PREFIX, ViewsBase
from openvod.console.http import Request, Response, redirect
from openvod.errors import InvalidParameter, MissingParameter, VodError
from openvod.services.audit import WORD_LABELS

MAX_WORDS_PER_ADD = 1000


class WordViews(ViewsBase):
    def words(self, req: Request, sess: Session, status: int = 200, error: str = "", draft: str = "",
              label: str = "") -> Response:
        by_label: dict[str, list[str]] = {lab: [] for lab in WORD_LABELS}
        for word, lab in self.rt.audit.custom_words(sess.account_id):
            by_label.setdefault(lab, []).append(word)
        return self.app.render(req, "words.html", sess, status=status, by_label=by_label, labels=WORD_LABELS,
                               error=error, draft=draft, label=label or req.query.get("label", WORD_LABELS[0]))

    def add(self, req: Request, sess: Session) -> Response:
        """Form fields ``label`` and ``words`` (one word or phrase a line)."""
        label, text = req.field("label"), req.field("words")
        words = [w for w in text.splitlines() if w.strip()]
        try:
            if not words:
                raise MissingParameter("Words")
            if len(words) > MAX_WORDS_PER_ADD:
                raise InvalidParameter("Words", f"At most {MAX_WORDS_PER_ADD} words at once.")
            self.rt.audit.add_words(sess.account_id, label, words)
        except VodError as exc:
            return self.words(req, sess, status=exc.http_status, error=f"{exc.code}: {exc.message}", draft=text,
                              label=label)
        return redirect(f"{PREFIX}/words#label-{label}")

    def remove(self, req: Request, sess: Session) -> Response:
        label = req.field("label")
        try:
            self.rt.audit.remove_words(sess.account_id, label, req.fields("word"))
        except VodError as exc:
            return self.words(req, sess, status=exc.http_status, error=f"{exc.code}: {exc.message}", label=label)
        return redirect(f"{PREFIX}/words#label-{label}")

