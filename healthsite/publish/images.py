"""The image files a build publishes: each picture under its content-hashed name, and the
smaller copies its `srcset` offers (made with Pillow, kept in .cache/images/ between builds).

A smaller copy is turned the way the photo is shown (its EXIF orientation) and carries no
metadata (no camera, place or time). What the copies are is decided by the image table
(`load/images.py`); this module only makes and reads their bytes."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

from ..files import read_regular
from ..load.images import RASTER, Image, Images, Pictures

CACHE = "images"  # under .cache/
JPEG_QUALITY = 85


def image_files(images: Images, root: Path, cache: Path | None) -> Iterator[tuple[str, bytes]]:
    """(output path, bytes) of every image that may be shown and of its smaller copies."""
    for source in sorted(images):
        image = images[source]
        if image.refused or not image.published.startswith("images/"):
            continue  # static/ pictures are published with static/ (same name)
        yield image.published, read_regular(str(root / source))
    for source in sorted(images):
        image = images[source]
        for width in () if image.refused else image.widths:
            yield image.variant(width), _copy(image, root, width, cache)


def picture_files(pictures: Pictures, root: Path, cache: Path | None
                  ) -> dict[str, tuple[str, bytes | None]]:
    """The pictures' files as the pages stage takes static files: {name: (output path,
    bytes)}, named by their output paths."""
    return {path: (path, data) for path, data in image_files(pictures.table, root, cache)}


def _copy(image: Image, root: Path, width: int, cache: Path | None) -> bytes:
    """The copy `width` pixels wide: from the cache, or made (and kept there if it can be;
    a cache that cannot be read or written only costs the making)."""
    suffix = os.path.splitext(image.published)[1]
    kept = cache / CACHE / f"{image.digest}-{width}{suffix}" if cache is not None else None
    with contextlib.suppress(OSError):
        if kept is not None and kept.is_file():
            return kept.read_bytes()
    data = resized(read_regular(str(root / image.source)), width, RASTER[suffix])
    if kept is not None:
        with contextlib.suppress(OSError):
            kept.parent.mkdir(parents=True, exist_ok=True)
            temporary = kept.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, kept)
    return data


def resized(data: bytes, width: int, kind: str) -> bytes:
    """The picture `data` scaled to `width` pixels wide, saved as `kind` (PNG, JPEG, WEBP)."""
    from PIL import Image as Pil
    from PIL import ImageOps

    with Pil.open(io.BytesIO(data)) as picture:
        upright = ImageOps.exif_transpose(picture)
        height = max(1, round(upright.height * width / upright.width))
        small = upright.resize((width, height), Pil.Resampling.LANCZOS)
    if kind == "JPEG" and small.mode not in ("RGB", "L"):
        small = small.convert("RGB")
    out = io.BytesIO()
    options: dict[str, object] = {"quality": JPEG_QUALITY} if kind in ("JPEG", "WEBP") else {}
    small.save(out, format=kind, **options)
    return out.getvalue()
