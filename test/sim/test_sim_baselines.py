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

"""ORCA and straight-line baselines in closed loop."""

import math

from enbp_core.baselines.orca import obstacle_polygons, OrcaPlanner
from enbp_core.baselines.straight import braking_speed, StraightPlanner
from enbp_core.scene import Obstacles
from enbp_core.sim.metrics import compute_metrics
from enbp_core.sim.scenarios import load_scenario
import pytest
import torch


def test_orca_six_agents_on_the_circle_reach_goals_without_collision():
    instance = load_scenario('circle', 6, seed=0)
    episode = instance.simulator().run(OrcaPlanner({'time_step': instance.sim.dt}))
    m = compute_metrics(episode)
    assert m['success'] == 1 and m['colliding_pairs'] == 0
    assert m['min_separation_m'] > 0
    assert m['max_executed_speed'] <= 2.0 + 1e-9
    assert m['makespan_ratio'] < 1.5
    assert float(episode.positions[..., 2].abs().max()) == 0.0


def test_orca_avoids_obstacles():
    instance = load_scenario('circle_obstacles', 4, seed=0)
    m = compute_metrics(instance.simulator().run(OrcaPlanner()))
    assert m['obstacle_collisions'] == 0 and m['colliding_pairs'] == 0
    assert m['success'] == 1


def test_orca_refuses_3d_scenes():
    instance = load_scenario('sphere', 4, seed=0)
    with pytest.raises(ValueError, match='ORCA .* is planar'):
        OrcaPlanner().plan(instance.scene)


def test_orca_rejects_bad_options():
    with pytest.raises(ValueError, match=r"orca: unknown options \['horizon'\]"):
        OrcaPlanner({'horizon': 3.0})
    with pytest.raises(ValueError, match='orca.max_neighbors must be an integer'):
        OrcaPlanner({'max_neighbors': 2.5})
    with pytest.raises(ValueError, match='orca.time_step must be a number'):
        OrcaPlanner({'time_step': 'fast'})


def test_obstacle_polygons_circumscribe_the_disks():
    obstacles = Obstacles(torch.tensor([[1.0, 2.0, 0.6, 1.0], [0.0, 0.0, 5.0, 1.0]],
                                       dtype=torch.float64),
                          torch.tensor([[-3.0, 4.0, 2.0]], dtype=torch.float64))
    polygons = obstacle_polygons(obstacles, sides=8)
    assert len(polygons) == 2  # the second sphere does not meet z = 0
    for polygon, (x, y, r) in zip(polygons, [(-3.0, 4.0, 2.0), (1.0, 2.0, 0.8)]):
        vertices = torch.tensor(polygon, dtype=torch.float64)
        centre = torch.tensor([x, y], dtype=torch.float64)
        # Edge midpoints touch the disk; vertices lie outside it.
        midpoints = (vertices + vertices.roll(-1, 0)) / 2
        assert torch.allclose((midpoints - centre).norm(dim=-1),
                              torch.full((8,), r, dtype=torch.float64))
        # Counter-clockwise: positive signed area.
        area = 0.5 * float((vertices[:, 0] * vertices.roll(-1, 0)[:, 1]
                            - vertices.roll(-1, 0)[:, 0] * vertices[:, 1]).sum())
        assert area > 0


def test_braking_speed():
    distance = torch.tensor([0.0, 0.05, 1.0, 100.0], dtype=torch.float64)
    speed = braking_speed(distance, torch.full((4,), 2.0, dtype=torch.float64), 2.0, 0.1)
    assert speed.tolist() == pytest.approx([0.0, math.sqrt(0.2), 2.0, 2.0])
    speed = braking_speed(torch.tensor([0.25], dtype=torch.float64),
                          torch.tensor([2.0], dtype=torch.float64), 2.0, 0.1)
    assert float(speed) == pytest.approx(1.0)


def test_straight_planner_reaches_the_goal_in_about_the_ideal_time():
    instance = load_scenario('sphere', 3, seed=0)
    planner = StraightPlanner({'max_acceleration': 2.0, 'time_step': 0.1})
    m = compute_metrics(instance.simulator().run(planner))
    assert m['success'] == 1
    assert m['makespan_ratio'] == pytest.approx(1.0, abs=0.05)
    assert m['colliding_pairs'] == 3  # all three meet at the centre: expected
    assert math.isclose(m['max_planned_speed'], 2.0)
