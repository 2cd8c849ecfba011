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
Baseline planners that are not belief propagation.

- :mod:`enbp_core.baselines.orca`: ORCA (RVO2 through ``pyrvo``), planar.
- :mod:`enbp_core.baselines.straight`: straight to the goal, no avoidance
  (the straight-line ideal).

The GBP baselines (``gbp``, ``gbp-damped``, ``gbp-margin``) run on the same
engine as ENBP and come from :func:`enbp_core.planning.make_planner`.
"""

from enbp_core.baselines.orca import OrcaConfig, OrcaPlanner
from enbp_core.baselines.straight import StraightConfig, StraightPlanner

__all__ = ['OrcaConfig', 'OrcaPlanner', 'StraightConfig', 'StraightPlanner']
