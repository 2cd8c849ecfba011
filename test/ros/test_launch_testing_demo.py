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
launch_testing version of the demo test, for machines with a ROS 2 install.

It launches ``multi_agent_demo.launch.py`` (6 agents) through ``launch`` itself and
checks that the simulator ends the episode with exit code 0 and reports no colliding
pair. Where ``launch_testing`` is absent (PyPI wheels have none) the module is skipped;
the same scenario runs there through ``enbp-launch`` in ``test_ros_graph.py``. Not run on
the machines this package was developed on: they have no launch_testing.
"""

from pathlib import Path
import unittest

import pytest

launch_testing = pytest.importorskip(
    'launch_testing', reason='launch_testing is not installed (no PyPI wheel); '
    'test_ros_graph.py runs the same demo through enbp-launch')

import launch  # noqa: E402, I100 (after the skip above)
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402

DEMO = Path(__file__).resolve().parents[2] / 'launch' / 'multi_agent_demo.launch.py'


@pytest.mark.launch_test
def generate_test_description():
    """Launch the demo with 6 agents."""
    demo = IncludeLaunchDescription(PythonLaunchDescriptionSource(str(DEMO)),
                                    launch_arguments={'agents': '6'}.items())
    return launch.LaunchDescription([demo, launch_testing.actions.ReadyToTest()])


class TestDemoRuns(unittest.TestCase):
    """While running: the simulator reports progress."""

    def test_progress_is_reported(self, proc_output):
        """The simulator logs progress lines."""
        proc_output.assertWaitFor('at goal', timeout=120, stream='stderr')


@launch_testing.post_shutdown_test()
class TestDemoEnds(unittest.TestCase):
    """After shutdown: every process exited cleanly and nobody collided."""

    def test_exit_codes(self, proc_info):
        """Every node exits with 0 (SIGINT counts as clean)."""
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2])

    def test_no_collision(self, proc_output):
        """The simulator's summary reports no colliding pair."""
        launch_testing.asserts.assertInStderr(proc_output, 'colliding_pairs        0',
                                              'enbp_sim')
