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
The launch files and ``enbp-launch`` describe one node graph; the YAML matches the nodes.

Without ``launch_ros`` (PyPI wheels have none) the launch files are checked as data and by
their source; with a ROS 2 install the real ``LaunchDescription`` is built and compared.
"""

import ast
import importlib.util
from pathlib import Path

from enbp_ros import launcher
from enbp_ros.belief_node import NODE_PARAMETERS as BELIEF_PARAMETERS
from enbp_ros.parameters import planner_parameter_specs
from enbp_ros.sim_node import NODE_PARAMETERS as SIM_PARAMETERS
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_FILES = sorted((ROOT / 'launch').glob('*.launch.py'))


def _console_scripts():
    spec = importlib.util.spec_from_file_location(
        'enbp_console_scripts', ROOT / 'cmake' / 'enbp_console_scripts.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {entry[0] for entry in module.read_console_scripts(ROOT / 'setup.py')}


def test_there_are_the_two_launch_files():
    names = {p.name for p in LAUNCH_FILES}
    assert {'multi_agent_demo.launch.py', 'benchmark.launch.py'} <= names


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_names_installed_executables_files_and_declared_arguments(path):
    arguments, nodes = launcher.load_launch_file(path)
    declared = {a.name for a in arguments}
    scripts = _console_scripts()
    for node in nodes:
        if node.package == 'enbp':
            assert node.executable in scripts, node.executable
        if node.parameters_file:
            assert (ROOT / 'config' / node.parameters_file).is_file()
        for extra in node.ros_arguments:
            if extra.startswith('{config}/'):
                assert (ROOT / 'config' / extra[len('{config}/'):]).is_file()
        assert set(node.arguments_used()) <= declared, node
    used = {a for node in nodes for a in node.arguments_used()}
    assert used == declared, f'declared but unused: {declared - used}'


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_generate_launch_description_builds_from_the_declared_data_only(path):
    tree = ast.parse(path.read_text())
    function = next(f for f in tree.body if isinstance(f, ast.FunctionDef)
                    and f.name == 'generate_launch_description')
    calls = [n for n in ast.walk(function) if isinstance(n, ast.Call)]
    assert len(calls) == 1 and calls[0].func.id == 'to_launch_description'
    assert [a.id for a in calls[0].args] == ['ARGUMENTS', 'NODES']


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_enbp_launch_starts_the_same_commands(path, capsys):
    arguments, nodes = launcher.load_launch_file(path)
    name = path.name[:-len('.launch.py')]
    assert launcher.main([name, '--agents', '7', '--print']) == 0
    printed = capsys.readouterr().out
    for node in nodes:
        if node.package != 'enbp' or node.condition:
            continue
        line = next(li for li in printed.splitlines() if li.startswith(node.executable + ':'))
        assert f'--params-file {ROOT / "config" / node.parameters_file}' in line
        for key, argument in node.arguments.items():
            value = '7' if argument == 'agents' else next(
                a.default for a in arguments if a.name == argument)
            assert f'-p {key}:={value}' in line


def test_enbp_launch_refuses_an_unknown_launch_file(capsys):
    assert launcher.main(['no_such_file']) == 2
    assert 'available' in capsys.readouterr().err


def _yaml_keys(name):
    document = yaml.safe_load((ROOT / 'config' / name).read_text())
    return set(document['/**']['ros__parameters'])


def _commented_keys(name):
    keys = set()
    for line in (ROOT / 'config' / name).read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith('# ') and stripped.endswith(tuple('0123456789]')) or (
                stripped.startswith('# ') and ': ' in stripped and ' ' not in
                stripped[2:].split(': ')[0]):
            keys.add(stripped[2:].split(':')[0])
    return keys


def test_belief_yaml_documents_every_parameter_and_only_those():
    declared = ({s.name for s in BELIEF_PARAMETERS}
                | {s.name for s in planner_parameter_specs('enbp')})
    active = _yaml_keys('enbp_belief.yaml')
    assert active <= declared
    assert declared <= active | _commented_keys('enbp_belief.yaml')


def test_sim_yaml_sets_every_parameter():
    assert _yaml_keys('enbp_sim.yaml') == {s.name for s in SIM_PARAMETERS}


def test_launch_testing_equivalent_runs_where_launch_ros_is_installed():
    launch_ros = pytest.importorskip(
        'launch_ros', reason='launch_ros is not installed (no PyPI wheel); the launch files '
        'are checked as data above, and with a ROS 2 install this test builds them')
    for path in LAUNCH_FILES:
        arguments, nodes = launcher.load_launch_file(path)
        module = {}
        exec(compile(path.read_text(), str(path), 'exec'), module)  # noqa: S102
        description = module['generate_launch_description']()
        started = [e for e in description.entities
                   if isinstance(e, launch_ros.actions.Node)]
        assert len(started) == len(nodes)
