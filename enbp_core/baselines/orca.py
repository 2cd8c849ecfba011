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
ORCA (optimal reciprocal collision avoidance) as a planar :class:`~enbp_core.scene.Planner`.

A wrapper of RVO2 through the ``pyrvo`` package (PyPI), the reference C++
implementation of van den Berg et al., "Reciprocal n-body collision
avoidance" (ISRR 2011). Each control cycle it writes every agent's measured
position and velocity into the RVO2 simulator, sets the preferred velocity
(straight to the goal at the braking-limited speed of
:func:`enbp_core.baselines.straight.braking_speed`), runs one RVO2 step and
returns the new ORCA velocities as commands; RVO2's own position update is
discarded (the caller's simulator moves the agents).

ORCA is planar: every agent and goal must lie on z = 0 (within
``planar_tolerance``), else :meth:`OrcaPlanner.plan` raises
:class:`ValueError`. Vertical cylinders become polygons circumscribing their
disk, spheres centred within their radius of the plane become polygons of
their cross-section (RVO2 obstacles are static polygons, so the RVO2
simulator is rebuilt when the obstacles or the agent ids change).

RVO2 works in float32, and its calls are per agent (a Python loop over
agents here; RVO2 itself is fast C++, about 0.1 ms per step for 50 agents).

Default parameters (``config/baselines/orca.yaml`` documents them too) are
those of RVO2's own circle example, with the agent radius enlarged by
``radius_margin`` = 0.1 m, as the GBP baselines' safety distance of
2.2 radii is.
"""

from dataclasses import dataclass
import math
from typing import Any, Mapping, Optional, Tuple

from enbp_core.baselines.options import config_from_mapping
from enbp_core.baselines.straight import preferred_velocities
from enbp_core.scene import Obstacles, Plan, Scene
import torch

__all__ = ['OrcaConfig', 'OrcaPlanner', 'obstacle_polygons']


@dataclass(frozen=True)
class OrcaConfig:
    """
    Settings of :class:`OrcaPlanner`.

    Attributes
    ----------
    neighbor_distance : float
        Other agents farther than this are ignored, m.
    max_neighbors : int
        At most this many nearest agents are considered.
    time_horizon : float
        Velocities are kept collision-free with other agents for this long, s.
    time_horizon_obstacles : float
        Same with obstacles, s.
    radius_margin : float
        Added to each agent's radius inside ORCA, m.
    time_step : float
        Control period, s (RVO2 uses it to resolve existing overlaps).
    max_acceleration : float
        m/s², for the braking-limited preferred speed; ``0``: none.
    obstacle_sides : int
        Sides of the polygons that approximate round obstacles (>= 3).
    planar_tolerance : float
        Largest |z| of positions, goals and velocities accepted, m.

    """

    neighbor_distance: float = 15.0
    max_neighbors: int = 10
    time_horizon: float = 10.0
    time_horizon_obstacles: float = 10.0
    radius_margin: float = 0.1
    time_step: float = 0.1
    max_acceleration: float = 2.0
    obstacle_sides: int = 16
    planar_tolerance: float = 1e-6


def obstacle_polygons(obstacles: Obstacles, sides: int = 16):
    """
    Counter-clockwise polygons circumscribing the obstacles' disks on z = 0.

    Parameters
    ----------
    obstacles : Obstacles
        Spheres and vertical cylinders.
    sides : int
        Vertices per polygon.

    Returns
    -------
    list of list of (float, float)
        One polygon per obstacle that meets the plane (spheres with
        ``|z| >= radius`` do not).

    """
    disks = [(float(x), float(y), float(r)) for x, y, r in obstacles.cylinders.tolist()]
    for x, y, z, r in obstacles.spheres.tolist():
        if abs(z) < r:
            disks.append((x, y, math.sqrt(r * r - z * z)))
    polygons = []
    for x, y, r in disks:
        corner = r / math.cos(math.pi / sides)
        polygons.append([(x + corner * math.cos(2 * math.pi * k / sides),
                          y + corner * math.sin(2 * math.pi * k / sides))
                         for k in range(sides)])
    return polygons


class OrcaPlanner:
    """
    ORCA through RVO2 (``pyrvo``), planar scenes only.

    Parameters
    ----------
    config : mapping or OrcaConfig, optional
        Overrides of :class:`OrcaConfig` fields.

    """

    name = 'orca'

    def __init__(self, config: Optional[Mapping[str, Any]] = None):
        try:
            import pyrvo
        except ImportError as error:
            raise RuntimeError('method orca needs the pyrvo package (pip install pyrvo)') \
                from error
        self._pyrvo = pyrvo
        self.config = config_from_mapping(OrcaConfig, config, 'orca')
        if self.config.time_step <= 0 or self.config.obstacle_sides < 3 \
                or self.config.max_neighbors < 1:
            raise ValueError('orca: time_step must be > 0, obstacle_sides >= 3 and '
                             'max_neighbors >= 1')
        self.reset()

    def reset(self) -> None:
        """Drop the RVO2 simulator; the next :meth:`plan` builds a new one."""
        self._sim = None
        self._key: Optional[Tuple] = None

    def _check_planar(self, scene: Scene) -> None:
        worst = max(float(scene.positions[:, 2].abs().max()),
                    float(scene.goals[:, 2].abs().max()),
                    float(scene.velocities[:, 2].abs().max()))
        if worst > self.config.planar_tolerance:
            raise ValueError(
                'ORCA (pyrvo/RVO2) is planar: this scene has agents, goals or velocities off '
                f'the z = 0 plane (|z| up to {worst:.3g}); use a planar scenario')

    def _build(self, scene: Scene) -> None:
        cfg = self.config
        sim = self._pyrvo.RVOSimulator()
        sim.set_time_step(cfg.time_step)
        for i in range(scene.num_agents):
            sim.add_agent((0.0, 0.0), cfg.neighbor_distance, cfg.max_neighbors,
                          cfg.time_horizon, cfg.time_horizon_obstacles, 1.0, 1.0, (0.0, 0.0))
        for polygon in obstacle_polygons(scene.obstacles, cfg.obstacle_sides):
            sim.add_obstacle(polygon)
        sim.process_obstacles()
        self._sim = sim

    def plan(self, scene: Scene) -> Plan:
        """Run one RVO2 step from the measured scene; return the ORCA velocities."""
        self._check_planar(scene)
        cfg = self.config
        key = (scene.ids, scene.obstacles.spheres.tolist(), scene.obstacles.cylinders.tolist())
        if self._sim is None or key != self._key:
            self._build(scene)
            self._key = key
        sim = self._sim
        preferred = preferred_velocities(scene, cfg.max_acceleration, cfg.time_step)
        positions = scene.positions[:, :2].tolist()
        velocities = scene.velocities[:, :2].tolist()
        preferred = preferred[:, :2].tolist()
        radii = (scene.radii + cfg.radius_margin).tolist()
        speeds = scene.max_speeds.tolist()
        for i in range(scene.num_agents):
            sim.set_agent_position(i, positions[i])
            sim.set_agent_velocity(i, velocities[i])
            sim.set_agent_pref_velocity(i, preferred[i])
            sim.set_agent_radius(i, radii[i])
            sim.set_agent_max_speed(i, speeds[i])
        sim.do_step()
        new = [sim.get_agent_velocity(i).to_tuple() for i in range(scene.num_agents)]
        command = torch.zeros(scene.num_agents, 3, dtype=scene.dtype)
        command[:, :2] = torch.tensor(new, dtype=scene.dtype)
        return Plan(velocities=command,
                    stats={'max_planned_speed': float(command.norm(dim=-1).max())})
