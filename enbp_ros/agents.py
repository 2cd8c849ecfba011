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
The belief node's memory of its agents: latest accepted pose, velocity estimate and goal.

Pure Python and NumPy (no rclpy), so every rule is testable without a ROS graph. Poses
reach the planner only through :meth:`AgentTable.accept_pose`, which refuses unknown
agents, stamps that are not newer than the last accepted one (out of order), and stamps
too far from the node clock (stale, or from the future). An agent whose last pose is
older than the timeout is left out of the next scene and comes back with its next pose.

Velocity is not measured by a pose message: it is the finite difference of the last two
accepted positions, with the covariance that difference has when the two measurements
are independent: for ``v = (p_k - p_{k-1}) / dt``, ``cov(v) = (C_k + C_{k-1}) / dt^2``
and ``cov(p_k, v) = C_k / dt``. With no usable previous pose, the velocity is zero with
variance ``max_speed^2`` per axis: "anything up to the speed limit".
"""

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from enbp_core.scene import Obstacles, Scene
from enbp_ros.inputs import GoalMeasurement, PoseMeasurement, RejectedInput
import numpy as np
import torch

__all__ = ['AgentState', 'AgentTable']


@dataclass
class AgentState:
    """What is known of one agent: the last two poses, and the goal."""

    pose: Optional[PoseMeasurement] = None
    previous: Optional[PoseMeasurement] = None
    goal: Optional[GoalMeasurement] = None
    rejected: int = 0
    last_reason: str = ''


class AgentTable:
    """
    Known agents and their accepted measurements.

    Parameters
    ----------
    ids : iterable of str
        The agents planned for, in this order.
    agent_timeout : float
        An agent whose last accepted pose is older than this (s, node clock) is
        left out of the scene.
    max_pose_age : float
        Poses whose stamp differs from the node clock by more than this (s) are refused.
    max_velocity_gap : float
        The finite-difference velocity uses two poses at most this far apart (s).

    """

    def __init__(self, ids: Iterable[str], agent_timeout: float = 1.0,
                 max_pose_age: float = 0.5, max_velocity_gap: float = 1.0):
        self.ids: Tuple[str, ...] = tuple(ids)
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f'agent ids must be unique, got {list(self.ids)}')
        self.agent_timeout = float(agent_timeout)
        self.max_pose_age = float(max_pose_age)
        self.max_velocity_gap = float(max_velocity_gap)
        self.agents: Dict[str, AgentState] = {i: AgentState() for i in self.ids}

    def reset(self) -> None:
        """Forget every measurement (after the clock jumped back, e.g. a simulator restart)."""
        self.agents = {i: AgentState() for i in self.ids}

    def _state(self, agent: str) -> AgentState:
        state = self.agents.get(agent)
        if state is None:
            raise RejectedInput(f'unknown agent {agent!r} (known: {", ".join(self.ids)})')
        return state

    def reject(self, agent: str, reason: str) -> None:
        """Count a rejected input of a known agent (unknown agents are not counted here)."""
        state = self.agents.get(agent)
        if state is not None:
            state.rejected += 1
            state.last_reason = reason

    def accept_pose(self, agent: str, pose: PoseMeasurement, now: Optional[float]) -> None:
        """
        Keep ``pose`` as ``agent``'s latest, or raise :class:`RejectedInput`.

        Parameters
        ----------
        agent : str
            Agent id.
        pose : PoseMeasurement
            A validated pose (see :func:`enbp_ros.inputs.pose_from_msg`).
        now : float or None
            Node clock, s; ``None`` skips the age check (no clock yet).

        """
        state = self._state(agent)
        if now is not None and abs(now - pose.stamp) > self.max_pose_age:
            kind = 'stale' if pose.stamp < now else 'from the future'
            raise RejectedInput(f'{agent}/pose stamp {pose.stamp:.3f} s is {kind}: node clock '
                                f'{now:.3f} s, max_pose_age {self.max_pose_age:g} s')
        if state.pose is not None and pose.stamp <= state.pose.stamp:
            raise RejectedInput(f'{agent}/pose stamp {pose.stamp:.3f} s is not newer than the '
                                f'last accepted {state.pose.stamp:.3f} s (out of order)')
        state.previous, state.pose = state.pose, pose

    def accept_goal(self, agent: str, goal: GoalMeasurement) -> None:
        """Keep ``goal`` as ``agent``'s goal, or raise :class:`RejectedInput`."""
        self._state(agent).goal = goal

    def active(self, now: Optional[float]) -> List[str]:
        """Return the agents whose last pose is at most ``agent_timeout`` old (all if no clock)."""
        return [i for i in self.ids if self.agents[i].pose is not None
                and (now is None or now - self.agents[i].pose.stamp <= self.agent_timeout)]

    def velocity(self, agent: str, max_speed: float) -> Tuple[np.ndarray, np.ndarray]:
        """Return the velocity estimate ``(3,)`` and the 6x6 ``(p, v)`` covariance."""
        state = self.agents[agent]
        pose, previous = state.pose, state.previous
        c = pose.covariance[:3, :3]
        covariance = np.zeros((6, 6))
        covariance[:3, :3] = c
        gap = pose.stamp - previous.stamp if previous is not None else np.inf
        if 0 < gap <= self.max_velocity_gap:
            velocity = (pose.position - previous.position) / gap
            covariance[:3, 3:] = covariance[3:, :3] = c / gap
            covariance[3:, 3:] = (c + previous.covariance[:3, :3]) / gap ** 2
        else:
            velocity = np.zeros(3)
            covariance[3:, 3:] = max_speed ** 2 * np.eye(3)
        return velocity, covariance

    def scene(self, now: Optional[float], radius: float, max_speed: float,
              obstacles: Obstacles) -> Optional[Scene]:
        """
        Return the scene of the active agents (float64), or ``None`` if there are none.

        An agent with no goal yet holds its position (its goal is where it is).
        """
        active = self.active(now)
        if not active:
            return None
        positions, velocities, covariances, goals = [], [], [], []
        for agent in active:
            state = self.agents[agent]
            velocity, covariance = self.velocity(agent, max_speed)
            positions.append(state.pose.position)
            velocities.append(velocity)
            covariances.append(covariance)
            goals.append(state.goal.position if state.goal is not None else state.pose.position)
        n = len(active)

        def tensor(values):
            return torch.as_tensor(np.asarray(values), dtype=torch.float64)

        stamps = [self.agents[a].pose.stamp for a in active]
        return Scene(ids=tuple(active), positions=tensor(positions),
                     velocities=tensor(velocities), covariances=tensor(covariances),
                     goals=tensor(goals), radii=torch.full((n,), float(radius),
                                                           dtype=torch.float64),
                     max_speeds=torch.full((n,), float(max_speed), dtype=torch.float64),
                     obstacles=obstacles, time=float(max(stamps)))
