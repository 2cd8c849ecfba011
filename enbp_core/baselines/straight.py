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
The straight-line planner: full speed to the goal, no avoidance.

Each agent is commanded along the straight line to its goal at the largest
speed from which it can still brake to rest at the goal,
``min(v_max, sqrt(2 a d), d / time_step)`` for distance ``d``, acceleration
limit ``a`` and control period ``time_step``. It ignores other agents and
obstacles on purpose: it is the straight-line ideal against which makespans
are compared, and the collisions it has are expected and reported as such.
"""

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from enbp_core.baselines.options import config_from_mapping
from enbp_core.scene import Plan, Scene
import torch

__all__ = ['StraightConfig', 'StraightPlanner', 'braking_speed', 'preferred_velocities']


def braking_speed(distance: torch.Tensor, max_speed: torch.Tensor, max_acceleration: float,
                  time_step: float) -> torch.Tensor:
    """
    Largest speed that still stops at ``distance``: ``min(v_max, sqrt(2 a d), d / time_step)``.

    Parameters
    ----------
    distance, max_speed : torch.Tensor
        Shape ``(N,)``, m and m/s.
    max_acceleration : float
        m/s²; ``0`` means unlimited (no braking term).
    time_step : float
        Control period, s: no overshoot within one period.

    Returns
    -------
    torch.Tensor
        Shape ``(N,)``, m/s.

    """
    speed = torch.minimum(max_speed, distance / time_step)
    if max_acceleration > 0:
        speed = torch.minimum(speed, torch.sqrt(2 * max_acceleration * distance))
    return speed


def preferred_velocities(scene: Scene, max_acceleration: float,
                         time_step: float) -> torch.Tensor:
    """Return the straight-to-goal velocities at braking-limited speed, ``(N, 3)``."""
    offset = scene.goals - scene.positions
    distance = offset.norm(dim=-1)
    speed = braking_speed(distance, scene.max_speeds, max_acceleration, time_step)
    return offset * (speed / distance.clamp_min(1e-12))[:, None]


@dataclass(frozen=True)
class StraightConfig:
    """
    Settings of :class:`StraightPlanner`.

    Attributes
    ----------
    max_acceleration : float
        m/s², used to brake in time; the simulator's limit (the benchmark
        passes the scenario's). ``0``: no braking term.
    time_step : float
        Control period, s.

    """

    max_acceleration: float = 2.0
    time_step: float = 0.1


class StraightPlanner:
    """Drive every agent straight to its goal (no avoidance)."""

    name = 'straight'

    def __init__(self, config: Optional[Mapping[str, Any]] = None):
        self.config = config_from_mapping(StraightConfig, config, 'straight')
        if self.config.time_step <= 0:
            raise ValueError('straight.time_step must be > 0')

    def reset(self) -> None:
        """Do nothing: the planner has no state."""

    def plan(self, scene: Scene) -> Plan:
        """Command the braking-limited straight-line velocity."""
        velocities = preferred_velocities(scene, self.config.max_acceleration,
                                          self.config.time_step)
        return Plan(velocities=velocities,
                    stats={'max_planned_speed': float(velocities.norm(dim=-1).max())})
