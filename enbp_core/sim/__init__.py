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
Headless closed-loop simulation of many agents, its scenarios and its metrics.

- :mod:`enbp_core.sim.simulator`: :class:`Simulator` (holonomic agents with
  bounded speed and acceleration, optional measurement noise) and the
  :class:`Episode` it records.
- :mod:`enbp_core.sim.scenarios`: :func:`load_scenario` lays out the YAML
  scenarios of ``config/scenarios`` (circle, circle with obstacles, sphere,
  junction, random).
- :mod:`enbp_core.sim.metrics`: :func:`compute_metrics` of an episode
  (collisions, success, makespan, path ratio, smoothness, timing, settling).
"""

from enbp_core.sim.metrics import compute_metrics
from enbp_core.sim.scenarios import available_scenarios, load_scenario, ScenarioInstance
from enbp_core.sim.simulator import (Episode, EpisodeRecorder, limit_velocity, SimConfig,
                                     Simulator)

__all__ = [
    'Episode',
    'EpisodeRecorder',
    'ScenarioInstance',
    'SimConfig',
    'Simulator',
    'available_scenarios',
    'compute_metrics',
    'limit_velocity',
    'load_scenario',
]
