"""Defects found by an adversarial pass on top of issue 16's list (the session's note lists
the cases tried): file names that are not UTF-8, editors' hidden files, checks a site must
not switch off, services' values, standard output that goes away, and a preview asked to
listen where it cannot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, SITE_YAML, article
from test_broken_sites import materialise

EPOCH = {**os.environ, "SOURCE_DATE_EPOCH": "1780272000"}


def cli(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "build.py"), *args], capture_output=True,
                          text=True, env=EPOCH, timeout=120, **kwargs)  # type: ignore[call-overload]


def base_site(tmp_path: Path) -> Path:
    return materialise(tmp_path / "no-case", tmp_path / "site")


def test_file_names_that_are_not_utf8_are_located_errors(tmp_path: Path) -> None:
    root = base_site(tmp_path)
    content, static, templates = (os.fsencode(root / d) for d in ("content", "static",
                                                                    "templates"))
    with open(content + b"/\xff.md", "wb") as fh:
        fh.write((root / "content" / "iron.md").read_bytes())
    os.mkdir(static + b"/\xfe")
    with open(static + b"/\xfe/a.css", "wb") as fh:
        fh.write(b"a{}")
    with open(templates + b"/\xfd.html", "wb") as fh:
        fh.write(b"<p></p>")
    done = cli("build", "--root", str(root))
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert done.stdout.splitlines()[:3] == [
        "content/\\xff.md:1:1: error[encoding]: the file name is not UTF-8 text (rename the "
        "file (its name is its address))",
        "static/\\xfe/a.css:1:1: error[encoding]: a file name that is not UTF-8 text "
        "(rename it)",
        "templates/\\xfd.html:1:1: error[encoding]: a file name that is not UTF-8 text "
        "(rename it)"]


def test_hidden_files_in_content_are_an_editors_not_the_sites(tmp_path: Path) -> None:
    root = base_site(tmp_path)
    os.symlink("user@host.1234:1700000000", root / "content" / ".#iron.md")  # an Emacs lock
    (root / "content" / ".drafts").mkdir()
    (root / "content" / ".drafts" / "x.md").write_text("not front matter")
    done = cli("check", "--strict", "--root", str(root))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("code, level", [("yaml", "off"), ("bad-slug", "warning"),
                                         ("template", "off"), ("fm-type", "off"),
                                         ("too-complex", "warning")])
def test_a_check_that_leaves_a_page_out_cannot_be_switched_off(
        code: str, level: str, make_site: Callable[[dict[str, str | bytes]], Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site({"site.yaml": SITE_YAML + f"checks:\n  dead-end: off\n  {code}: {level}\n",
                      "content/a.md": article("A")})
    done = cli("check", "--root", str(root))
    line = SITE_YAML.count("\n") + 3
    assert (
        f"site.yaml:{line}:{len(code) + 5}: error[config-type]: '{code}' problems leave a page "
        "or file out of the site: the check cannot be made a warning or turned off (fix the "
        "problem instead, or leave the page out with draft: true)") in done.stdout.splitlines()


def test_a_service_on_two_lines_is_reported_in_site_yaml(
        make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    config = SITE_YAML.replace('urgent_service: "NHS 111"', 'urgent_service: "NHS\\n111"')
    root = make_site({"site.yaml": config, "content/a.md": article("A", body="{{urgent_service}}")})
    done = cli("check", "--root", str(root))
    line = config.splitlines().index('  urgent_service: "NHS\\n111"') + 1
    assert (f"site.yaml:{line}:19: error[config-type]: services.urgent_service has a line "
            "break or control character (write the value on one line)") \
        in done.stdout.splitlines()


def test_many_unknown_topics_get_a_suggestion_for_the_first_few(
        make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    topics = "[" + ", ".join(f"irn{i}" for i in range(25)) + "]"
    root = make_site({"site.yaml": SITE_YAML, "content/a.md": article("A", topics=topics)})
    found = [line for line in cli("check", "--root", str(root)).stdout.splitlines()
             if "unknown-topic" in line]
    assert len(found) == 25
    assert sum("did you mean" in line for line in found) == 20


@pytest.fixture
def noisy(make_site: Callable[[dict[str, str | bytes]], Path]) -> Path:
    """A site with 2,000 problems to print (more than a pipe holds)."""
    body = " ".join(f"[x](nope{i}.md)" for i in range(2000))
    return make_site({"site.yaml": SITE_YAML, "content/a.md": article("A", body=body)})


def test_a_reader_that_stops_early_ends_the_build_quietly(noisy: Path) -> None:
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "check", "--root",
                             str(noisy)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=EPOCH)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert first.startswith(b"content/a.md:") and "Traceback" not in err and err == ""


def test_standard_output_that_cannot_be_written_is_one_line(noisy: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "--root",
                               str(noisy)], stdout=full, stderr=subprocess.PIPE, text=True,
                              env=EPOCH, timeout=120)
    assert done.returncode == 1
    assert done.stderr == ("healthsite: error: cannot write the problems to standard output: "
                           "No space left on device\n")


def test_a_closed_standard_output_is_no_crash(noisy: Path) -> None:
    done = subprocess.run(f"{sys.executable} {REPO / 'build.py'} check --root {noisy} >&-",
                          shell=True, capture_output=True, text=True, env=EPOCH, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("port", ["-1", "0", "99999", "http"])
def test_serve_refuses_a_port_that_is_not_one(port: str, noisy: Path) -> None:
    done = cli("serve", "--root", str(noisy), "--port", port)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"healthsite serve: error: argument --port: '{port}' is not a port number (1-65535)")


def test_serve_says_in_one_line_that_it_cannot_listen(noisy: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli("serve", "--root", str(noisy), "--port", str(port))
    assert done.returncode == 1
    assert done.stderr == (f"healthsite serve: cannot listen on 127.0.0.1 port {port}: "
                           "Address already in use\n")
    done = cli("serve", "--root", str(noisy), "--host", "999.1.1.1", "--port", "8799")
    assert done.returncode == 1 and done.stderr.startswith(
        "healthsite serve: cannot listen on 999.1.1.1 port 8799: ")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("folder", ["static", "templates", "content"])
def test_an_input_folder_linked_out_of_the_site_is_not_read(folder: str, tmp_path: Path) -> None:
    root = base_site(tmp_path)
    away = tmp_path / "elsewhere"
    (root / folder).rename(away)
    (away / "secret.txt").write_text("SECRET")
    os.symlink(away, root / folder)
    done = cli("build", "--root", str(root))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stdout.splitlines()[0] == (
        f"{folder}:1:1: error[io]: a symbolic link that points outside the site's folder "
        f"(make {folder}/ a real folder of the site)")
    assert not (root / "_site").exists()


def test_an_input_folder_linked_inside_the_site_is_read(tmp_path: Path) -> None:
    root = base_site(tmp_path)
    (root / "static").rename(root / "assets")
    os.symlink("assets", root / "static")
    assert cli("check", "--strict", "--root", str(root)).returncode == 0


def test_an_article_that_picks_itself_is_told_so(
        make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    root = make_site({"site.yaml": SITE_YAML,
                      "content/a.md": article("A", extra="next: [a]\n")})
    found = [line for line in cli("check", "--root", str(root)).stdout.splitlines()
             if "unknown-article" in line]
    assert len(found) == 1 and found[0].endswith(
        "error[unknown-article]: 'next:' names this article itself ('a') (name other "
        "articles to read next)")


def test_thousands_of_unknown_picks_are_reported_quickly(
        make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    """Each was located by reading all the front matter's positions again: 5,000 took 25 s,
    10,000 over two minutes."""
    picks = "next: [" + ", ".join(f"a{i}" for i in range(5000)) + "]\n"
    root = make_site({"site.yaml": SITE_YAML, "content/a.md": article("A", extra=picks)})
    start = time.monotonic()
    found = [line for line in cli("check", "--root", str(root)).stdout.splitlines()
             if "unknown-article" in line]
    assert len(found) == 5000 and time.monotonic() - start < 10


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "1e300", "-1"])
def test_a_render_budget_that_is_not_one_is_a_one_line_error(value: str, noisy: Path) -> None:
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "--root",
                           str(noisy)], capture_output=True, text=True, timeout=120,
                          env={**EPOCH, "HEALTHSITE_RENDER_SECONDS": value})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("healthsite: error: HEALTHSITE_RENDER_SECONDS must be a number of "
                           f"seconds from 0 (no budget) to 3600, not '{value}'\n")


def test_permissions_changed_on_the_published_site_are_put_right(tmp_path: Path) -> None:
    """A chmod changes neither size, time nor inode: the build took the site as up to
    date, and an update hard-linked the file with its wrong permissions again."""
    root = base_site(tmp_path)
    site = root / "_site"
    assert cli("build", "--root", str(root)).returncode == 0
    os.chmod(site / "index.html", 0o600)
    os.chmod(site / "iron", 0o700)
    assert cli("build", "--root", str(root)).stdout.splitlines()[-1].startswith("Built ")
    assert (site / "index.html").stat().st_mode & 0o777 == 0o644
    assert (site / "iron").stat().st_mode & 0o777 == 0o755
    os.chmod(site / "overview" / "index.html", 0o600)
    iron = root / "content" / "iron.md"
    iron.write_text(iron.read_text() + "\nMore text.\n")
    assert cli("build", "--root", str(root)).returncode == 0
    assert (site / "overview" / "index.html").stat().st_mode & 0o777 == 0o644
    assert cli("build", "--root", str(root)).stdout.splitlines()[-1].startswith("Up to date")


def test_a_topic_listed_twice_is_an_error(
        make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    root = make_site({"site.yaml": SITE_YAML,
                      "content/a.md": article("A", topics="[iron, rls, iron]")})
    found = [line for line in cli("check", "--root", str(root)).stdout.splitlines()
             if "error[" in line]
    assert found == ["content/a.md:4:21: error[fm-type]: topic 'iron' is listed twice (list "
                     "each topic once)"], found


def test_a_topic_tree_deeper_than_twenty_levels_is_an_error(
        make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    """A chain of 2,000 parents crashed the topic map (RecursionError) after 20 s of
    looking for loops."""
    chain = "".join(f"  - slug: t{i}\n    title: T{i}\n    description: D.\n"
                    + (f"    parent: t{i - 1}\n" if i else "") for i in range(2000))
    config = SITE_YAML.replace("topics:\n", "topics:\n" + chain, 1)
    root = make_site({"site.yaml": config, "content/a.md": article("A")})
    start = time.monotonic()
    done = cli("build", "--root", str(root))
    assert time.monotonic() - start < 10 and "Traceback" not in done.stderr
    line = config.splitlines().index("    parent: t20") + 1
    assert [x for x in done.stdout.splitlines() if "error[" in x] == [
        f"site.yaml:{line}:13: error[config-type]: topic 't21' is 21 levels below its root "
        "topic (keep the topic tree to 20 levels)"]
