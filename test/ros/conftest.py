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
Harness for tests over real DDS: an isolated domain per test, node subprocesses, an observer.

Each test gets its own ``ROS_DOMAIN_ID`` with localhost-only discovery, so tests never see
each other's topics. Nodes run as subprocesses of this interpreter (their output kept in
a file and shown when a test fails); the test's own rclpy node lives in a private
``Context`` and is spun in bounded loops.
"""

import itertools
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Callable, List, Optional, Sequence

import pytest

rclpy = pytest.importorskip('rclpy', reason='rclpy is not installed')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

_DOMAINS = itertools.count()


def fresh_domain() -> int:
    """Return a ROS domain id unused by other tests of this run (20 .. 199)."""
    return 20 + (os.getpid() * 7 + next(_DOMAINS)) % 180


class NodeProcess:
    """A node (or ``enbp-launch``) in a subprocess, output captured to a file."""

    def __init__(self, command: Sequence[str], env: dict, log: Path):
        self.command = list(command)
        self.log_path = log
        self._log = open(log, 'w')
        self.process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)

    def output(self) -> str:
        """Return what the process printed so far (also after :meth:`stop`)."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors='replace')

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def wait(self, timeout: float) -> int:
        """Wait for the exit code (raises ``subprocess.TimeoutExpired``)."""
        return self.process.wait(timeout=timeout)

    def stop(self) -> Optional[int]:
        """SIGINT, then SIGKILL after 10 s; return the exit code."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        return self.process.returncode


class RosGraph:
    """One isolated ROS graph: the domain, node processes, and the test's observer node."""

    def __init__(self, tmp_path: Path, monkeypatch):
        self.domain = fresh_domain()
        self.tmp_path = tmp_path
        self.env = dict(os.environ, ROS_DOMAIN_ID=str(self.domain),
                        ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST', PYTHONUNBUFFERED='1',
                        RCUTILS_COLORIZED_OUTPUT='0')
        monkeypatch.setenv('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
        self.processes: List[NodeProcess] = []
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=self.domain)
        self.node = rclpy.create_node('test_observer', context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def start(self, module_or_command, *ros_args: str, name: str = 'node') -> NodeProcess:
        """Start ``python -m module --ros-args ...`` (or a full command list)."""
        if isinstance(module_or_command, str):
            command = [sys.executable, '-m', module_or_command, '--ros-args', *ros_args]
        else:
            command = list(module_or_command)
        index = len(self.processes)
        process = NodeProcess(command, self.env, self.tmp_path / f'{index}_{name}.log')
        self.processes.append(process)
        return process

    def spin_for(self, seconds: float) -> None:
        """Spin the observer for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)

    def spin_until(self, predicate: Callable[[], bool], timeout: float,
                   every: Optional[Callable[[], None]] = None, period: float = 0.1) -> bool:
        """Spin until ``predicate()`` holds (True) or ``timeout`` s pass (False)."""
        deadline = time.monotonic() + timeout
        next_call = time.monotonic()
        while time.monotonic() < deadline:
            if every is not None and time.monotonic() >= next_call:
                every()
                next_call += period
            self.executor.spin_once(timeout_sec=0.02)
            if predicate():
                return True
        return False

    def logs(self) -> str:
        """Return every process's output, for failure messages."""
        return '\n'.join(f'--- {p.command[2] if len(p.command) > 2 else p.command}\n'
                         + p.output()[-4000:] for p in self.processes)

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def ros_graph(tmp_path, monkeypatch, request):
    """Yield a :class:`RosGraph`; print the nodes' output if the test failed."""
    graph = RosGraph(tmp_path, monkeypatch)
    yield graph
    failed = getattr(request.node, 'rep_call', None)
    if failed is not None and failed.failed:
        print(graph.logs())
    graph.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can see whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f'rep_{report.when}', report)
