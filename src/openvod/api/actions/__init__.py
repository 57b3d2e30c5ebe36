"""Importing this package registers every Action handler."""

from openvod.api.actions import ai_images, ai_jobs, ai_tags, ai_templates, callbacks, media  # noqa: F401
from openvod.api.actions import audit, library, play, upload  # noqa: F401
