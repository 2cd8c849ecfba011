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
Properties of the planners (:mod:`enbp_core.planning`).

A whole planning cycle must commute with rigid motions of the world (plans,
commands and beliefs move, figures stay), across warm-started cycles too;
closed-loop runs must reach the goals without collision; bad scenes and
absurd parameters must be refused with a reason.
"""

import math

from enbp_core import se3
from enbp_core.planning import make_planner, METHODS, PlannerConfig, preset
from enbp_core.planning.graph import build_graph
from enbp_core.planning.planner import message_model
from enbp_core.scene import Obstacles, Scene
from enbp_core.sim.metrics import compute_metrics
from enbp_core.sim.scenarios import load_scenario
import pytest
import torch

DTYPE = torch.float64


def _crossing_scene(n=6, radius=6.0, spheres=True, seed=0):
    generator = torch.Generator().manual_seed(seed)
    angles = torch.arange(n, dtype=DTYPE) * 2 * math.pi / n
    angles = angles + 0.05 * torch.randn(n, generator=generator, dtype=DTYPE)
    ring = torch.stack([angles.cos(), angles.sin(), 0.1 * torch.randn(
        n, generator=generator, dtype=DTYPE)], -1)
    positions = radius * ring
    obstacles = Obstacles(torch.tensor([[0.5, 3.5, 0.0, 0.8]], dtype=DTYPE) if spheres else
                          torch.zeros(0, 4, dtype=DTYPE), torch.zeros(0, 3, dtype=DTYPE))
    return Scene(tuple(f'robot_{i}' for i in range(n)), positions,
                 0.3 * torch.randn(n, 3, generator=generator, dtype=DTYPE),
                 1e-3 * torch.eye(6, dtype=DTYPE).expand(n, 6, 6).clone(), -positions,
                 torch.ones(n, dtype=DTYPE), torch.full((n,), 2.0, dtype=DTYPE), obstacles)


@pytest.mark.parametrize('method', sorted(METHODS))
def test_a_planning_cycle_commutes_with_rigid_motions(method, generator, measured):
    scene = _crossing_scene()
    motion = se3.random_rigid_motion(generator=generator, dtype=DTYPE, translation_scale=30.0)
    planner, moved_planner = make_planner(method), make_planner(method)
    worst = 0.0
    for cycle in range(3):  # the later cycles are warm-started, with hysteresis
        ours = planner.solve(scene)
        moved = moved_planner.solve(scene.transformed(motion))
        worst = max(
            worst,
            float((moved.plan.paths - motion.points(ours.plan.paths)).abs().max()),
            float((moved.plan.velocities - motion.vectors(ours.plan.velocities)).abs().max()),
            float((moved.current_covariance - motion.covariances(ours.current_covariance))
                  .abs().max()) / float(ours.current_covariance.abs().max()),
            abs(moved.plan.stats['settling_m'] - ours.plan.stats['settling_m']))
        if method != 'enbp-mlp':  # its plans differ, and so may the factors they select
            assert moved.plan.stats['interagent_factors'] == ours.plan.stats[
                'interagent_factors']
        scene = _advance(scene, ours.plan.velocities)
    error = measured(f'planning cycle SE(3) equivariance, 3 cycles ({method}, float64)', worst)
    if method == 'enbp-mlp':
        # The augmented MLP is equivariant only approximately; measured, not bounded.
        assert math.isfinite(error)
        return
    # Round-off enters at cond(precision) * eps ~ 1e-8 (dynamics pin states at 1e6
    # against a weak prior of 1e-2). ENBP's hinges fade in continuously, so it stays
    # there; the baselines' hard switches (gbpplanner's) may amplify it across cycles.
    assert error < (1e-7 if method.startswith('enbp') else 1e-5)


def _advance(scene, velocities, dt=0.1):
    return Scene(scene.ids, scene.positions + dt * velocities, velocities, scene.covariances,
                 scene.goals, scene.radii, scene.max_speeds, scene.obstacles, scene.time + dt)


def test_float32_cycle_equivariance_is_measured(generator, measured):
    scene = _crossing_scene()
    motion = se3.random_rigid_motion(generator=generator, dtype=DTYPE, translation_scale=5.0)
    config = {'dtype': 'float32'}
    ours = make_planner('enbp', config).solve(scene)
    moved = make_planner('enbp', config).solve(scene.transformed(motion))
    expected = motion.points(ours.plan.paths.double())
    error = float((moved.plan.paths.double() - expected).abs().max()) / float(
        expected.abs().max())
    measured('planning cycle SE(3) equivariance, relative (enbp, float32)', error)
    # float32 cannot resolve precisions spanning 1e-2..1e6: this is why planning
    # defaults to float64. It must still run and stay finite.
    assert bool(torch.isfinite(moved.plan.paths).all()) and error < 0.5


def test_enbp_mixture_beliefs_hold_both_sides(generator):
    planner = make_planner('enbp')
    cycle = planner.solve(_crossing_scene())
    beliefs = planner.mixture_beliefs(cycle)
    n, h = cycle.states.shape[:2]
    assert beliefs.log_weights.shape == (n, h, 2)
    weights = beliefs.log_weights.exp()
    assert torch.allclose(weights.sum(-1), torch.ones(n, h, dtype=DTYPE))
    assert bool((weights[..., 1] > 1e-6).any()), 'no variable kept a second hypothesis'


@pytest.mark.parametrize('method, agents', [('gbp-margin', 6), ('enbp-analytic', 6),
                                            ('enbp', 6), ('enbp', 10)])
def test_closed_loop_circle_reaches_goals_without_collision(method, agents):
    # At N = 10 the first shipped network froze the whole team short of the centre
    # on every seed (see enbp_core.nn.data): the case that must keep passing.
    instance = load_scenario('circle', agents, seed=0)
    episode = instance.simulator().run(make_planner(method))
    metrics = compute_metrics(episode)
    assert metrics['colliding_pairs'] == 0
    assert metrics['diverged'] == 0
    assert metrics['success'] == 1


def test_warm_start_settles_better_than_a_cold_start():
    scene = _crossing_scene()
    planner = make_planner('gbp-margin')
    cold = planner.solve(scene).plan.stats['settling_m']
    warm = planner.solve(scene).plan.stats['settling_m']
    assert warm < cold


def test_bad_scenes_are_refused_with_a_reason():
    scene = _crossing_scene()
    planner = make_planner('enbp')
    nan = scene.positions.clone()
    nan[2, 1] = float('nan')
    bad_scenes = {
        'non-finite': Scene(scene.ids, nan, scene.velocities, scene.covariances, scene.goals,
                            scene.radii, scene.max_speeds, scene.obstacles),
        'duplicate': Scene(('a',) * 6, scene.positions, scene.velocities, scene.covariances,
                           scene.goals, scene.radii, scene.max_speeds, scene.obstacles),
        'inside': Scene(scene.ids, scene.positions, scene.velocities, scene.covariances,
                        scene.goals, scene.radii, scene.max_speeds, Obstacles(
                            torch.cat([scene.positions[:1], torch.ones(1, 1, dtype=DTYPE)], -1),
                            torch.zeros(0, 3, dtype=DTYPE))),
    }
    for name, bad in bad_scenes.items():
        with pytest.raises(ValueError):
            planner.solve(bad)
    # A body grazing an obstacle is a state to plan out of, not an error.
    graze = Obstacles(torch.cat([scene.positions[:1] + torch.tensor([[1.5, 0, 0]], dtype=DTYPE),
                                 torch.ones(1, 1, dtype=DTYPE)], -1),
                      torch.zeros(0, 3, dtype=DTYPE))
    grazing = Scene(scene.ids, scene.positions, scene.velocities, scene.covariances, scene.goals,
                    scene.radii, scene.max_speeds, graze)
    with pytest.raises(ValueError, match='agent radius'):
        grazing.validate()
    assert bool(torch.isfinite(planner.solve(grazing).plan.velocities).all())
    empty = torch.zeros(0, 3, dtype=DTYPE)
    with pytest.raises(ValueError):
        planner.solve(Scene((), empty, empty, torch.zeros(0, 6, 6, dtype=DTYPE), empty,
                            torch.zeros(0, dtype=DTYPE), torch.zeros(0, dtype=DTYPE),
                            Obstacles.empty()))


@pytest.mark.parametrize('field, value', [
    ('dt', 0.0), ('dt', float('nan')), ('iterations', 0), ('iterations', 2.5),
    ('damping', 1.0), ('message_model', 'magic'), ('horizon_variables', 1),
    ('max_components', 0), ('device', 'tpu'), ('lateral_floor', 2.0), ('hysteresis', -1.0)])
def test_absurd_parameters_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        PlannerConfig.from_mapping({field: value})


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match='unknown planner parameters'):
        PlannerConfig.from_mapping({'sigma_dynamic': 0.1})
    with pytest.raises(ValueError, match='unknown method'):
        preset('enbp-turbo')


def test_horizon_follows_gbpplanner_spacing():
    assert PlannerConfig().horizon_offsets() == (0, 1, 2, 3, 5, 7, 9, 12, 15, 18, 22, 26, 30,
                                                 35, 40)
    assert PlannerConfig(horizon_variables=4, lookahead_multiple=1).horizon_offsets() == (
        0, 1, 3, 6)


@pytest.mark.parametrize('clearance, weight', [(0.0, 1.0), (0.125, 0.5), (0.25, 0.0)])
def test_obstacle_factors_reach_full_strength_at_the_safety_distance(clearance, weight):
    """An obstacle cannot give way: its hinge fades in outside the safety distance."""
    config = preset('enbp', {'message_model': 'linearised'})
    radius, agent = 1.5, 1.0
    safety = radius + config.safety_factor * agent
    position = torch.tensor([[safety + clearance, 0.0, 0.0]], dtype=DTYPE)
    scene = Scene(('robot',), position, torch.zeros(1, 3, dtype=DTYPE),
                  1e-3 * torch.eye(6, dtype=DTYPE)[None], position + 50,
                  torch.ones(1, dtype=DTYPE), torch.full((1,), 2.0, dtype=DTYPE),
                  Obstacles(torch.zeros(0, 4, dtype=DTYPE),
                            torch.tensor([[0.0, 0.0, radius]], dtype=DTYPE)))
    planning = build_graph(scene, config, message_model(config),
                           reference=position[:, None].expand(1, config.horizon_variables, 3))
    group = next(g for g in planning.graph.groups if g.name == 'obstacle')
    states = torch.cat([position, torch.zeros(1, 3, dtype=DTYPE)], -1)
    potential = group.potential(states.expand(len(group), 1, 6))
    full = 1 / (config.sigma_obstacle * (safety + config.hinge_ramp)) ** 2
    expected = torch.tensor(weight * full, dtype=DTYPE)
    assert torch.allclose(potential.precision[:, 0, 0, 0], expected)
