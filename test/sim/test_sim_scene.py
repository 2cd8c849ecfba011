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

"""Scene and Obstacles: validation of bad input, and moving the world frame."""

import dataclasses
import math

from enbp_core.baselines import OrcaPlanner, StraightPlanner
from enbp_core.scene import Obstacles, Plan, Planner, Scene
from enbp_core.se3 import random_rigid_motion, RigidMotion
import pytest
import torch


def _replace(scene, **changes):
    return dataclasses.replace(scene, **changes)


def test_a_good_scene_validates(scene_factory):
    scene_factory([[0, 0, 0], [5, 0, 0]], goals=[[5, 0, 0], [0, 0, 0]]).validate()


@pytest.mark.parametrize('field, index', [
    ('positions', (0, 1)), ('velocities', (1, 2)), ('goals', (0, 0)), ('radii', (1,)),
    ('max_speeds', (0,)), ('covariances', (1, 2, 3)),
])
@pytest.mark.parametrize('bad', [math.nan, math.inf])
def test_non_finite_values_are_rejected(scene_factory, field, index, bad):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]])
    tensor = getattr(scene, field).clone()
    tensor[index] = bad
    with pytest.raises(ValueError, match=f'{field}.*non-finite'):
        _replace(scene, **{field: tensor}).validate()


def test_zero_agents_is_rejected(scene_factory):
    scene = scene_factory(torch.zeros(0, 3))
    with pytest.raises(ValueError, match='zero agents'):
        scene.validate()


def test_duplicate_ids_are_rejected(scene_factory):
    scene = scene_factory([[0, 0, 0], [5, 0, 0], [10, 0, 0]], ids=['x', 'y', 'x'])
    with pytest.raises(ValueError, match=r"unique.*\['x'\]"):
        scene.validate()


def test_shape_mismatch_is_rejected(scene_factory):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]])
    with pytest.raises(ValueError, match=r'goals must have shape \(2, 3\)'):
        _replace(scene, goals=torch.zeros(3, 3, dtype=torch.float64)).validate()
    with pytest.raises(ValueError, match=r'radii must have shape \(2,\)'):
        _replace(scene, radii=torch.ones(2, 1, dtype=torch.float64)).validate()


@pytest.mark.parametrize('field', ['radii', 'max_speeds'])
@pytest.mark.parametrize('value', [0.0, -1.0])
def test_non_positive_radius_or_speed_is_rejected(scene_factory, field, value):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]])
    tensor = getattr(scene, field).clone()
    tensor[1] = value
    with pytest.raises(ValueError, match=f"{field}\\[1\\] \\(agent 'a1'\\).*> 0"):
        _replace(scene, **{field: tensor}).validate()


def test_non_psd_covariance_is_rejected(scene_factory):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]])
    covariances = scene.covariances.clone()
    covariances[1, 0, 0] = -1.0
    with pytest.raises(ValueError, match=r"covariances\[1\] \(agent 'a1'\).*positive semi"):
        _replace(scene, covariances=covariances).validate()


def test_non_symmetric_covariance_is_rejected(scene_factory):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]])
    covariances = scene.covariances.clone()
    covariances[0, 0, 3] = 0.5
    with pytest.raises(ValueError, match='not symmetric'):
        _replace(scene, covariances=covariances).validate()


def test_agent_inside_a_sphere_is_rejected(scene_factory):
    obstacles = Obstacles(torch.tensor([[0.0, 2.5, 0.0, 2.0]], dtype=torch.float64),
                          torch.zeros(0, 3, dtype=torch.float64))
    # Centre 2.5 m from the sphere's centre: outside the sphere, but the body overlaps it.
    with pytest.raises(ValueError, match="agent 'a0' starts inside obstacle sphere 0"):
        scene_factory([[0, 0, 0]], obstacles=obstacles).validate()
    scene_factory([[0, -1.01, 0]], obstacles=obstacles).validate()


def test_agent_inside_a_cylinder_is_rejected_at_any_height(scene_factory):
    obstacles = Obstacles(torch.zeros(0, 4, dtype=torch.float64),
                          torch.tensor([[3.0, 0.0, 1.5]], dtype=torch.float64))
    with pytest.raises(ValueError, match="agent 'a1' starts inside obstacle cylinder 0"):
        scene_factory([[-5, 0, 0], [1, 0, 100]], obstacles=obstacles).validate()


def test_bad_obstacles_are_rejected(scene_factory):
    bad = Obstacles(torch.tensor([[0.0, 9.0, 0.0, -1.0]], dtype=torch.float64),
                    torch.zeros(0, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r'spheres\[0\] has radius -1 m'):
        scene_factory([[0, 0, 0]], obstacles=bad).validate()
    nan = Obstacles.empty()
    nan = Obstacles(nan.spheres, torch.tensor([[math.nan, 0.0, 1.0]], dtype=torch.float64))
    with pytest.raises(ValueError, match='cylinders has 1 non-finite'):
        scene_factory([[0, 0, 0]], obstacles=nan).validate()
    with pytest.raises(ValueError, match=r'spheres must have shape \(count, 4\)'):
        Obstacles(torch.zeros(2, 3, dtype=torch.float64), nan.cylinders).validate()


def _random_scene(generator, n=7):
    positions = 10 * torch.randn(n, 3, generator=generator, dtype=torch.float64)
    a = torch.randn(n, 6, 6, generator=generator, dtype=torch.float64)
    return Scene(
        ids=tuple(f'r{i}' for i in range(n)), positions=positions,
        velocities=torch.randn(n, 3, generator=generator, dtype=torch.float64),
        covariances=a @ a.transpose(-1, -2),
        goals=10 * torch.randn(n, 3, generator=generator, dtype=torch.float64),
        radii=torch.rand(n, generator=generator, dtype=torch.float64) + 0.5,
        max_speeds=torch.full((n,), 2.0, dtype=torch.float64),
        obstacles=Obstacles(
            torch.tensor([[40.0, 0.0, 3.0, 1.0], [0.0, -40.0, -2.0, 2.0]],
                         dtype=torch.float64),
            torch.tensor([[0.0, 50.0, 1.5]], dtype=torch.float64)),
        time=3.5)


def _z_rotation(angle, translation):
    c, s = math.cos(angle), math.sin(angle)
    rotation = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    return RigidMotion(rotation, torch.tensor(translation, dtype=torch.float64))


def test_transformed_moves_points_vectors_and_covariances(generator):
    scene = _random_scene(generator)
    scene.validate()
    motion = _z_rotation(0.7, [1.0, -2.0, 3.0])
    moved = scene.transformed(motion)
    moved.validate()
    r, t = motion
    assert torch.allclose(moved.positions, scene.positions @ r.T + t, atol=1e-12)
    assert torch.allclose(moved.goals, scene.goals @ r.T + t, atol=1e-12)
    assert torch.allclose(moved.velocities, scene.velocities @ r.T, atol=1e-12)
    big = torch.block_diag(r, r)
    assert torch.allclose(moved.covariances, big @ scene.covariances @ big.T, atol=1e-12)
    assert moved.ids == scene.ids and moved.time == scene.time
    assert torch.equal(moved.radii, scene.radii)
    # Invariants: distances between agents and from agents to obstacle surfaces.
    assert torch.allclose(torch.cdist(moved.positions, moved.positions),
                          torch.cdist(scene.positions, scene.positions), atol=1e-10)
    assert torch.allclose(moved.obstacles.clearance(moved.positions),
                          scene.obstacles.clearance(scene.positions), atol=1e-10)


def test_transformed_round_trip_and_composition(generator):
    scene = _random_scene(generator)
    scene = _replace(scene, obstacles=Obstacles(scene.obstacles.spheres,
                                                torch.zeros(0, 3, dtype=torch.float64)))
    g = random_rigid_motion(generator=generator, dtype=torch.float64, translation_scale=5.0)
    h = random_rigid_motion(generator=generator, dtype=torch.float64, translation_scale=5.0)
    back = scene.transformed(g).transformed(g.inverse())
    for name in ('positions', 'velocities', 'covariances', 'goals'):
        assert torch.allclose(getattr(back, name), getattr(scene, name), atol=1e-10), name
    assert torch.allclose(back.obstacles.spheres, scene.obstacles.spheres, atol=1e-10)
    twice = scene.transformed(h).transformed(g)
    once = scene.transformed(g.compose(h))
    assert torch.allclose(twice.positions, once.positions, atol=1e-10)
    assert torch.allclose(twice.covariances, once.covariances, atol=1e-10)


def test_transformed_refuses_to_tilt_cylinders(generator):
    scene = _random_scene(generator)
    tilt = random_rigid_motion(generator=generator, dtype=torch.float64)
    with pytest.raises(ValueError, match='tilts the z axis'):
        scene.transformed(tilt)
    flip = RigidMotion(torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)),
                       torch.zeros(3, dtype=torch.float64))
    flipped = scene.transformed(flip)  # z -> -z keeps vertical cylinders vertical
    assert torch.allclose(flipped.obstacles.clearance(flipped.positions),
                          scene.obstacles.clearance(scene.positions), atol=1e-10)


def test_transformed_float32_scene(generator):
    scene = _random_scene(generator)
    scene32 = Scene(scene.ids, *(t.float() for t in (
        scene.positions, scene.velocities, scene.covariances, scene.goals, scene.radii,
        scene.max_speeds)), obstacles=Obstacles(scene.obstacles.spheres.float(),
                                                scene.obstacles.cylinders.float()))
    moved = scene32.transformed(_z_rotation(-1.2, [0.5, 0.5, 0.5]))
    assert moved.positions.dtype == torch.float32
    moved.validate()


def test_baselines_satisfy_the_planner_protocol():
    for planner in (OrcaPlanner(), StraightPlanner()):
        assert isinstance(planner, Planner)
        assert isinstance(planner.name, str)
    assert Plan(torch.zeros(2, 3)).stats == {}
