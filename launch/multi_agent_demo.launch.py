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
The multi-agent demo: the simulator and the ENBP belief node, RViz optional.

``ros2 launch enbp multi_agent_demo.launch.py agents:=16`` on a ROS 2 install;
``enbp-launch multi_agent_demo --agents 16`` anywhere (same arguments, same processes).
Simulated time runs as fast as planning allows (the simulator publishes ``/clock``).
"""

from enbp_ros.launch_spec import Argument, NodeSpec, to_launch_description

ARGUMENTS = (
    Argument('scenario', 'circle', 'Scenario name (config/scenarios) or YAML path.'),
    Argument('agents', '16', 'Number of agents.'),
    Argument('seed', '0', 'Layout and noise seed.'),
    Argument('method', 'enbp', 'Planner preset: enbp, enbp-neural, enbp-mlp, gbp, gbp-damped, '
             'gbp-margin (enbp_core/planning/config.py).'),
    Argument('output_dir', 'enbp_demo_output',
             'Where the simulator writes metrics.json and trajectories.png.'),
    Argument('rviz', 'false', 'Start RViz with config/enbp.rviz.'),
)

NODES = (
    NodeSpec('enbp_sim', parameters_file='enbp_sim.yaml',
             arguments={'scenario': 'scenario', 'num_agents': 'agents', 'seed': 'seed',
                        'output_dir': 'output_dir'},
             parameters={'use_sim_time': False}, required=True),
    NodeSpec('enbp_belief', parameters_file='enbp_belief.yaml',
             arguments={'num_agents': 'agents', 'method': 'method'},
             parameters={'use_sim_time': True}),
    NodeSpec('rviz2', package='rviz2', ros_arguments=('-d', '{config}/enbp.rviz'),
             parameters={'use_sim_time': True}, condition='rviz'),
)


def generate_launch_description():
    """Return the launch description of ``ARGUMENTS`` and ``NODES``."""
    return to_launch_description(ARGUMENTS, NODES)
