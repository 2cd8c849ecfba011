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
Figures of merit of a simulated episode.

Definitions (positions are sampled every ``dt``; contact between samples is
not interpolated, at ``dt = 0.1`` s and 2 m/s agents move 0.2 m per step):

- **Colliding pairs**: distinct pairs ``i < j`` whose centre distance is below
  ``r_i + r_j`` at some sample. A **collision event** is a maximal run of
  consecutive samples in which one pair is in contact. **Collision rate** =
  colliding pairs / ``N (N - 1) / 2``.
- **Minimum separation**: min over samples and pairs of
  ``|p_i - p_j| - (r_i + r_j)`` (negative: penetration depth).
- **Obstacle collisions**: (agent, obstacle) pairs in which the agent's centre
  came closer than its radius to the obstacle's surface at some sample.
- **At goal**: centre within ``goal_tolerance`` of the goal. An agent's
  **arrival time** is the start of its final stay at the goal (so an agent
  pushed off its goal arrives again later). **Success** = every agent at its
  goal at the end of the episode; **agents at goal rate** = fraction at goal
  at the end. **Makespan** = the latest arrival time if success, else NaN.
- **Ideal makespan**: the largest straight-line time
  ``t(d) = d / v + v / a`` (trapezoid, if ``d >= v² / a``, else
  ``2 sqrt(d / a)``) over agents, with ``d = max(0, |goal - start| -
  goal_tolerance)``; **makespan ratio** = makespan / ideal makespan.
- **Path ratio**: distance travelled over the whole episode / straight-line
  distance from start to goal, per agent (agents with a start within 1 mm of
  their goal excluded); mean and max over agents.
- **Smoothness**: mean over steps and agents of the squared acceleration
  ``|(v_{k+1} - v_k) / dt|²`` (m²/s⁴) and of the squared jerk (m²/s⁶).
- **Planning time**: wall-clock seconds of ``planner.plan`` per control cycle,
  median and 95th percentile; **time per iteration**: median of the planner's
  ``stats['time_per_iteration_s']``.
- **Speeds**: max planned (from ``stats['max_planned_speed']``), max
  commanded (norm of the commands) and max executed speed.
- **Diverged**: any cycle with ``stats['diverged'] > 0`` or a non-finite
  command. **Residual** and **settling**: medians over cycles of
  ``stats['residual']`` and ``stats['settling_m']``.
- **Deadlock**: not every agent at its goal, and every agent not at its goal
  stayed within ``deadlock_distance`` (1 cm) of its position during the last
  ``deadlock_window`` (10 s) of the episode; **stuck agents** counts the
  agents not at goal that did so. **Stalled** is the looser livelock test:
  not every agent at its goal, and no agent not at its goal got closer to it
  by more than ``goal_tolerance`` over that window (agents that jitter in
  place, as ORCA's do in a symmetric jam, are stalled but not deadlocked).

Statistics a planner does not report are NaN.
"""

import math
from typing import Dict, Tuple, Union

from enbp_core.sim.simulator import deadlocked, Episode
import torch

__all__ = [
    'collisions',
    'compute_metrics',
    'ideal_time',
    'obstacle_collisions',
]

Number = Union[float, int, str]


def collisions(positions: torch.Tensor, radii: torch.Tensor,
               max_chunk_bytes: int = 64 * 2 ** 20) -> Tuple[torch.Tensor, int, float]:
    """
    Colliding pairs, collision events and minimum separation of a trajectory.

    Parameters
    ----------
    positions : torch.Tensor
        Shape ``(T, N, 3)``, m.
    radii : torch.Tensor
        Shape ``(N,)``, m.
    max_chunk_bytes : int
        Memory bound: distances are computed over chunks of samples.

    Returns
    -------
    (torch.Tensor, int, float)
        The colliding pairs, shape ``(P, 2)`` with ``i < j`` in lexicographic
        order; the number of collision events; the minimum separation in m
        (NaN for fewer than two agents).

    """
    t_len, n = positions.shape[0], positions.shape[1]
    if n < 2 or t_len == 0:
        return torch.zeros(0, 2, dtype=torch.long), 0, math.nan
    positions = positions.to(torch.float64)
    first, second = torch.triu_indices(n, n, offset=1)
    reach = (radii[first] + radii[second]).to(torch.float64)
    ever = torch.zeros(first.shape[0], dtype=torch.bool)
    previous = torch.zeros(first.shape[0], dtype=torch.bool)
    events = 0
    separation = math.inf
    chunk = max(1, max_chunk_bytes // (8 * first.shape[0] * 4))
    for start in range(0, t_len, chunk):
        block = positions[start:start + chunk]
        gap = (block[:, first] - block[:, second]).norm(dim=-1) - reach
        separation = min(separation, float(gap.min()))
        contact = gap < 0
        ever |= contact.any(dim=0)
        before = torch.cat([previous[None], contact[:-1]], dim=0)
        events += int((contact & ~before).sum())
        previous = contact[-1]
    return torch.stack([first[ever], second[ever]], dim=-1), events, separation


def obstacle_collisions(positions: torch.Tensor, radii: torch.Tensor,
                        episode_obstacles) -> Tuple[int, float]:
    """
    (agent, obstacle) pairs in contact at some sample, and the minimum clearance.

    Parameters
    ----------
    positions : torch.Tensor
        Shape ``(T, N, 3)``, m.
    radii : torch.Tensor
        Shape ``(N,)``, m.
    episode_obstacles : Obstacles
        The static obstacles.

    Returns
    -------
    (int, float)
        Number of pairs; min over samples, agents and obstacles of the
        distance between the agent's body and the obstacle's surface, m (NaN
        without obstacles).

    """
    if episode_obstacles.count == 0 or positions.shape[0] == 0:
        return 0, math.nan
    clearance = episode_obstacles.clearance(positions.to(torch.float64)) \
        - radii.to(torch.float64)[:, None]
    return int((clearance < 0).any(dim=0).sum()), float(clearance.min())


def ideal_time(distance: torch.Tensor, max_speed: torch.Tensor,
               max_acceleration: torch.Tensor) -> torch.Tensor:
    """
    Fastest time over a straight line from rest to rest under speed and acceleration limits.

    Parameters
    ----------
    distance, max_speed, max_acceleration : torch.Tensor
        Broadcasting shapes; m, m/s, m/s².

    Returns
    -------
    torch.Tensor
        ``d / v + v / a`` if ``d >= v² / a`` (accelerate, cruise, brake),
        else ``2 sqrt(d / a)``, s.

    """
    d = distance.clamp_min(0)
    cruise = d / max_speed + max_speed / max_acceleration
    short = 2 * torch.sqrt(d / max_acceleration)
    return torch.where(d >= max_speed ** 2 / max_acceleration, cruise, short)


def _stat(stats, key):
    """Return the finite values of ``key`` over cycles as a float64 tensor."""
    values = [s[key] for s in stats if key in s and math.isfinite(s[key])]
    return torch.tensor(values, dtype=torch.float64)


def _median(values: torch.Tensor) -> float:
    return float(values.quantile(0.5)) if values.numel() else math.nan


def _quantile(values: torch.Tensor, q: float) -> float:
    return float(values.quantile(q)) if values.numel() else math.nan


def _max(values: torch.Tensor) -> float:
    return float(values.max()) if values.numel() else math.nan


def compute_metrics(episode: Episode) -> Dict[str, Number]:
    """
    Compute every figure of merit of an episode (see the module docstring).

    Returns
    -------
    dict
        Keys and units: ``num_agents``, ``steps``, ``duration_s``,
        ``end_reason`` (str), ``planning_cycles``, ``colliding_pairs``,
        ``collision_events``, ``collision_rate``, ``min_separation_m``,
        ``obstacle_collisions``, ``min_obstacle_clearance_m``, ``success``
        (0/1), ``agents_at_goal_rate``, ``makespan_s``, ``ideal_makespan_s``,
        ``makespan_ratio``, ``path_ratio_mean``, ``path_ratio_max``,
        ``mean_sq_acceleration``, ``mean_sq_jerk``, ``max_acceleration``
        (m/s²), ``plan_time_median_s``, ``plan_time_p95_s``,
        ``time_per_iteration_s``, ``iterations_mean``, ``max_planned_speed``,
        ``max_commanded_speed``, ``max_executed_speed``, ``diverged`` (0/1),
        ``diverged_cycles``, ``nonfinite_commands``, ``residual_median``,
        ``residual_max``, ``settling_median_m``, ``settling_p95_m``,
        ``deadlock`` (0/1), ``stuck_agents``, ``stalled`` (0/1),
        ``final_goal_distance_mean_m``.

    """
    cfg = episode.config
    positions, velocities = episode.positions, episode.velocities
    n, dt = positions.shape[1], cfg.dt
    pairs, events, separation = collisions(positions, episode.radii)
    obstacle_pairs, obstacle_clearance = obstacle_collisions(
        positions, episode.radii, episode.obstacles)

    at_goal = episode.at_goal()
    final = at_goal[-1]
    success = bool(final.all())
    index = torch.arange(positions.shape[0])[:, None].expand_as(at_goal)
    last_away = torch.where(~at_goal, index, torch.full_like(index, -1)).amax(dim=0)
    arrival = (last_away + 1).to(torch.float64) * dt
    makespan = round(float(arrival.max()), 9) if success else math.nan
    straight = (episode.goals - positions[0]).norm(dim=-1)
    ideal = ideal_time(straight - cfg.goal_tolerance, episode.max_speeds,
                       episode.max_accelerations)
    ideal_makespan = float(ideal.max())
    ratio = makespan / ideal_makespan if ideal_makespan > 0 else math.nan

    length = (positions[1:] - positions[:-1]).norm(dim=-1).sum(dim=0)
    moving = straight > 1e-3
    path_ratio = length[moving] / straight[moving]

    acceleration = (velocities[1:] - velocities[:-1]) / dt
    jerk = (acceleration[1:] - acceleration[:-1]) / dt
    sq_acc = float((acceleration ** 2).sum(-1).mean()) if acceleration.shape[0] else math.nan
    sq_jerk = float((jerk ** 2).sum(-1).mean()) if jerk.shape[0] else math.nan
    max_acc = float(acceleration.norm(dim=-1).max()) if acceleration.shape[0] else 0.0

    stats = episode.stats
    diverged_flags = _stat(stats, 'diverged')
    diverged_cycles = int((diverged_flags > 0).sum())
    diverged = diverged_cycles > 0 or episode.nonfinite_commands > 0

    window = max(1, int(round(cfg.deadlock_window / dt)))
    deadlock = episode.end_reason == 'deadlock'
    stuck, stalled = 0, deadlock
    if not success and positions.shape[0] > window:
        recent = positions[-window - 1:]
        deadlock = deadlock or deadlocked(recent, final, cfg.deadlock_distance)
        moved = (recent - recent[0]).norm(dim=-1).amax(dim=0)
        stuck = int(((moved <= cfg.deadlock_distance) & ~final).sum())
        to_goal = (recent[[0, -1]] - episode.goals).norm(dim=-1)
        progress = to_goal[0] - to_goal[1]
        stalled = deadlock or bool((progress[~final] <= cfg.goal_tolerance).all())

    planning = episode.planning_times
    return {
        'num_agents': n,
        'steps': episode.steps,
        'duration_s': round(episode.duration, 9),
        'end_reason': episode.end_reason,
        'planning_cycles': int(planning.numel()),
        'colliding_pairs': int(pairs.shape[0]),
        'collision_events': events,
        'collision_rate': pairs.shape[0] / (n * (n - 1) / 2) if n > 1 else 0.0,
        'min_separation_m': separation,
        'obstacle_collisions': obstacle_pairs,
        'min_obstacle_clearance_m': obstacle_clearance,
        'success': int(success),
        'agents_at_goal_rate': float(final.to(torch.float64).mean()),
        'makespan_s': makespan,
        'ideal_makespan_s': ideal_makespan,
        'makespan_ratio': ratio,
        'path_ratio_mean': float(path_ratio.mean()) if path_ratio.numel() else math.nan,
        'path_ratio_max': _max(path_ratio),
        'mean_sq_acceleration': sq_acc,
        'mean_sq_jerk': sq_jerk,
        'max_acceleration': max_acc,
        'plan_time_median_s': _median(planning),
        'plan_time_p95_s': _quantile(planning, 0.95),
        'time_per_iteration_s': _median(_stat(stats, 'time_per_iteration_s')),
        'iterations_mean': (float(_stat(stats, 'iterations').mean())
                            if _stat(stats, 'iterations').numel() else math.nan),
        'max_planned_speed': _max(_stat(stats, 'max_planned_speed')),
        'max_commanded_speed': (float(episode.commands.norm(dim=-1).max())
                                if episode.steps else 0.0),
        'max_executed_speed': float(velocities[1:].norm(dim=-1).max()) if episode.steps else 0.0,
        'diverged': int(diverged),
        'diverged_cycles': diverged_cycles,
        'nonfinite_commands': episode.nonfinite_commands,
        'residual_median': _median(_stat(stats, 'residual')),
        'residual_max': _max(_stat(stats, 'residual')),
        'settling_median_m': _median(_stat(stats, 'settling_m')),
        'settling_p95_m': _quantile(_stat(stats, 'settling_m'), 0.95),
        'deadlock': int(deadlock),
        'stuck_agents': stuck,
        'stalled': int(stalled),
        'final_goal_distance_mean_m': float((positions[-1] - episode.goals).norm(dim=-1).mean()),
    }
