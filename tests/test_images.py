"""The image table (load/images.py) and the copies published for srcset (publish/images.py)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from conftest import good_files
from PIL import Image as Pil

from healthsite.errors import ProblemList
from healthsite.load.images import LARGE, WIDTHS, find_images, published_name, svg_size
from healthsite.pipeline import Options, build_site
from healthsite.publish.images import image_files, resized


def _site(tmp_path: Path) -> Path:
    (tmp_path / "content" / "pics").mkdir(parents=True)
    (tmp_path / "static").mkdir()
    return tmp_path


def _png(path: Path, size: tuple[int, int], colour: str = "red") -> None:
    Pil.new("RGB", size, colour).save(path)


def test_raster_sizes_names_and_srcset_widths(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _png(root / "content/pics/wide.png", (1600, 800))
    _png(root / "content/narrow.png", (300, 200))
    problems = ProblemList()
    table = find_images(root, problems)
    wide, narrow = table["content/pics/wide.png"], table["content/narrow.png"]
    assert (wide.width, wide.height, wide.widths) == (1600, 800, WIDTHS)
    assert wide.published == f"images/pics/wide.{wide.digest[:10]}.png"
    assert (narrow.width, narrow.height, narrow.widths) == (300, 200, ())
    assert not problems.errors and not problems.warnings


def test_pictures_of_a_site_named_by_a_relative_or_linked_path_are_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site's folder named by a relative path, or by way of a symbolic link (macOS's /tmp
    is one), holds its pictures: none is taken for a link out of the site."""
    root = _site(tmp_path / "real")
    _png(root / "content/pics/wide.png", (1600, 800))
    (root / "static" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    (tmp_path / "via").symlink_to(root)
    monkeypatch.chdir(tmp_path)
    for named in (Path("real"), tmp_path / "via", Path("via")):
        problems = ProblemList()
        assert set(find_images(named, problems)) == {"content/pics/wide.png",
                                                     "static/logo.svg"}, named
        assert not problems.errors, (named, problems.sorted())


def test_a_changed_picture_gets_a_new_name(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _png(root / "content/a.png", (10, 10), "red")
    first = find_images(root, ProblemList())["content/a.png"].published
    _png(root / "content/a.png", (10, 10), "blue")
    assert find_images(root, ProblemList())["content/a.png"].published != first
    assert published_name("static/logo.SVG", "ab" * 32) == "static/logo.SVG"
    assert published_name("content/a/b.PNG", "ab" * 32) == "images/a/b.ababababab.png"


def test_svg_sizes_and_unsafe_svg_refused(tmp_path: Path) -> None:
    root = _site(tmp_path)
    (root / "static/box.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 32"></svg>')
    (root / "content/evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')
    (root / "content/script.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    table = find_images(root, ProblemList())
    assert (table["static/box.svg"].width, table["static/box.svg"].height) == (64, 32)
    assert "event handler" in table["content/evil.svg"].refused
    assert "script" in table["content/script.svg"].refused
    assert svg_size(b'<svg width="120px" height="40" viewBox="0 0 1 1">') == (120, 40)
    assert svg_size(b'<svg width="100%" viewBox="0,0,30,10">') == (30, 10)
    assert svg_size(b"<svg>") == (None, None)


def test_unreadable_and_huge_pictures_are_refused_large_files_warned(tmp_path: Path) -> None:
    root = _site(tmp_path)
    (root / "content/broken.png").write_bytes(b"not a picture")
    big = io.BytesIO()
    Pil.frombytes("RGB", (1200, 1000), bytes(range(256)) * 14063).save(big, "PNG")
    (root / "content/heavy.png").write_bytes(big.getvalue() + b"\0" * LARGE)
    problems = ProblemList()
    table = find_images(root, problems)
    assert "not a PNG, JPEG, GIF or WebP" in table["content/broken.png"].refused
    assert [(p.code, p.path) for p in problems.items()] == [("large-image", "content/heavy.png")]
    assert "MB" in problems.items()[0].message


def test_smaller_copies_made_once_then_read_from_the_cache(tmp_path: Path) -> None:
    root = _site(tmp_path)
    _png(root / "content/pics/wide.png", (1600, 800))
    table = find_images(root, ProblemList())
    made = dict(image_files(table, root, root / ".cache"))
    image = table["content/pics/wide.png"]
    assert set(made) == {image.published} | {image.variant(w) for w in WIDTHS}
    for w in WIDTHS:
        with Pil.open(io.BytesIO(made[image.variant(w)])) as copy:
            assert copy.size == (w, w // 2)
    kept = sorted((root / ".cache/images").iterdir())
    assert len(kept) == len(WIDTHS)
    kept[0].write_bytes(b"from the cache")
    again = dict(image_files(table, root, root / ".cache"))
    assert b"from the cache" in again.values()
    assert dict(image_files(table, root, None)) == made


def test_copies_are_upright_and_carry_no_metadata(tmp_path: Path) -> None:
    photo = Pil.new("RGB", (2000, 1000), "green")
    exif = photo.getexif()
    exif[0x0112] = 6  # shown turned a quarter: 1000 wide, 2000 high
    exif[0x010F] = "A camera maker"
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif)
    (tmp_path / "content").mkdir()
    (tmp_path / "content/photo.jpg").write_bytes(out.getvalue())
    image = find_images(tmp_path, ProblemList())["content/photo.jpg"]
    assert (image.width, image.height) == (1000, 2000)
    with Pil.open(io.BytesIO(resized(out.getvalue(), 480, "JPEG"))) as copy:
        assert copy.size == (480, 960)
        assert not copy.getexif()


@pytest.mark.parametrize("suffix", [".gif"])
def test_gifs_are_not_resized(tmp_path: Path, suffix: str) -> None:
    (tmp_path / "content").mkdir()
    Pil.new("P", (1600, 100)).save(tmp_path / f"content/anim{suffix}")
    assert find_images(tmp_path, ProblemList())[f"content/anim{suffix}"].widths == ()


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_a_site_with_a_picture_next_to_an_article_and_a_base_path(make_site: Any) -> None:
    """The picture published under its hashed name with its smaller copies, the page's img
    with the base path; a changed picture gives a new name, and the cached build is the
    build from scratch; a picture removed is broken-image at its address."""
    files = good_files()
    files["site.yaml"] = files["site.yaml"].replace("base_url: https://example.org/",
                                                    "base_url: https://org.github.io/guide/")
    assert "org.github.io/guide/" in files["site.yaml"]
    files["content/iron.md"] += "\n![A blood test tube](pics/tube.png)\n"
    root = make_site(files)
    (root / "content" / "pics").mkdir()
    _png(root / "content/pics/tube.png", (1000, 500), "red")
    result = build_site(Options(root=root))
    assert not result.problems.errors, [p.format() for p in result.problems.sorted()]
    page = (root / "_site" / "iron" / "index.html").read_text()
    image = find_images(root, ProblemList())["content/pics/tube.png"]
    assert (f'<img alt="A blood test tube" decoding="async" height="500" loading="lazy" '
            f'sizes="(max-width: 720px) 100vw, 720px" src="/guide/{image.published}" '
            f'srcset="/guide/{image.variant(480)} 480w, /guide/{image.variant(720)} 720w, '
            f'/guide/{image.variant(960)} 960w, /guide/{image.published} 1000w" '
            f'width="1000">') in page
    published = _tree(root / "_site")
    assert {image.published, image.variant(480), image.variant(720),
            image.variant(960)} <= set(published)

    _png(root / "content/pics/tube.png", (1000, 500), "blue")  # a new picture, same name
    build_site(Options(root=root))
    again = _tree(root / "_site")
    assert image.published not in again
    build_site(Options(root=root, out=root / "scratch", cache=False))
    assert again == _tree(root / "scratch")

    (root / "content/pics/tube.png").rename(root / "content/pics/tubes.png")
    problems = build_site(Options(root=root)).problems.sorted()
    assert [p.format() for p in problems if p.code == "broken-image"] == [
        "content/iron.md:15:22: error[broken-image]: the image 'pics/tube.png' cannot be "
        "shown: there is no file content/pics/tube.png (did you mean 'pics/tubes.png'?)"]


def test_a_photo_that_says_where_it_was_taken_is_a_warning(tmp_path: Path) -> None:
    photo = Pil.new("RGB", (40, 30), "green")
    exif = photo.getexif()
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    exif.get_ifd(0x8825)[1] = "N"
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif)
    (tmp_path / "content").mkdir()
    (tmp_path / "content/here.jpg").write_bytes(out.getvalue())
    _png(tmp_path / "content/plain.png", (10, 10))
    problems = ProblemList()
    table = find_images(tmp_path, problems)
    assert table["content/here.jpg"].located and not table["content/plain.png"].located
    assert [(p.code, p.path) for p in problems.items()] == [("image-location", "content/here.jpg")]
    with Pil.open(io.BytesIO(resized(out.getvalue(), 20, "JPEG"))) as copy:
        assert not copy.getexif().get_ifd(0x8825)
