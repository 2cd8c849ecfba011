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

"""Scenario geometry and the YAML loader's validation."""

import math

from enbp_core.sim.scenarios import available_scenarios, fibonacci_sphere, load_scenario
import pytest
import torch
import yaml

EXACT = {'layout': {'start_jitter': 0.0}}


def test_shipped_scenarios():
    assert set(available_scenarios()) >= {
        'circle', 'circle_obstacles', 'sphere', 'junction', 'random'}


@pytest.mark.parametrize('name', ['circle', 'circle_obstacles', 'sphere', 'junction', 'random'])
@pytest.mark.parametrize('n', [1, 5, 37])
def test_every_scenario_lays_out_valid_separated_agents(name, n):
    instance = load_scenario(name, n, seed=2)
    scene = instance.scene
    scene.validate()
    assert scene.num_agents == n and len(set(scene.ids)) == n
    assert torch.equal(scene.velocities, torch.zeros(n, 3, dtype=torch.float64))
    assert instance.sim.time_limit >= 60.0
    assert instance.planar == (name != 'sphere')
    if instance.planar:
        assert float(scene.positions[:, 2].abs().max()) == 0.0
        assert float(scene.goals[:, 2].abs().max()) == 0.0
    if n > 1:
        for points in (scene.positions, scene.goals):
            gap = torch.cdist(points, points) + 1e9 * torch.eye(n, dtype=torch.float64)
            assert float(gap.min()) > 2 * float(scene.radii.max())


@pytest.mark.parametrize('n, radius', [(5, 25.0), (15, 25.0), (50, 25.0), (100, 50.0),
                                       (150, 75.0)])
def test_circle_radius_rule_and_antipodes(n, radius):
    instance = load_scenario('circle', n, seed=0, overrides=EXACT)
    starts, goals = instance.starts, instance.goals
    assert instance.layout['circle_radius'] == radius
    assert torch.allclose(starts.norm(dim=-1), torch.full((n,), radius, dtype=torch.float64))
    assert torch.allclose(goals, -starts, atol=1e-12)
    # Even spacing: consecutive agents one arc step apart.
    chord = 2 * radius * math.sin(math.pi / n)
    assert torch.allclose((starts - starts.roll(1, 0)).norm(dim=-1),
                          torch.full((n,), chord, dtype=torch.float64))


def test_start_jitter_is_bounded_and_seeded():
    exact = load_scenario('circle', 20, seed=0, overrides=EXACT)
    a = load_scenario('circle', 20, seed=3)
    b = load_scenario('circle', 20, seed=3)
    c = load_scenario('circle', 20, seed=4)
    offset = (a.starts - exact.starts).norm(dim=-1)
    assert float(offset.max()) <= 0.1 and float(offset.max()) > 0
    assert torch.equal(a.starts, b.starts) and not torch.equal(a.starts, c.starts)
    assert torch.equal(a.goals, exact.goals)


def test_sphere_is_genuinely_3d_with_antipodal_goals():
    n = 60
    instance = load_scenario('sphere', n, seed=0, overrides=EXACT)
    starts, goals = instance.starts, instance.goals
    radius = instance.layout['sphere_radius']
    assert radius == 25.0
    assert torch.allclose(starts.norm(dim=-1), torch.full((n,), radius, dtype=torch.float64))
    assert torch.allclose(goals, -starts, atol=1e-12)
    assert float(starts[:, 2].std()) > 0.5 * radius / math.sqrt(3)
    # Fibonacci points spread evenly: no two much closer than the average spacing.
    unit = fibonacci_sphere(n)
    gap = torch.cdist(unit, unit) + 10 * torch.eye(n, dtype=torch.float64)
    assert float(gap.min()) > 0.5 * math.sqrt(4 * math.pi / n)
    big = load_scenario('sphere', 1000, seed=0)
    assert big.layout['sphere_radius'] == pytest.approx(4 * math.sqrt(1000 / (4 * math.pi)))


@pytest.mark.parametrize('seed', [0, 1, 2, 3, 4])
def test_obstacles_are_never_on_starts_or_goals(seed):
    instance = load_scenario('circle_obstacles', 40, seed=seed)
    obstacles = instance.scene.obstacles
    assert obstacles.spheres.shape == (4, 4) and obstacles.cylinders.shape == (4, 3)
    clearance = instance.parameters['obstacles']['clearance']
    for points in (instance.starts, instance.goals):
        body_gap = obstacles.clearance(points) - instance.scene.radii[:, None]
        assert float(body_gap.min()) >= clearance - 1e-9
    radius = instance.layout['circle_radius']
    assert float(obstacles.spheres[:, :2].norm(dim=-1).max()) <= 0.5 * radius
    assert float(obstacles.cylinders[:, :2].norm(dim=-1).max()) <= 0.5 * radius
    assert float(obstacles.spheres[:, 2].abs().max()) == 0.0  # planar: centres on z = 0
    # Obstacles are placed from the seed.
    again = load_scenario('circle_obstacles', 40, seed=seed).scene.obstacles
    assert torch.equal(again.spheres, obstacles.spheres)
    other = load_scenario('circle_obstacles', 40, seed=seed + 10).scene.obstacles
    assert not torch.equal(other.spheres, obstacles.spheres)


@pytest.mark.parametrize('dimensions', [2, 3])
def test_random_scenario_separations(dimensions):
    n = 60
    instance = load_scenario('random', n, seed=5, overrides={'dimensions': dimensions})
    layout = instance.parameters['layout']
    eye = 1e9 * torch.eye(n, dtype=torch.float64)
    for points in (instance.starts, instance.goals):
        assert float((torch.cdist(points, points) + eye).min()) >= layout['min_separation']
        assert float(points.abs().max()) <= instance.layout['box_side'] / 2
    travel = (instance.goals - instance.starts).norm(dim=-1)
    assert float(travel.min()) >= layout['min_travel']
    if dimensions == 2:
        assert float(instance.starts[:, 2].abs().max()) == 0.0
    else:
        assert not instance.planar and float(instance.starts[:, 2].abs().max()) > 1.0
    again = load_scenario('random', n, seed=5, overrides={'dimensions': dimensions})
    assert torch.equal(again.starts, instance.starts)


@pytest.mark.parametrize('streams', [2, 4])
def test_junction_streams_cross_and_travel_equal_distances(streams):
    n = 30
    instance = load_scenario('junction', n, seed=0,
                             overrides={'layout': {'streams': streams, 'start_jitter': 0.0}})
    travel = instance.goals - instance.starts
    directions = torch.nn.functional.normalize(travel, dim=-1)
    assert len({tuple(d) for d in directions.round(decimals=6).tolist()}) == streams
    # Every agent of a stream travels the same distance, through the junction.
    distances = travel.norm(dim=-1)
    for d in directions.round(decimals=6).unique(dim=0):
        members = (directions.round(decimals=6) == d).all(dim=-1)
        assert torch.allclose(distances[members], distances[members][0].expand(
            int(members.sum())))
    # Each straight path passes the junction centre on the right, at its lane's offset.
    along = (-instance.starts * directions).sum(dim=-1, keepdim=True)
    closest = instance.starts + along * directions
    layout = instance.parameters['layout']
    reach = layout['lane_offset'] + (layout['lanes'] - 1) / 2 * layout['lane_spacing']
    assert float(closest.norm(dim=-1).max()) <= reach + 1e-9
    assert bool((along > 0).all()) and bool((along < distances).all())


def test_unknown_scenario_and_bad_arguments():
    with pytest.raises(ValueError, match="unknown scenario 'nope'.*circle"):
        load_scenario('nope', 5)
    with pytest.raises(ValueError, match='num_agents must be an integer >= 1'):
        load_scenario('circle', 0)
    with pytest.raises(ValueError, match='seed must be an integer >= 0'):
        load_scenario('circle', 5, seed=-1)


@pytest.mark.parametrize('overrides, message', [
    ({'agents': {'radius': -1.0}}, r'circle.agents.radius must be > 0'),
    ({'agents': {'max_speed': 'fast'}}, r'circle.agents.max_speed must be a number'),
    ({'agents': {'radiuss': 1.0}}, r"circle.agents: unknown keys \['radiuss'\]"),
    ({'layout': {'start_jitter': math.nan}}, r'circle.layout.start_jitter must be finite'),
    ({'simulation': {'covariance_floor': '1e-4'}}, r'write exponents with a dot'),
    ({'simulation': {'control_period_steps': 1.5}}, r'control_period_steps must be an integer'),
    ({'simulation': {'time_limit': {'per_ideal': 0.0, 'minimum': 1.0}}},
     r'time_limit.per_ideal must be > 0'),
    ({'dimensions': 3}, r'dimensions must be one of \[2\]'),
    ({'generator': 'spiral'}, r'generator must be one of'),
    ({'colour': 'red'}, r"unknown keys \['colour'\]"),
    ({'layout': {'start_jitter': 5.0}}, r'too dense|closer'),
])
def test_bad_values_raise_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_scenario('circle', 100, seed=0, overrides=overrides)


def test_too_many_agents_for_a_fixed_circle():
    with pytest.raises(ValueError, match='less than two agent radii'):
        load_scenario('circle', 200, overrides={'layout': {'radius_per_agent': 0.0}})


def test_a_scenario_file_given_by_path(tmp_path):
    spec = yaml.safe_load((load_scenario('circle', 3).source and open(
        load_scenario('circle', 3).source, encoding='utf-8')).read())
    spec['obstacles'] = {'spheres': 50, 'cylinders': 50, 'radius_range': [3.0, 4.0],
                         'region': 0.1, 'min_gap': 3.0, 'clearance': 2.0}
    path = tmp_path / 'crowded.yaml'
    path.write_text(yaml.safe_dump(spec), encoding='utf-8')
    with pytest.raises(ValueError, match='could not place 50 spheres'):
        load_scenario(str(path), 8)
    spec['obstacles'].update(spheres=1, cylinders=1, region=0.3)
    path.write_text(yaml.safe_dump(spec), encoding='utf-8')
    instance = load_scenario(path, 8)
    assert instance.name == 'crowded' and instance.scene.obstacles.count == 2
    path.write_text('generator: [unclosed', encoding='utf-8')
    with pytest.raises(ValueError, match='not valid YAML'):
        load_scenario(path, 8)
