"""`healthsite init`, the packaged theme and a site's overrides of it, the unknown-command
message and the settings reference (issue 18, points 1-3 and 9)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from healthsite.cli import main
from healthsite.reference import reference
from healthsite.start import InitError, init_site

STARTER = ["README.md", "content/about.md", "content/blood-clots-in-the-leg.md",
           "content/contact.md", "content/disclaimer.md", "content/editorial-policy.md",
           "content/glossary.yaml", "content/lowering-your-risk-of-a-clot.md",
           ".github/workflows/review.yml", ".github/workflows/site.yml", ".gitignore",
           "site.yaml"]


def test_init_writes_a_site_that_builds_strictly_with_the_theme(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "heart-guide"
    assert main(["init", str(site), "--title", 'Heart: a "guide"']) == 0
    assert "Created a site in" in capsys.readouterr().out
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == \
        sorted(STARTER)
    assert 'title: "Heart: a \\"guide\\""' in (site / "site.yaml").read_text()
    assert not (site / "templates").exists() and not (site / "static").exists()
    code, lines = run_cli(["build", "--strict", "--root", str(site)], capsys)
    assert code == 0, lines
    home = (site / "_site" / "index.html").read_text()
    assert "Heart: a &#34;guide&#34;" in home or "Heart: a &quot;guide&quot;" in home
    assert (site / "_site" / "blood-clots-in-the-leg" / "index.html").is_file()
    assert any(p.name.startswith("style.") for p in (site / "_site" / "static").iterdir())
    article = (site / "content" / "blood-clots-in-the-leg.md").read_text()
    assert "reviewed: __TODAY__" not in article and "__" not in article


def test_a_sites_file_overrides_its_twin_in_the_theme(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    init_site(site)
    theme = REPO / "healthsite" / "theme"
    (site / "templates").mkdir()
    (site / "templates" / "base.html").write_text(
        (theme / "templates" / "base.html").read_text().replace(
            "<body>", "<body>\n<p class=\"own-banner\">Our own banner</p>"))
    (site / "static").mkdir()
    (site / "static" / "favicon.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/>'
        "</svg>")
    code, lines = run_cli(["build", "--strict", "--root", str(site)], capsys)
    assert code == 0, lines
    for page in ("index.html", "blood-clots-in-the-leg/index.html", "topics/index.html"):
        assert "Our own banner" in (site / "_site" / page).read_text()
    assert (site / "_site" / "static" / "favicon.svg").read_text().startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">')
    # the theme's other files are still used: its stylesheet and its article template
    css = next((site / "_site" / "static").glob("style.*.css")).read_bytes()
    assert css == (theme / "static" / "style.css").read_bytes()
    # and an override's mistake is reported at the site's file
    (site / "templates" / "base.html").write_text("{% if %}")
    code, lines = run_cli(["check", "--root", str(site)], capsys)
    assert code == 1 and lines[0].startswith("templates/base.html:1:1: error[template]"), lines


def test_init_refuses_a_folder_that_is_not_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"healthsite init: {tmp_path} is not empty" in err
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    with pytest.raises(InitError, match="one line"):
        init_site(tmp_path / "new", "two\nlines")


def test_an_unknown_command_says_so_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serv"]) == 2
    assert capsys.readouterr().err == \
        "healthsite: error: unknown command 'serv' (did you mean 'serve'?)\n"
    assert main(["publish"]) == 2
    assert capsys.readouterr().err == ("healthsite: error: unknown command 'publish' (the "
                                       "commands are build, check, serve, new, init, "
                                       "review, reference)\n")


def test_the_reference_page_is_the_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/reference.md is what `healthsite reference` prints (regenerate it with
    `healthsite reference > docs/reference.md`), and it names every declared key."""
    assert main(["reference"]) == 0
    printed = capsys.readouterr().out
    assert printed == reference()
    assert (REPO / "docs" / "reference.md").read_text(encoding="utf-8") == printed
    from healthsite.catalogue import CHECKS
    from healthsite.load import config, frontmatter

    for key in [*config.SCHEMA, *frontmatter.SCHEMA, "topics[].parent", "sources[].url",
                *CHECKS]:
        assert f"| `{key}` |" in printed, key


def test_a_built_wheel_installed_alone_runs_init_then_build(tmp_path: Path) -> None:
    """The wheel carries the theme and the starter site: built from this checkout,
    installed (not editable) into a new virtualenv that borrows only the dependencies of
    the test environment, run from a folder outside the checkout."""
    wheels, source = tmp_path / "wheels", tmp_path / "source"  # (the build leaves build/ and
    # an egg-info beside the sources: a copy keeps the checkout clean)
    shutil.copytree(REPO / "healthsite", source / "healthsite",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(source)], check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("healthsite-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                              "get_paths()['purelib'])"], check=True, capture_output=True,
                             text=True).stdout.strip()
    import sysconfig

    # the test environment's libraries, after the new environment's own (where the wheel
    # goes): a plain path line, so the editable install's finder there is not loaded
    Path(purelib, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    purelib, str(wheel)], check=True, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(python), "-c", "import healthsite; print(healthsite.__file__)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path,
                           env=env).stdout
    assert where.startswith(purelib), where
    run = [str(python), "-m", "healthsite"]
    subprocess.run([*run, "init", "mysite"], check=True, cwd=tmp_path, env=env,
                   capture_output=True)
    built = subprocess.run([*run, "build", "--strict"], cwd=tmp_path / "mysite", env=env,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "mysite" / "_site" / "blood-clots-in-the-leg" / "index.html").is_file()
