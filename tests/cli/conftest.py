# Fixtures of the CLI suite; the helpers themselves live in cli_support.py.
import os

import pytest

from cli_support import ScriptRunner, stacksync_bin


def pytest_report_header(config):
    return "stacksync: %s (mode: %s)" % (stacksync_bin(), os.environ.get("STACKSYNC_MODE", "default"))


@pytest.fixture(scope="session", autouse=True)
def _binary_exists():
    if not stacksync_bin().is_file():
        pytest.exit("no stacksync binary at %s (build it or set STACKSYNC_BIN)" % stacksync_bin(), 2)


@pytest.fixture
def run_script(tmp_path):
    return ScriptRunner(tmp_path)


@pytest.fixture(scope="module")
def module_runner(tmp_path_factory):
    return ScriptRunner(tmp_path_factory.mktemp("scripts"))
