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

"""Metrics against brute-force references and hand-made trajectories."""

import itertools
import math

from enbp_core.baselines import StraightPlanner
from enbp_core.scene import Obstacles
from enbp_core.sim.metrics import collisions, compute_metrics, ideal_time
from enbp_core.sim.simulator import Episode, SimConfig, Simulator
import pytest
import torch


def _brute_force(positions, radii):
    t_len, n = positions.shape[:2]
    pairs, events, separation = set(), 0, math.inf
    for i, j in itertools.combinations(range(n), 2):
        touching_before = False
        for t in range(t_len):
            gap = float((positions[t, i] - positions[t, j]).norm()) - float(radii[i] + radii[j])
            separation = min(separation, gap)
            touching = gap < 0
            if touching:
                pairs.add((i, j))
                if not touching_before:
                    events += 1
            touching_before = touching
    return pairs, events, separation


def test_collision_counting_matches_brute_force(generator):
    for _ in range(5):
        t_len, n = 40, 7
        steps = 0.6 * torch.randn(t_len, n, 3, generator=generator, dtype=torch.float64)
        positions = steps.cumsum(0) + 3 * torch.randn(n, 3, generator=generator,
                                                      dtype=torch.float64)
        radii = 0.5 + torch.rand(n, generator=generator, dtype=torch.float64)
        pairs, events, separation = collisions(positions, radii, max_chunk_bytes=2000)
        ref_pairs, ref_events, ref_separation = _brute_force(positions, radii)
        assert {tuple(p) for p in pairs.tolist()} == ref_pairs
        assert events == ref_events
        assert separation == pytest.approx(ref_separation, abs=1e-12)
        assert len(ref_pairs) > 0


def test_one_agent_has_no_pairs():
    pairs, events, separation = collisions(torch.zeros(5, 1, 3), torch.ones(1))
    assert pairs.shape == (0, 2) and events == 0 and math.isnan(separation)


def _episode(positions, goals, dt=0.5, tolerance=0.25, radius=0.1, speed=1.0, accel=1e9,
             end_reason='goals', obstacles=None, stats=None):
    positions = torch.as_tensor(positions, dtype=torch.float64)
    t_len, n = positions.shape[:2]
    velocities = torch.zeros_like(positions)
    velocities[1:] = (positions[1:] - positions[:-1]) / dt
    return Episode(
        ids=tuple(str(i) for i in range(n)),
        config=SimConfig(dt=dt, goal_tolerance=tolerance, time_limit=dt * (t_len - 1) + 1),
        positions=positions, velocities=velocities, commands=velocities[1:].clone(),
        goals=torch.as_tensor(goals, dtype=torch.float64),
        radii=torch.full((n,), radius, dtype=torch.float64),
        max_speeds=torch.full((n,), speed, dtype=torch.float64),
        max_accelerations=torch.full((n,), accel, dtype=torch.float64),
        obstacles=Obstacles.empty() if obstacles is None else obstacles,
        planning_times=torch.full((t_len - 1,), 0.01, dtype=torch.float64),
        cycle_steps=torch.arange(t_len - 1), stats=stats or [], end_reason=end_reason)


def test_makespan_and_path_ratio_on_hand_made_trajectories():
    # Agent 0: an L-shaped path 3 m east then 4 m north (straight line 5 m), 1 m per sample.
    # Agent 1: straight 2 m east, arrives at sample 2 and waits.
    leg = [[float(x), 0.0, 0.0] for x in range(4)] + [[3.0, float(y), 0.0] for y in range(1, 5)]
    other = [[0.0, 10.0, 0.0], [1.0, 10.0, 0.0]] + [[2.0, 10.0, 0.0]] * 6
    positions = torch.tensor([leg, other], dtype=torch.float64).transpose(0, 1)
    episode = _episode(positions, goals=[[3.0, 4.0, 0.0], [2.0, 10.0, 0.0]])
    m = compute_metrics(episode)
    assert m['success'] == 1 and m['agents_at_goal_rate'] == 1.0
    assert m['makespan_s'] == pytest.approx(7 * 0.5)  # agent 0 arrives at sample 7
    assert m['path_ratio_mean'] == pytest.approx((7 / 5 + 1.0) / 2)
    assert m['path_ratio_max'] == pytest.approx(7 / 5)
    assert m['ideal_makespan_s'] == pytest.approx(5 - 0.25, rel=1e-6)  # 1 m/s, no ramp
    assert m['makespan_ratio'] == pytest.approx(3.5 / 4.75, rel=1e-6)
    assert m['colliding_pairs'] == 0 and m['deadlock'] == 0
    assert m['max_executed_speed'] == pytest.approx(2.0)
    assert m['plan_time_median_s'] == pytest.approx(0.01)
    # Acceleration: agent 0 turns from (2, 0) to (0, 2) m/s once, in 0.5 s; agent 1 stops.
    assert m['max_acceleration'] == pytest.approx(math.hypot(2, 2) / 0.5)


def test_arrival_is_the_start_of_the_final_stay():
    # The agent reaches its goal at sample 2, is pushed off at sample 4, returns at 6.
    xs = [0.0, 1.0, 2.0, 2.0, 3.0, 3.0, 2.0, 2.0]
    positions = torch.tensor([[[x, 0.0, 0.0]] for x in xs], dtype=torch.float64)
    m = compute_metrics(_episode(positions, goals=[[2.0, 0.0, 0.0]]))
    assert m['makespan_s'] == pytest.approx(6 * 0.5)


def test_failure_gives_nan_makespan_and_deadlock():
    positions = torch.zeros(30, 2, 3, dtype=torch.float64)
    positions[:, 1, 0] = 5.0
    episode = _episode(positions, goals=[[0.0, 0.0, 0.0], [9.0, 0.0, 0.0]], dt=0.5,
                       end_reason='time_limit')
    m = compute_metrics(episode)
    assert m['success'] == 0 and m['agents_at_goal_rate'] == 0.5
    assert math.isnan(m['makespan_s']) and math.isnan(m['makespan_ratio'])
    assert m['deadlock'] == 1 and m['stuck_agents'] == 1 and m['stalled'] == 1


def test_planner_stats_are_summarised():
    positions = torch.zeros(4, 1, 3, dtype=torch.float64)
    stats = [{'iterations': 10, 'residual': 0.3, 'settling_m': 0.01, 'diverged': 0,
              'time_per_iteration_s': 0.002, 'max_planned_speed': 2.5},
             {'iterations': 20, 'residual': 0.1, 'settling_m': 0.03, 'diverged': 1,
              'time_per_iteration_s': 0.004, 'max_planned_speed': 1.5},
             {'iterations': 30, 'residual': math.nan}]
    m = compute_metrics(_episode(positions, goals=[[0.0, 0.0, 0.0]], stats=stats))
    assert m['iterations_mean'] == pytest.approx(20)
    assert m['residual_median'] == pytest.approx(0.2)
    assert m['settling_median_m'] == pytest.approx(0.02)
    assert m['diverged'] == 1 and m['diverged_cycles'] == 1
    assert m['time_per_iteration_s'] == pytest.approx(0.003)
    assert m['max_planned_speed'] == pytest.approx(2.5)
    bare = compute_metrics(_episode(positions, goals=[[0.0, 0.0, 0.0]]))
    assert bare['diverged'] == 0 and math.isnan(bare['settling_median_m'])


def test_obstacle_collisions_are_counted():
    obstacles = Obstacles(torch.tensor([[5.0, 0.0, 0.0, 1.0]], dtype=torch.float64),
                          torch.tensor([[0.0, 50.0, 1.0]], dtype=torch.float64))
    positions = torch.tensor([[[float(x), 0.0, 0.0]] for x in range(11)], dtype=torch.float64)
    m = compute_metrics(_episode(positions, goals=[[10.0, 0.0, 0.0]], obstacles=obstacles,
                                 radius=0.5))
    assert m['obstacle_collisions'] == 1
    assert m['min_obstacle_clearance_m'] == pytest.approx(-1.5)


def test_ideal_time():
    d = torch.tensor([0.0, 1.0, 4.0, 10.0], dtype=torch.float64)
    t = ideal_time(d, torch.tensor(2.0), torch.tensor(1.0))
    # d >= v^2/a = 4: d/v + v/a; else 2 sqrt(d/a).
    assert t.tolist() == pytest.approx([0.0, 2.0, 4.0, 7.0])


def test_straight_planner_head_on_collides_and_the_metrics_say_so(scene_factory):
    scene = scene_factory([[-10, 0, 0], [10, 0, 0]], goals=[[10, 0, 0], [-10, 0, 0]])
    planner = StraightPlanner({'max_acceleration': 2.0, 'time_step': 0.1})
    episode = Simulator(scene, 2.0, SimConfig(planar=True, time_limit=40.0)).run(planner)
    m = compute_metrics(episode)
    assert m['colliding_pairs'] == 1 and m['collision_events'] == 1
    assert m['collision_rate'] == 1.0
    assert m['min_separation_m'] < -1.5  # they pass through each other
    assert m['success'] == 1
    assert 0.95 < m['makespan_ratio'] < 1.02  # it is the straight-line ideal
    assert m['path_ratio_max'] == pytest.approx(1.0, abs=0.03)
