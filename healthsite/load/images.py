"""Images articles may show: found, checked, measured and named before anything renders.

Owns the image table: every picture under content/ (next to the articles that show it,
`![alt](picture.png)`) and under static/ (`![alt](/static/logo.svg)`), each with its digest,
its size in pixels (read by Pillow from the file's header; an SVG's from its `width` and
`height` or its `viewBox`), the content-hashed name it is published under and the smaller
widths a browser may choose instead (`srcset`) when it is wider than the text column.

A file that cannot be shown is in the table with the reason (an SVG with scripts or event
handlers, a file Pillow cannot read, more pixels than a browser should decode): the renderer
reports where it is used. A file over `LARGE` bytes is a warning with its size. Reading is
through `files.read_regular` (no links out of the folder, no pipes), like every input.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

from ..errors import Level, ProblemList, did_you_mean
from ..files import outside, read_regular
from ..render.svg import svg_problem

RASTER = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}
SUFFIXES = frozenset(RASTER) | {".svg"}
FOLDERS = ("content", "static")
COLUMN = 720  # CSS pixels: the text column (44rem of 16 px, and a little more)
WIDTHS = (480, 720, 960, 1440)  # the srcset widths offered when an image is wider
LARGE = 1_000_000  # bytes; a bigger file is a warning
MAX_PIXELS = 40_000_000  # refused above (a "decompression bomb", or a photo never resized)
_ORIENTATION = 0x0112  # the EXIF tag browsers turn a photo by
_GPS = 0x8825  # the EXIF block of where a photo was taken
_DIMENSION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(?:px)?\s*$")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.I)
_ATTR = re.compile(rb"""\b(width|height|viewBox)\s*=\s*["']([^"']*)["']""", re.I)


@dataclass(frozen=True)
class Image:
    """One picture: `source` is its path in the site ("content/x/y.png", "static/a.svg")."""

    source: str
    digest: str
    size: int
    width: int | None = None
    height: int | None = None
    published: str = ""  # its path in the output ("images/y.1a2b3c4d5e.png")
    widths: tuple[int, ...] = ()  # smaller copies published beside it, for srcset
    refused: str = ""  # why it cannot be shown, if it cannot
    located: bool = False  # whether the file says where it was taken (EXIF GPS)

    def variant(self, width: int) -> str:
        """The output path of the copy `width` pixels wide."""
        stem, suffix = os.path.splitext(self.published)
        return f"{stem}-{width}w{suffix}"


Images = Mapping[str, Image]


def published_name(source: str, digest: str) -> str:
    """Where an image is published: a picture in static/ where static/ files go (under its
    own name: templates and raw HTML may name it), one in content/ in images/ under its own
    folders with the first 10 hex digits of its digest (a new picture, a new address)."""
    folder, rel = source.split("/", 1)
    if folder == "static":
        return source
    stem, suffix = os.path.splitext(rel)
    return f"images/{stem}.{digest[:10]}{suffix.lower()}"


def find_images(root: Path, problems: ProblemList) -> dict[str, Image]:
    """Every image under content/ and static/, measured and checked, by source path."""
    found: dict[str, Image] = {}
    for source in _image_paths(root):
        image = measure(source, _read(root, source, problems))
        if image is None:
            continue
        if image.located:
            problems.add("image-location", "the photo says where it was taken (GPS in its "
                         "EXIF data): published as it is, it tells every reader", source,
                         level=Level.WARNING, hint="save it again without its location, for "
                         "example with exiftool -gps:all= FILE, or your phone's share option "
                         "that removes it (the smaller copies never carry it)")
        if image.size > LARGE and not image.refused:
            problems.add("large-image", f"the image is {image.size / 1e6:.1f} MB", source,
                         level=Level.WARNING,
                         hint="readers on phones download it: save it smaller (under 1 MB), "
                         "for example as a JPEG or WebP no wider than 1,440 pixels")
        found[source] = image
    return found


def _image_paths(root: Path) -> list[str]:
    """Site paths of the image files under the input folders (links to folders not followed;
    a link out of its folder is left to the reader, which refuses it)."""
    return [path for folder in FOLDERS for path in _walk(root, folder)]


def _walk(root: Path, folder: str) -> Iterator[str]:
    base = root / folder
    if not base.is_dir() or base.is_symlink():
        return
    for here, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(here, d)))
        rel = Path(here).relative_to(root).as_posix()
        yield from (f"{rel}/{n}" for n in sorted(names) if _suffix(n) in SUFFIXES)


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def _read(root: Path, source: str, problems: ProblemList) -> bytes | None:
    path = str(root / source)
    if outside(path, os.path.realpath(root / source.split("/", 1)[0])):
        problems.add("io", "the image is a link to a file outside the site", source,
                     hint="copy the file into the folder instead of linking to it")
        return None
    try:
        return read_regular(path)
    except OSError as e:
        problems.add("io", f"cannot read the file: {e.strerror or e}", source)
        return None


def measure(source: str, data: bytes | None) -> Image | None:
    """The table's entry for the image file `source` with the bytes `data`."""
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    image = Image(source, digest, len(data), published=published_name(source, digest))
    if source.lower().endswith(".svg"):
        return _svg(image, data)
    return _raster(image, data)


def _svg(image: Image, data: bytes) -> Image:
    why = svg_problem(data)
    if why:
        message, line, _ = why
        return replace(image, refused=f"the SVG is refused: {message} (its line {line})")
    width, height = svg_size(data)
    return replace(image, width=width, height=height)


def svg_size(data: bytes) -> tuple[int | None, int | None]:
    """An SVG's size in CSS pixels: its `width` and `height` when both are plain numbers
    (or px), else its viewBox's; (None, None) when it has neither."""
    tag = _SVG_TAG.search(data)
    attrs = {k.decode().lower(): v.decode() for k, v in _ATTR.findall(tag[0])} if tag else {}
    width, height = (_DIMENSION.match(attrs.get(k, "")) for k in ("width", "height"))
    if width and height:
        return round(float(width[1])), round(float(height[1]))
    return _view_box(attrs.get("viewbox", ""))


def _view_box(text: str) -> tuple[int | None, int | None]:
    """The width and height of a viewBox ("0 0 64 32"), if it has a positive one."""
    try:
        w, h = (float(n) for n in text.replace(",", " ").split()[2:4])
    except ValueError:  # (too few numbers, or not numbers)
        return None, None
    return (round(w), round(h)) if w > 0 and h > 0 else (None, None)


def _raster(image: Image, data: bytes) -> Image:
    from PIL import Image as Pil  # imported when a site has pictures

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Pil.DecompressionBombWarning)
            with Pil.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                kind = picture.format
                exif = picture.getexif()
                if exif.get(_ORIENTATION, 1) in (5, 6, 7, 8):  # shown turned
                    width, height = height, width
                located = bool(exif.get_ifd(_GPS))
    except (OSError, ValueError, SyntaxError, Pil.DecompressionBombWarning,
            Pil.DecompressionBombError):
        return replace(image, refused="the file is not a PNG, JPEG, GIF or WebP picture that "
                       "can be read")
    if width * height > MAX_PIXELS:
        return replace(image, refused=f"the image is {width} x {height} pixels, too many for a "
                     f"web page (at most {MAX_PIXELS // 1_000_000} million)")
    widths = tuple(w for w in WIDTHS if w < width) if width > COLUMN and kind != "GIF" else ()
    return replace(image, width=width, height=height, widths=widths, located=located)


def images_digest(images: Images) -> str:
    """What the renderer reads of the table, as one digest (for the render memo's key)."""
    h = hashlib.sha256()
    for source in sorted(images):
        i = images[source]
        h.update(repr((source, i.published, i.width, i.height, i.widths, i.refused)).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Pictures:
    """The image table as the renderer uses it: where an article's `![alt](address)` points,
    and the attributes its `img` gets. `base` is the site's base path ("/" or "/guide/")."""

    table: Images
    base: str = "/"

    def source_of(self, article: str, address: str) -> str | None:
        """The site path an image address in the article (file `article`) names, or None for
        one the engine does not own (another site's, or a page's address)."""
        path = unquote(address.split("#", 1)[0].split("?", 1)[0])
        if not path or _SCHEME.match(path) or path.startswith("//"):
            return None
        if path.startswith("/"):
            for prefix in (f"{self.base}static/", "/static/"):
                if path.startswith(prefix):
                    return "static/" + path[len(prefix):]
            return None
        return posixpath.normpath(posixpath.join(posixpath.dirname(article), path))

    def attributes(self, image: Image) -> dict[str, str]:
        """The `img` attributes that show `image`: its address, size, lazy loading and, when
        it is wider than the text column, the smaller copies a browser may choose."""
        url = self.base + image.published
        attrs = {"src": url, "loading": "lazy", "decoding": "async"}
        if image.width and image.height:
            attrs |= {"width": str(image.width), "height": str(image.height)}
        if image.widths:
            attrs["srcset"] = ", ".join([*(f"{self.base}{image.variant(w)} {w}w"
                                           for w in image.widths), f"{url} {image.width}w"])
            attrs["sizes"] = f"(max-width: {COLUMN}px) 100vw, {COLUMN}px"
        return attrs

    def suggestion(self, article: str, address: str) -> str:
        """A "did you mean" among the pictures, written as the article would address them."""
        here = posixpath.dirname(article)
        written = [posixpath.relpath(s, here) if s.startswith("content/") else f"/{s}"
                   for s in self.table if not self.table[s].refused]
        return did_you_mean(address, written) or ("put the picture next to the article (in "
                                                  "content/) or in static/ (written /static/NAME)")
