"""The production settings pass Django's deployment checks with no warning (`make check-deploy`,
run by `make test`), and the check does catch a weakened setting."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = ROOT / ".ci" / "check-deploy"


def check_deploy(*extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *extra_env],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_fails_on_a_weakened_setting():
    result = check_deploy("DJANGO_SECURE_HSTS_SECONDS=0", "DJANGO_SECURE_SSL_REDIRECT=0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr
