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
Planning: from a scene to beliefs and plans, one call per control cycle.

- :mod:`~enbp_core.planning.config`: :class:`PlannerConfig` and the presets of
  the benchmark methods (``enbp``, ``gbp``, ``gbp-damped``, ``gbp-margin``).
- :mod:`~enbp_core.planning.graph`: the multi-agent factor graph of a scene.
- :mod:`~enbp_core.planning.planner`: :class:`BeliefPlanner`, warm-started BP.
"""

from typing import Any, Mapping, Optional

from enbp_core.planning.config import METHODS, PlannerConfig, preset
from enbp_core.planning.graph import build_graph, PlanningGraph
from enbp_core.planning.planner import BeliefPlanner, CycleResult

__all__ = ['BeliefPlanner', 'build_graph', 'CycleResult', 'make_planner', 'METHODS',
           'PlannerConfig', 'PlanningGraph', 'preset']


def make_planner(method: str, config: Optional[Mapping[str, Any]] = None) -> BeliefPlanner:
    """
    Return the planner of a benchmark method.

    Parameters
    ----------
    method : str
        One of ``METHODS``.
    config : mapping, optional
        Overrides of the method's preset (keys of :class:`PlannerConfig`).

    """
    return BeliefPlanner(preset(method, config), name=method)
