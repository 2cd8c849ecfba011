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
``enbp-launch``: start a launch file's node graph where ``ros2 launch`` is not available.

``enbp-launch multi_agent_demo --agents 16`` reads ``ARGUMENTS`` and ``NODES`` from
``launch/multi_agent_demo.launch.py`` (see :mod:`enbp_ros.launch_spec`), offers each
argument as an option with the same default, and starts the same executables with the
same parameter files and values, as ``ros2 launch`` would. It prefixes every line of a
node's output with the node's name, stops all nodes on Ctrl-C (SIGINT, then SIGTERM after
a grace period), shuts the graph down when a ``required`` node exits, and returns a
non-zero exit code when a node fails.
"""

import argparse
import os
from pathlib import Path
import runpy
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence, Tuple

from enbp_ros.launch_spec import Argument, NodeSpec

__all__ = ['command_line', 'find_launch_file', 'load_launch_file', 'main', 'share_directory']

GRACE_PERIOD_S = 5.0


def share_directory() -> Path:
    """Return the folder holding ``launch/`` and ``config/``: the source tree or share/enbp."""
    candidates = []
    if os.environ.get('ENBP_SHARE_DIR'):
        candidates.append(Path(os.environ['ENBP_SHARE_DIR']))
    candidates.append(Path(__file__).resolve().parents[1])
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(Path(get_package_share_directory('enbp')))
    except Exception:  # noqa: B902 (not a ROS install, or enbp not in its index)
        pass
    for candidate in candidates:
        if (candidate / 'launch').is_dir() and (candidate / 'config').is_dir():
            return candidate
    raise FileNotFoundError('no folder with launch/ and config/ found in '
                            + ', '.join(map(str, candidates)) + ' (set ENBP_SHARE_DIR)')


def find_launch_file(name: str) -> Path:
    """Resolve ``multi_agent_demo``, ``multi_agent_demo.launch.py`` or a path."""
    path = Path(name)
    if path.suffix == '.py' and path.is_file():
        return path
    launch_dir = share_directory() / 'launch'
    stem = name[:-len('.launch.py')] if name.endswith('.launch.py') else name
    path = launch_dir / f'{stem}.launch.py'
    if not path.is_file():
        known = sorted(p.name[:-len('.launch.py')] for p in launch_dir.glob('*.launch.py'))
        raise ValueError(f'no launch file {name!r}; available: {", ".join(known)}')
    return path


def load_launch_file(path: Path) -> Tuple[Tuple[Argument, ...], Tuple[NodeSpec, ...]]:
    """Return the ``ARGUMENTS`` and ``NODES`` a launch file declares."""
    namespace = runpy.run_path(str(path))
    try:
        return tuple(namespace['ARGUMENTS']), tuple(namespace['NODES'])
    except KeyError as error:
        raise ValueError(f'{path} does not declare {error.args[0]} '
                         '(see enbp_ros.launch_spec)') from None


def _truthy(text: str) -> bool:
    value = text.strip().lower()
    if value not in ('true', 'false', '1', '0', 'yes', 'no', 'on', 'off'):
        raise ValueError(f'expected true or false, got {text!r}')
    return value in ('true', '1', 'yes', 'on')


def _executable(spec: NodeSpec) -> Optional[str]:
    """Return the path of a node's executable, or ``None`` if it is not installed."""
    here = Path(sys.executable).parent / spec.executable
    if spec.package == 'enbp' and here.is_file():
        return str(here)
    return shutil.which(spec.executable)


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def command_line(spec: NodeSpec, values: Dict[str, str], config: Path) -> List[str]:
    """Return the command that starts ``spec`` with launch-argument ``values``."""
    executable = _executable(spec)
    if executable is None:
        raise FileNotFoundError(f'executable {spec.executable!r} of package {spec.package!r} '
                                'not found (is the package installed in this environment?)')
    extra = [str(config / a[len('{config}/'):]) if a.startswith('{config}/') else a
             for a in spec.ros_arguments]
    command = [executable, *extra, '--ros-args']
    if spec.name:
        command += ['-r', f'__node:={spec.name}']
    if spec.parameters_file:
        command += ['--params-file', str(config / spec.parameters_file)]
    parameters = {key: _yaml_value(v) for key, v in spec.parameters.items()}
    parameters.update({key: values[arg] for key, arg in spec.arguments.items()})
    for key, value in parameters.items():
        command += ['-p', f'{key}:={value}']
    return command


class _Graph:
    """Node processes with prefixed output."""

    def __init__(self):
        self.processes: List[Tuple[str, NodeSpec, subprocess.Popen]] = []
        self.threads: List[threading.Thread] = []
        self.lock = threading.Lock()

    def start(self, label: str, spec: NodeSpec, command: Sequence[str]) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED='1', RCUTILS_COLORIZED_OUTPUT='0')
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   env=env, text=True, bufsize=1, start_new_session=True)
        self.processes.append((label, spec, process))
        thread = threading.Thread(target=self._forward, args=(label, process), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _forward(self, label: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self.lock:
                sys.stdout.write(f'[{label}] {line}')
                sys.stdout.flush()

    def stop(self) -> None:
        """SIGINT every running node; SIGTERM, then SIGKILL, those that outlive the grace."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            running = [p for _, _, p in self.processes if p.poll() is None]
            if not running:
                break
            for process in running:
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + GRACE_PERIOD_S
            while time.monotonic() < deadline and any(p.poll() is None for p in running):
                time.sleep(0.05)
        for thread in self.threads:
            thread.join(timeout=1.0)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _parser(name: str, arguments: Sequence[Argument]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f'enbp-launch {name}',
        description=f'Start the node graph of {name}.launch.py (as ros2 launch would).')
    for argument in arguments:
        flags = sorted({f'--{argument.name}', f"--{argument.name.replace('_', '-')}"})
        parser.add_argument(*flags, dest=argument.name, default=argument.default,
                            metavar='VALUE',
                            help=f'{argument.description} (default: {argument.default})')
    parser.add_argument('--print', action='store_true',
                        help='print the node commands and exit without starting them')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``enbp-launch LAUNCH_FILE [--argument VALUE ...]``; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help'):
        try:
            known = sorted(p.name[:-len('.launch.py')]
                           for p in (share_directory() / 'launch').glob('*.launch.py'))
        except FileNotFoundError:
            known = []
        print('usage: enbp-launch LAUNCH_FILE [--ARGUMENT VALUE ...] [--print]\n'
              f"launch files: {', '.join(known)}\n"
              "'enbp-launch LAUNCH_FILE --help' lists a file's arguments.")
        return 0 if argv else 2
    try:
        path = find_launch_file(argv[0])
        arguments, nodes = load_launch_file(path)
    except (ValueError, FileNotFoundError) as error:
        print(f'enbp-launch: {error}', file=sys.stderr)
        return 2
    name = path.name[:-len('.launch.py')]
    options = _parser(name, arguments).parse_args(argv[1:])
    values = {a.name: getattr(options, a.name) for a in arguments}
    config = path.parent.parent / 'config'
    commands = []
    try:
        for spec in nodes:
            if spec.condition and not _truthy(values[spec.condition]):
                continue
            label = spec.name or spec.executable
            try:
                commands.append((label, spec, command_line(spec, values, config)))
            except FileNotFoundError as error:
                if spec.package == 'enbp':
                    raise
                print(f'enbp-launch: skipping {label}: {error}', file=sys.stderr)
    except (ValueError, FileNotFoundError) as error:
        print(f'enbp-launch: {error}', file=sys.stderr)
        return 2
    if options.print:
        for label, _, command in commands:
            print(f'{label}: ' + ' '.join(command))
        return 0
    graph = _Graph()
    code = 0
    # Ctrl-C and a polite kill both stop the graph cleanly (a shell may have started this
    # process with SIGINT ignored, as it does for background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for label, spec, command in commands:
            graph.start(label, spec, command)
        while True:
            finished = [(label, spec, p.returncode) for label, spec, p in graph.processes
                        if p.poll() is not None]
            failed = [(label, rc) for label, _, rc in finished if rc != 0]
            if failed:
                label, code = failed[0]
                print(f'enbp-launch: {label} died with exit code {code}; stopping the graph',
                      file=sys.stderr)
                break
            if any(spec.required for _, spec, _ in finished):
                break
            if len(finished) == len(graph.processes):
                break
            time.sleep(0.1)
    except KeyboardInterrupt:
        print('enbp-launch: interrupted, stopping the graph', file=sys.stderr)
        code = 130
    finally:
        graph.stop()
    return code if code >= 0 else 1


if __name__ == '__main__':
    sys.exit(main())
