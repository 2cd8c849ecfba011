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
The ROS benchmark: one scenario run headless over DDS, faster than real time.

``ros2 launch enbp benchmark.launch.py scenario:=circle agents:=30 method:=enbp``, or
``enbp-launch benchmark --scenario circle --agents 30 --method enbp``. The simulator
writes ``metrics.json`` and ``trajectories.png`` to ``output_dir`` and the graph shuts
down when the episode ends. No markers or mixture topics, so that the measured cycle is
the planner's. For many methods and N side by side in one process, use ``enbp-bench``.
"""

from enbp_ros.launch_spec import Argument, NodeSpec, to_launch_description

ARGUMENTS = (
    Argument('scenario', 'circle', 'Scenario name (config/scenarios) or YAML path.'),
    Argument('agents', '16', 'Number of agents (the interesting range is 15 and up).'),
    Argument('seed', '0', 'Layout and noise seed.'),
    Argument('method', 'enbp', 'Planner preset: enbp, enbp-neural, enbp-mlp, gbp, gbp-damped, '
             'gbp-margin (enbp_core/planning/config.py).'),
    Argument('output_dir', 'enbp_benchmark_output',
             'Where the simulator writes metrics.json and trajectories.png.'),
)

NODES = (
    NodeSpec('enbp_sim', parameters_file='enbp_sim.yaml',
             arguments={'scenario': 'scenario', 'num_agents': 'agents', 'seed': 'seed',
                        'output_dir': 'output_dir'},
             parameters={'use_sim_time': False, 'progress_period': 5.0}, required=True),
    NodeSpec('enbp_belief', parameters_file='enbp_belief.yaml',
             arguments={'num_agents': 'agents', 'method': 'method'},
             parameters={'use_sim_time': True, 'publish_markers': False,
                         'publish_mixtures': False}),
)


def generate_launch_description():
    """Return the launch description of ``ARGUMENTS`` and ``NODES``."""
    return to_launch_description(ARGUMENTS, NODES)
