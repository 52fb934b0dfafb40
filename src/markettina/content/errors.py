"""The content context's refusals, each with its HTTP status and stable code."""

from __future__ import annotations

from typing import Any

from markettina.kernel.errors import (
    Conflict,
    FieldError,
    Forbidden,
    MarkettinaError,
    NotFound,
    ValidationFailed,
)

# --- campaigns ------------------------------------------------------------------------------


class CampaignNotFound(NotFound):
    code = "campaign_not_found"

    def __init__(self) -> None:
        super().__init__("no such campaign in this account")


class IllegalCampaignTransition(Conflict):
    """409: the status machine has no arrow from the current status to the one asked for;
    the problem document names both."""

    code = "illegal_status_transition"

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"a campaign cannot go from {current} to {requested}")
        self.extensions = {"from": current, "to": requested}


class CampaignVersionConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the campaign changed since you read it (now at version {current}); "
            "read it again and retry"
        )
        self.extensions = {"current_version": current}


# --- media library (content/media_*.py) --------------------------------------------------
# --- templates and A/B variants (h-templates) ------------------------------------------------


class MediaNotFound(NotFound):
    code = "media_not_found"

    def __init__(self) -> None:
        super().__init__("no such media asset in this account")


class UploadTooLarge(MarkettinaError):
    """413: the file is larger than MEDIA_MAX_UPLOAD_BYTES (refused before it is all read)."""

    status, code, title = 413, "upload_too_large", "Upload too large"

    def __init__(self, *, limit: int) -> None:
        super().__init__(
            f"a file may be at most {limit} bytes",
            errors=[FieldError("body.file", f"larger than {limit} bytes", "too_large")],
        )
        self.extensions = {"max_upload_bytes": limit}


class MediaQuotaExceeded(MarkettinaError):
    """413: storing the file would take the account past its storage quota."""

    status, code, title = 413, "media_quota_exceeded", "Storage quota exceeded"

    def __init__(self, *, used: int, quota: int, size: int) -> None:
        super().__init__(
            f"this file ({size} bytes) does not fit: {used} of {quota} bytes are in use",
            errors=[FieldError("body.file", "over the account's storage quota", "over_quota")],
        )
        self.extensions = {"used_bytes": used, "quota_bytes": quota, "file_size_bytes": size}


class UnsupportedMediaType(MarkettinaError):
    """415: the file's bytes are of no type the library keeps."""

    status, code, title = 415, "unsupported_media_type", "Unsupported media type"

    def __init__(self, found: str | None, allowed: list[str]) -> None:
        what = f"a {found} file" if found else "a file of unknown type"
        super().__init__(
            f"{what} cannot be stored; allowed: {', '.join(allowed)}",
            errors=[
                FieldError(
                    "body.file",
                    f"{found or 'unknown type'} is not allowed",
                    "unsupported_media_type",
                )
            ],
        )
        self.extensions = {"detected_type": found, "allowed_types": allowed}


class MediaTypeMismatch(ValidationFailed):
    """422: the part's declared Content-Type is not what its bytes are."""

    code = "media_type_mismatch"

    def __init__(self, declared: str, found: str) -> None:
        super().__init__(
            f"the file is declared {declared} but its content is {found}",
            errors=[
                FieldError(
                    "body.file", f"declared {declared}, content is {found}", "media_type_mismatch"
                )
            ],
        )


class UnreadableMedia(ValidationFailed):
    """422: the file claims a type its content does not hold up (corrupt, truncated, a
    decompression bomb)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, errors=[FieldError("body.file", message, code)], code=code)


class MediaInUse(Conflict):
    """409: posts still show the asset; the problem names them."""

    code = "media_in_use"

    def __init__(self, post_ids: list[int]) -> None:
        shown = ", ".join(str(p) for p in post_ids)
        super().__init__(f"posts {shown} still use this asset; detach it from them first")
        self.extensions = {"post_ids": post_ids}


class BadDownloadLink(Forbidden):
    """403: a signed download link that is expired, altered or not for this asset."""

    code = "invalid_download_link"


class TemplateNotFound(NotFound):
    code = "template_not_found"


class TemplateReadOnly(Forbidden):
    """Another account's public template: readable and renderable, never changed."""

    code = "template_read_only"


class TemplatePublishForbidden(Forbidden):
    """Making a template public (shared with every account) needs account:update."""

    code = "template_publish_forbidden"


class TemplateInactive(Conflict):
    code = "template_inactive"


class TemplateVersionConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the template changed since you read it (now at version {current}); "
            "read it again and retry"
        )
        self.extensions = {"current_version": current}


class TemplateVariablesInvalid(ValidationFailed):
    code = "template_variables_invalid"

    def __init__(
        self, detail: str, *, errors: list[FieldError], undeclared: list[str] | None = None
    ) -> None:
        super().__init__(detail, errors=errors)
        if undeclared:
            self.extensions = {"undeclared_variables": undeclared}


class TemplateNotRenderable(ValidationFailed):
    """The sandbox refused the template (``code`` says how: template_unsafe,
    template_too_expensive, template_syntax_error ...), at save or at render."""

    def __init__(self, code: str, message: str, *, field: str) -> None:
        super().__init__(message, errors=[FieldError(field, message, code)], code=code)


class VariantNotFound(NotFound):
    code = "variant_not_found"


class VariantParentNotFound(NotFound):
    """The post or e-mail campaign a variant belongs to is not in the account."""

    code = "variant_parent_not_found"

    def __init__(self, parent_type: str, parent_id: str, *, field: str) -> None:
        super().__init__(
            f"no {parent_type.replace('_', ' ')} {parent_id} in this account",
            errors=[FieldError(field, "no such parent in this account", "not_found")],
        )


class TrafficSplitInvalid(ValidationFailed):
    code = "traffic_split_invalid"


class WinnerNotSignificant(Conflict):
    """The test has not shown a significant difference: the statistics say why."""

    code = "winner_not_significant"

    def __init__(self, detail: str, analysis: dict[str, Any]) -> None:
        super().__init__(detail)
        self.extensions = {"analysis": analysis}


class WinnerAlreadyDeclared(Conflict):
    code = "winner_already_declared"


# --- leads -------------------------------------------------------------------------------


class LeadNotFound(NotFound):
    code = "lead_not_found"

    def __init__(self) -> None:
        super().__init__("no such lead")


class LeadVersionConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the lead changed since you read it (now at version {current}); "
            "read it again and retry"
        )


class IllegalLeadTransition(Conflict):
    """A status change the pipeline does not allow (docs/api.md lists the allowed ones)."""

    code = "illegal_transition"

    def __init__(self, from_status: str, to_status: str, allowed: tuple[str, ...]) -> None:
        then = ", ".join(allowed) if allowed else "nothing (it is final)"
        super().__init__(
            f"a lead cannot move from {from_status} to {to_status}; from {from_status} "
            f"it can move to {then}"
        )
        self.extensions = {"from_status": from_status, "to_status": to_status}


class LeadScoringWeightsConflict(Conflict):
    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the scoring weights changed since you read them (now at version {current}); "
            "read them again and retry"
        )


# --- posts (h-posts) ----------------------------------------------------------------------


class PostNotFound(NotFound):
    code = "post_not_found"

    def __init__(self) -> None:
        super().__init__("no such post")


class PostVersionConflict(Conflict):
    """The post changed since the caller read it (optimistic locking)."""

    code = "version_conflict"

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the post changed since you read it (now at version {current}); "
            "read it again and retry"
        )
        self.extensions = {"current_version": current}


class IllegalPostTransition(Conflict):
    """A post's status cannot go from where it is to where it was asked to go."""

    code = "illegal_transition"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a {current} post cannot become {wanted}")
        self.extensions = {"post_status": current, "requested_status": wanted}


class PostAwaitingApproval(Conflict):
    """The account requires approval for posts and this one has none yet."""

    code = "approval_pending"

    def __init__(self) -> None:
        super().__init__(
            "this post is waiting for approval: it can be scheduled once it is approved"
        )


class PostVersionNotFound(NotFound):
    code = "post_version_not_found"

    def __init__(self, number: int) -> None:
        super().__init__(f"this post has no version {number}")


class PostNotEditable(Conflict):
    """The post is being published, was published or was cancelled: its content is final."""

    code = "post_not_editable"

    def __init__(self, status: str) -> None:
        super().__init__(f"a {status} post cannot be edited")
        self.extensions = {"post_status": status}


# --- calendar, posting queue, recurring posts, import (h-calendar) --------------------------
from markettina.kernel.errors import ValidationFailed  # noqa: E402


class CalendarNotFound(NotFound):
    code = "editorial_calendar_not_found"


class SocialAccountNotFound(NotFound):
    code = "social_account_not_found"


class QueueNotFound(NotFound):
    code = "posting_queue_not_found"


class SeriesNotFound(NotFound):
    code = "post_series_not_found"


class VersionConflict(Conflict):
    """The resource changed since the caller read it (optimistic locking)."""

    code = "version_conflict"

    def __init__(self, what: str, current: int | None) -> None:
        now = "it is gone" if current is None else f"now at version {current}"
        super().__init__(f"the {what} changed since you read it ({now}); read it again and retry")
        self.extensions = {"current_version": current}


class VersionRequired(ValidationFailed):
    code = "version_required"

    def __init__(self) -> None:
        super().__init__(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )


class QueueNotConfigured(Conflict):
    """A target social account has no posting slots to queue into."""

    code = "queue_not_configured"

    def __init__(self, social_account_ids: list[str]) -> None:
        super().__init__(
            "no posting slots are configured for social account(s) " + ", ".join(social_account_ids)
        )
        self.extensions = {"social_account_ids": social_account_ids}


class QueueFull(Conflict):
    """Every slot within the horizon is taken: the answer says when the next slot is."""

    code = "queue_full"

    def __init__(self, *, horizon_days: int, next_slot_at: str | None) -> None:
        super().__init__(
            f"every common posting slot of the next {horizon_days} days is taken"
            + (f"; the next slot after that is {next_slot_at}" if next_slot_at else "")
        )
        self.extensions = {"horizon_days": horizon_days, "next_slot_at": next_slot_at}


class RangeTooLong(ValidationFailed):
    code = "range_too_long"

    def __init__(self, max_days: int) -> None:
        super().__init__(
            f"a calendar covers at most {max_days} days",
            errors=[
                FieldError("query.to", f"at most {max_days} days after from", "range_too_long")
            ],
        )


class BadRange(ValidationFailed):
    code = "invalid_range"

    def __init__(self) -> None:
        super().__init__(
            "to must not be before from",
            errors=[FieldError("query.to", "before from", "invalid_range")],
        )
