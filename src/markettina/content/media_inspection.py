"""What a media file is, read from its bytes and never from what the client says: the
type (sniffed with ``filetype``), an image's size and thumbnail (Pillow, with a ceiling on
pixels against decompression bombs), a video's duration (``ffprobe``, when the server has
it), and the system tags that follow (``image``, ``landscape``, ...)."""

from __future__ import annotations

import asyncio
import json
import shutil
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import filetype
from PIL import Image, ImageOps

from .errors import MediaTypeMismatch, UnreadableMedia, UnsupportedMediaType

# the types the library keeps, by what they are
KINDS: dict[str, str] = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/webm": "video",
    "application/pdf": "document",
}
ALLOWED_TYPES = sorted(KINDS)
# what clients commonly declare for the same thing
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "video/mov": "video/quicktime"}
# declared types that say nothing about the content
_UNSPECIFIC = {"application/octet-stream", "binary/octet-stream"}

SNIFF_BYTES = 8192
THUMBNAIL_SIZE = (400, 400)
THUMBNAIL_TYPE = "image/webp"
FFPROBE_TIMEOUT_SECONDS = 30


@dataclass
class Inspection:
    mime_type: str
    kind: str
    width: int | None = None
    height: int | None = None
    duration_seconds: Decimal | None = None
    duration_status: str | None = None  # videos: measured, ffprobe_absent, ffprobe_failed
    thumbnail: Path | None = None
    animated: bool = False
    system_tags: list[str] = field(default_factory=list)


def sniff(head: bytes, declared: str | None) -> tuple[str, str]:
    """The (mime type, kind) of a file whose first bytes are ``head``: 415 if not an
    allowed type, 422 if the client declared another type than the bytes are."""
    guessed = filetype.guess(head)
    found = guessed.mime if guessed is not None else None
    if found not in KINDS:
        raise UnsupportedMediaType(found, ALLOWED_TYPES)
    if declared:
        said = _ALIASES.get(declared.lower(), declared.lower())
        if said not in _UNSPECIFIC and said != found:
            raise MediaTypeMismatch(declared, found)
    return found, KINDS[found]


async def inspect(
    path: Path, *, mime_type: str, kind: str, max_image_pixels: int, thumbnail: Path
) -> Inspection:
    """Measure the file at ``path``; an image's thumbnail is written to ``thumbnail``."""
    found = Inspection(mime_type=mime_type, kind=kind)
    if kind == "image":
        await asyncio.to_thread(_measure_image, path, found, max_image_pixels, thumbnail)
    elif kind == "video":
        await _probe_video(path, found)
    found.system_tags = system_tags(found)
    return found


def system_tags(found: Inspection) -> list[str]:
    tags = [found.kind, found.mime_type.split("/", 1)[1]]
    if found.width and found.height:
        if found.width > found.height:
            tags.append("landscape")
        elif found.width < found.height:
            tags.append("portrait")
        else:
            tags.append("square")
    if found.animated:
        tags.append("animated")
    return tags


def _measure_image(path: Path, found: Inspection, max_pixels: int, thumbnail: Path) -> None:
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that: both refuse
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise _too_large(width, height, max_pixels)
                animated = bool(getattr(image, "is_animated", False))
                image.load()  # a truncated or corrupt file fails here
                shown = ImageOps.exif_transpose(image)  # as a viewer shows it
                found.width, found.height = shown.size
                _write_thumbnail(shown, thumbnail)
                found.thumbnail = thumbnail
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableMedia(
            f"the image has too many pixels to open safely ({exc})", code="image_too_large"
        ) from exc
    except UnreadableMedia:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnreadableMedia(
            "the image is truncated or corrupt and cannot be read", code="corrupt_image"
        ) from exc
    found.animated = animated


def _too_large(width: int, height: int, max_pixels: int) -> UnreadableMedia:
    return UnreadableMedia(
        f"the image is {width}x{height} pixels, more than the {max_pixels} allowed",
        code="image_too_large",
    )


def _write_thumbnail(image: Image.Image, target: Path) -> None:
    small = image.convert("RGBA" if _has_alpha(image) else "RGB")
    small.thumbnail(THUMBNAIL_SIZE)
    small.save(target, format="WEBP", quality=80)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


async def _probe_video(path: Path, found: Inspection) -> None:
    """Duration (and frame size) from ffprobe's JSON; when the server has no ffprobe the
    duration stays unknown and ``duration_status`` says why."""
    executable = shutil.which("ffprobe")
    if executable is None:
        found.duration_status = "ffprobe_absent"
        return
    try:
        process = await asyncio.create_subprocess_exec(
            executable,
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        found.duration_status = "ffprobe_failed"
        return
    try:
        output, _ = await asyncio.wait_for(process.communicate(), FFPROBE_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        found.duration_status = "ffprobe_failed"
        return
    facts = _ffprobe_facts(output) if process.returncode == 0 else None
    if facts is None:
        found.duration_status = "ffprobe_failed"
        return
    found.duration_seconds, found.width, found.height = facts
    found.duration_status = "measured"


def _ffprobe_facts(output: bytes) -> tuple[Decimal, int | None, int | None] | None:
    try:
        report = json.loads(output)
        duration = Decimal(str(report["format"]["duration"])).quantize(Decimal("0.001"))
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return None
    if not duration.is_finite() or duration < 0 or duration >= Decimal("1e7"):
        return None
    streams = report.get("streams") or []
    video = next((s for s in streams if isinstance(s, dict) and s.get("codec_type") == "video"), {})
    width, height = video.get("width"), video.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        width = height = None
    return duration, width, height
