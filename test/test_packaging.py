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
The two faces of the package agree: package.xml/CMakeLists.txt (ROS) and setup.py (pip).

Also checks the installed result: one launcher under ``lib/enbp`` per console script of
setup.py, and the ``msg/`` files that CMakeLists.txt generates.
"""

import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path
import re
import sys

from catkin_pkg.package import parse_package
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = parse_package(str(ROOT / 'package.xml'))


def _load_console_scripts_helper():
    """Import cmake/enbp_console_scripts.py, the reader that CMakeLists.txt runs."""
    path = ROOT / 'cmake' / 'enbp_console_scripts.py'
    spec = importlib.util.spec_from_file_location('enbp_console_scripts', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


read_console_scripts = _load_console_scripts_helper().read_console_scripts


def _setup_distribution():
    """Run setup.py up to argument parsing and return its Distribution, as pip sees it."""
    import setuptools  # noqa: F401  (selects setuptools' distutils)
    from distutils.core import run_setup
    return run_setup(str(ROOT / 'setup.py'), stop_after='init')


def _install_prefix():
    """Return the install prefix that holds the ament index entry of ``enbp``."""
    candidates = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    candidates.append(sys.prefix)
    for prefix in candidates:
        if (Path(prefix) / 'share/ament_index/resource_index/packages/enbp').is_file():
            return Path(prefix)
    pytest.fail(f'enbp is not installed in any of {candidates} (run `make install`)')


def test_package_xml_is_a_valid_format_3_ament_cmake_package():
    PACKAGE.validate()
    assert PACKAGE.package_format == 3
    assert PACKAGE.name == 'enbp'
    assert [str(lic) for lic in PACKAGE.licenses] == ['Apache-2.0']
    assert PACKAGE.get_build_type() == 'ament_cmake'
    assert 'rosidl_interface_packages' in [g.name for g in PACKAGE.member_of_groups]
    PACKAGE.evaluate_conditions(os.environ)
    runtime = {d.name for d in PACKAGE.exec_depends + PACKAGE.run_depends}
    assert {'rclpy', 'std_msgs', 'geometry_msgs', 'nav_msgs', 'visualization_msgs',
            'diagnostic_msgs', 'rosidl_default_runtime'} <= runtime
    build = {d.name for d in PACKAGE.buildtool_depends + PACKAGE.build_depends}
    assert {'ament_cmake', 'ament_cmake_python', 'rosidl_default_generators'} <= build
    tests = {d.name for d in PACKAGE.test_depends}
    assert {'ament_flake8', 'ament_pep257', 'python3-pytest'} <= tests


def test_setup_py_name_and_version_agree_with_package_xml():
    dist = _setup_distribution()
    assert dist.get_name() == PACKAGE.name
    assert dist.get_version() == PACKAGE.version
    assert importlib.metadata.version(PACKAGE.name) == PACKAGE.version


def test_cmake_generates_exactly_the_msg_files():
    cmake = (ROOT / 'CMakeLists.txt').read_text(encoding='utf-8')
    listed = sorted(set(re.findall(r'\bmsg/\w+\.msg\b', cmake)))
    on_disk = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / 'msg').glob('*.msg'))
    assert listed == on_disk
    assert on_disk == [
        'msg/GaussianComponent.msg', 'msg/MixtureBelief.msg', 'msg/MixtureBeliefArray.msg']


def test_cmake_reads_the_console_scripts_that_setuptools_installs():
    from_setuptools = _setup_distribution().entry_points['console_scripts']
    expected = [f'{n} = {m}:{f}' for n, m, f in read_console_scripts(str(ROOT / 'setup.py'))]
    assert [re.sub(r'\s+', ' ', e.strip()) for e in from_setuptools] == expected
    assert expected, 'setup.py declares no console script'


def test_installed_launchers_match_the_console_scripts():
    scripts = read_console_scripts(str(ROOT / 'setup.py'))
    lib = _install_prefix() / 'lib' / 'enbp'
    installed = sorted(p.name for p in lib.iterdir()) if lib.is_dir() else []
    assert installed == sorted(name for name, _, _ in scripts)
    for name, module, function in scripts:
        launcher = lib / name
        assert os.access(launcher, os.X_OK), f'{launcher} is not executable'
        text = launcher.read_text(encoding='utf-8')
        assert text.startswith('#!')
        assert f'from {module} import {function}\n' in text
        assert f'sys.exit({function}())' in text


def test_editable_install_is_not_shadowed_by_an_installed_copy():
    try:
        direct_url = importlib.metadata.distribution('enbp').read_text('direct_url.json')
    except importlib.metadata.PackageNotFoundError:
        direct_url = None
    if not direct_url or not json.loads(direct_url).get('dir_info', {}).get('editable'):
        pytest.skip('not an editable (pip install -e .) install')
    import enbp_core
    import enbp_ros
    for module in (enbp_core, enbp_ros):
        assert Path(module.__file__).resolve().is_relative_to(ROOT), module.__file__
