"""One options model per job type: what SubmitAIJob / SubmitAIImageJob accept, what the AI templates
store, and what the handler reads at run time. Error messages come from here and only from here.

Each model reads two forms of the same options:

* the **wire** form (``parse_options(..., wire=True)``): what a client sends, e.g. ``AnalyseTypes``
  as a comma-separated string, ``OrigASRData`` as ``true`` or ``"true"``, ``Count`` as ``"3"``;
* the **stored** form: the normalised JSON the job row or the template keeps
  (``model_dump(mode="json")`` of a parsed model), e.g. ``AnalyseTypes`` as a list.

``DNADBId`` (one rule, decided here; docs/decisions.md): absent means the account's default library
(stored as ""); a given value must be a string of 1 to 64 characters without white space.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from openvod.errors import InvalidParameter

# The AIVideoTag analyses, in their canonical (wire and result) order. Defined here only.
AnalyseType = Literal["Face", "ASR", "OCR", "Category", "Annotation"]
ANALYSE_TYPES: tuple[AnalyseType, ...] = ("Face", "ASR", "OCR", "Category", "Annotation")
_ANALYSE_LOOKUP = {t.lower(): t for t in ANALYSE_TYPES}

M = TypeVar("M", bound=BaseModel)


def _wire(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("wire"))


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"{field} must be true or false.")


def _unknown(data: Any, allowed: set[str], what: str) -> Any:
    if isinstance(data, dict):
        extra = sorted(set(data) - allowed)
        if extra:
            raise ValueError(f"Unknown {what} key(s): {', '.join(extra)}.")
    return data


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VideoTagOptions(_Options):
    """SubmitAIJob ``Config.AIVideoTag`` (or ``AIVideoTagConfig``)."""

    AnalyseTypes: list[AnalyseType] = Field(default_factory=lambda: list(ANALYSE_TYPES))
    OrigASRData: bool = False

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        return _unknown(data, {"AnalyseTypes", "OrigASRData"}, "AIVideoTag")

    @field_validator("AnalyseTypes", mode="before")
    @classmethod
    def _types(cls, value: Any, info: ValidationInfo) -> list[str]:
        if isinstance(value, str):
            names = [x.strip() for x in value.split(",") if x.strip()]
        elif isinstance(value, list | tuple) and not _wire(info) and all(isinstance(x, str) for x in value):
            names = [str(x) for x in value]
        else:
            raise ValueError("AIVideoTag.AnalyseTypes must be a comma-separated string.")
        if not names:
            raise ValueError("AIVideoTag.AnalyseTypes must name at least one type.")
        bad = [n for n in names if n.lower() not in _ANALYSE_LOOKUP]
        if bad:
            raise ValueError(f"Unknown AnalyseTypes value(s): {', '.join(bad)}. Allowed: {', '.join(ANALYSE_TYPES)}.")
        asked = {n.lower() for n in names}
        return [t for t in ANALYSE_TYPES if t.lower() in asked]

    @field_validator("OrigASRData", mode="before")
    @classmethod
    def _orig(cls, value: Any) -> bool:
        return _bool(value, "OrigASRData")


class MediaDNAOptions(_Options):
    """SubmitAIJob ``Config.AIMediaDNA`` (or ``AIMediaDNAConfig``, or a top-level ``DNADBId``)."""

    DNADBId: str = ""
    SearchOnly: bool = False

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        return _unknown(data, {"DNADBId", "SearchOnly"}, "AIMediaDNA")

    @field_validator("DNADBId", mode="before")
    @classmethod
    def _db(cls, value: Any, info: ValidationInfo) -> str:
        if value is None or (value == "" and not _wire(info)):
            return ""  # the account's default library
        if not isinstance(value, str) or not value or len(value) > 64 or any(c.isspace() for c in value):
            raise ValueError("DNADBId must be a non-empty string of at most 64 characters without white space.")
        return value

    @field_validator("SearchOnly", mode="before")
    @classmethod
    def _search_only(cls, value: Any) -> bool:
        return _bool(value, "SearchOnly")


class AIImageOptions(_Options):
    """An AIImage template's ``TemplateConfig`` (AddAITemplate / UpdateAITemplate), which
    SubmitAIImageJob runs with. ``Count`` (1-10) is an openvod extension."""

    Format: Literal["png", "gif"]
    SetDefaultCover: Literal["true", "false"]
    Count: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> Any:
        # Checked in this order, so a config with several problems always gets the same message.
        if not isinstance(data, dict):
            return data
        fmt = data.get("Format")
        if not isinstance(fmt, str) or fmt.lower() not in ("gif", "png"):
            raise ValueError("Format is required and must be gif or png.")
        cover = data.get("SetDefaultCover")
        if isinstance(cover, bool):
            cover = "true" if cover else "false"
        if not isinstance(cover, str) or cover.lower() not in ("true", "false"):
            raise ValueError('SetDefaultCover is required and must be "true" or "false".')
        out: dict[str, Any] = {**data, "Format": fmt.lower(), "SetDefaultCover": cover.lower()}
        if "Count" in data:
            count = data["Count"]
            if isinstance(count, str) and count.isascii() and count.isdigit() and len(count) <= 3:
                count = int(count)
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10:
                raise ValueError("Count must be an integer from 1 to 10.")
            out["Count"] = count
        return _unknown(out, {"Format", "SetDefaultCover", "Count"}, "AIImage")


def _message(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ValueError):
        return str(cause)
    where = ".".join(str(x) for x in err.get("loc", ()))
    if err.get("type") == "extra_forbidden":
        return f"Unknown key(s): {where}."
    if err.get("type") == "missing":
        return f"{where} is required."
    return f"{where}: {err.get('msg', 'invalid value')}." if where else f"{err.get('msg', 'invalid value')}."


def parse_options(model: type[M], data: Any, *, param: str = "Config", wire: bool = False) -> M:
    """``data`` as ``model``, or ``InvalidParameter(param, <the model's message>)``."""
    if not isinstance(data, dict):
        raise InvalidParameter(param, "It must be a JSON object.")
    try:
        return model.model_validate(data, context={"wire": wire})
    except ValidationError as exc:
        raise InvalidParameter(param, _message(exc)) from None


def stored(options: BaseModel) -> dict[str, Any]:
    """The stored (normalised JSON) form of parsed options."""
    return options.model_dump(mode="json", exclude_none=True)

