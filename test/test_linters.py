# Copyright 2026 The ENBP-ROS Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""The ROS linters as tests: ament_flake8, ament_pep257 and the licence header."""

from pathlib import Path

import ament_flake8
from ament_flake8.main import main_with_errors as flake8_main_with_errors
from ament_pep257.main import main as pep257_main
import pytest

ROOT = Path(__file__).resolve().parents[1]

# Python sources of the package, its tests, benchmarks and build helpers (missing ones skipped).
LINTED = [
    ROOT / p
    for p in ('enbp_core', 'enbp_ros', 'test', 'launch', 'benchmarks', 'cmake', 'setup.py')
]

LICENSE_HEADER = """\
# Copyright 2026 The ENBP-ROS Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""


def _linted_paths():
    return [str(p) for p in LINTED if p.exists()]


def _python_files():
    files = []
    for path in LINTED:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                f for f in sorted(path.rglob('*.py'))
                if not any(part.startswith(('.', '_')) and part != '__init__.py'
                           for part in f.relative_to(path).parts))
    return files


@pytest.fixture
def outside_repo(tmp_path, monkeypatch):
    """Run from an empty folder: ament_flake8 walks the whole working directory (.venv too)."""
    monkeypatch.chdir(tmp_path)


@pytest.mark.linter
@pytest.mark.flake8
def test_flake8(outside_repo, tmp_path):
    # ament's configuration, checked in this process: flake8's worker processes are forked,
    # and forking a test process whose earlier tests ran rclpy (DDS threads) can crash.
    bundled = Path(ament_flake8.__file__).parent / 'configuration' / 'ament_flake8.ini'
    config = tmp_path / 'flake8.ini'
    config.write_text(bundled.read_text().rstrip('\n') + '\njobs = 1\n')
    rc, errors = flake8_main_with_errors(argv=['--config', str(config), *_linted_paths()])
    assert rc == 0, 'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257(outside_repo):
    rc = pep257_main(argv=_linted_paths())
    assert rc == 0, 'Found docstring style errors (see the captured output above)'


@pytest.mark.linter
def test_every_python_file_starts_with_the_license_header():
    files = _python_files()
    assert ROOT / 'setup.py' in files and ROOT / 'enbp_ros' / '__init__.py' in files
    missing = []
    for path in files:
        text = path.read_text(encoding='utf-8')
        if text.startswith('#!'):
            text = text.split('\n', 1)[1] if '\n' in text else ''
        if not text.startswith(LICENSE_HEADER):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, 'Missing or altered Apache-2.0 header in:\n' + '\n'.join(missing)
