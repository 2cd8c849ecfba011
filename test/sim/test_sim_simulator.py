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

"""The simulator: limits for any command, integration, noise, termination, recording."""

import math

from enbp_core.scene import Plan
from enbp_core.sim.simulator import deadlocked, limit_velocity, SimConfig, Simulator
import pytest
import torch


class RandomCommands:
    """A planner that commands random velocities of any size, seeded."""

    name = 'random'

    def __init__(self, generator, scale, horizon=0):
        self.generator, self.scale, self.horizon = generator, scale, horizon
        self.calls = 0

    def reset(self):
        self.calls = 0

    def plan(self, scene):
        self.calls += 1
        n = scene.num_agents
        magnitude = self.scale * torch.rand(n, 1, generator=self.generator,
                                            dtype=torch.float64) ** 3
        direction = torch.randn(n, 3, generator=self.generator, dtype=torch.float64)
        paths = None
        if self.horizon:
            paths = scene.positions[:, None] + torch.zeros(n, self.horizon, 3,
                                                           dtype=torch.float64)
        return Plan(velocities=magnitude * direction, paths=paths,
                    stats={'iterations': 3.0, 'residual': 0.5})


class Constant:
    """A planner that always commands the same velocities."""

    name = 'constant'

    def __init__(self, velocities):
        self.velocities = torch.as_tensor(velocities, dtype=torch.float64)

    def reset(self):
        pass

    def plan(self, scene):
        return Plan(velocities=self.velocities.clone())


def test_limit_velocity_bounds_speed_and_acceleration_for_any_command(generator):
    n = 20000
    speed = 0.1 + 5 * torch.rand(n, generator=generator, dtype=torch.float64)
    accel = 0.05 + 10 * torch.rand(n, generator=generator, dtype=torch.float64)
    dt = 0.1
    current = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    current = current / current.norm(dim=-1, keepdim=True) * speed[:, None] * torch.rand(
        n, 1, generator=generator, dtype=torch.float64)
    scale = 10.0 ** (6 * torch.rand(n, 1, generator=generator, dtype=torch.float64) - 3)
    command = scale * torch.randn(n, 3, generator=generator, dtype=torch.float64)
    command[:100] = current[:100]  # exact hold
    new = limit_velocity(current, command, speed, accel, dt)
    assert bool(torch.isfinite(new).all())
    assert bool((new.norm(dim=-1) <= speed * (1 + 1e-12)).all())
    assert bool(((new - current).norm(dim=-1) <= accel * dt * (1 + 1e-12) + 1e-15).all())
    assert torch.allclose(new[:100], current[:100])
    # A command that is reachable within both limits is met exactly.
    small = current + 0.5 * accel[:, None] * dt * torch.nn.functional.normalize(
        torch.randn(n, 3, generator=generator, dtype=torch.float64), dim=-1)
    inside = small.norm(dim=-1) <= speed
    reached = limit_velocity(current, small, speed, accel, dt)
    assert torch.allclose(reached[inside], small[inside], atol=1e-12)


def test_limit_velocity_keeps_direction_of_a_far_command():
    current = torch.zeros(1, 3, dtype=torch.float64)
    command = torch.tensor([[100.0, 0.0, 0.0]], dtype=torch.float64)
    new = limit_velocity(current, command, torch.tensor([2.0]), torch.tensor([3.0]), 0.1)
    assert torch.allclose(new, torch.tensor([[0.3, 0.0, 0.0]], dtype=torch.float64))


@pytest.mark.parametrize('planar', [False, True])
def test_episode_respects_limits_under_random_commands(scene_factory, generator, planar):
    scene = scene_factory([[0, 0, 0], [10, 0, 0], [0, 10, 0], [10, 10, 0]],
                          goals=[[100, 0, 0]] * 4, max_speed=1.5)
    accelerations = torch.tensor([0.5, 1.0, 2.0, 8.0], dtype=torch.float64)
    config = SimConfig(dt=0.1, time_limit=8.0, planar=planar, control_period=3,
                       stop_on_deadlock=False)
    episode = Simulator(scene, accelerations, config).run(RandomCommands(generator, 50.0))
    v, p, dt = episode.velocities, episode.positions, config.dt
    assert episode.steps == 80 and episode.end_reason == 'time_limit'
    assert bool((v.norm(dim=-1) <= 1.5 * (1 + 1e-12)).all())
    dv = (v[1:] - v[:-1]).norm(dim=-1)
    assert bool((dv <= accelerations * dt * (1 + 1e-12)).all())
    assert torch.allclose(p[1:], p[:-1] + v[1:] * dt, atol=1e-12)
    assert episode.planning_times.numel() == math.ceil(80 / 3)
    assert episode.cycle_steps.tolist() == list(range(0, 80, 3))
    # Commands hold between cycles.
    assert torch.equal(episode.commands[0], episode.commands[2])
    if planar:
        assert float(p[..., 2].abs().max()) == 0.0
        assert float(episode.commands[..., 2].abs().max()) == 0.0
    else:
        assert float(p[..., 2].abs().max()) > 0.0


def test_measurement_noise_is_seeded_and_reflected_in_covariances(scene_factory):
    scene = scene_factory([[0, 0, 0], [10, 0, 0]], goals=[[20, 0, 0], [30, 0, 0]])
    config = SimConfig(position_noise=0.3, velocity_noise=0.05, planar=True)
    first = Simulator(scene, 2.0, config, seed=4).measure()
    again = Simulator(scene, 2.0, config, seed=4).measure()
    other = Simulator(scene, 2.0, config, seed=5).measure()
    assert torch.equal(first.positions, again.positions)
    assert not torch.equal(first.positions, other.positions)
    assert float(first.positions[:, 2].abs().max()) == 0.0  # no noise off the plane
    expected = torch.diag(torch.tensor([0.09] * 3 + [0.0025] * 3, dtype=torch.float64))
    assert torch.allclose(first.covariances, expected.expand(2, 6, 6))
    first.validate()
    exact = Simulator(scene, 2.0, SimConfig(), seed=4).measure()
    assert torch.equal(exact.positions, scene.positions)
    assert torch.allclose(exact.covariances, 1e-4 * torch.eye(6, dtype=torch.float64))


def test_noise_statistics_match_sigma(scene_factory):
    n = 400
    positions = torch.zeros(n, 3, dtype=torch.float64)
    positions[:, 0] = 3 * torch.arange(n, dtype=torch.float64)
    scene = scene_factory(positions)
    sim = Simulator(scene, 2.0, SimConfig(position_noise=0.2), seed=1)
    errors = torch.stack([sim.measure().positions - positions for _ in range(10)])
    assert abs(float(errors.std()) - 0.2) < 0.01


def test_episode_ends_when_all_agents_are_at_their_goals(scene_factory):
    scene = scene_factory([[0, 0, 0], [0, 5, 0]], goals=[[3, 0, 0], [0, 5, 0.2]])
    velocities = [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    config = SimConfig(dt=0.1, goal_tolerance=0.5, time_limit=30.0)
    episode = Simulator(scene, 100.0, config).run(Constant(velocities))
    assert episode.end_reason == 'goals'
    assert episode.steps == 25  # 2.5 m at 1 m/s reaches the 0.5 m tolerance
    assert bool(episode.at_goal()[-1].all())


def test_time_limit_and_deadlock_end_episodes(scene_factory):
    scene = scene_factory([[0, 0, 0]], goals=[[10, 0, 0]])
    stopped = Simulator(scene, 2.0, SimConfig(time_limit=15.0)).run(Constant([[0, 0, 0]]))
    assert stopped.end_reason == 'deadlock' and stopped.duration == pytest.approx(10.0)
    no_stop = Simulator(scene, 2.0, SimConfig(time_limit=15.0, stop_on_deadlock=False))
    assert no_stop.run(Constant([[0, 0, 0]])).end_reason == 'time_limit'
    slow = Simulator(scene, 2.0, SimConfig(time_limit=5.0)).run(Constant([[0.1, 0, 0]]))
    assert slow.end_reason == 'time_limit' and slow.steps == 50


def test_deadlock_ignores_agents_at_their_goals():
    window = torch.zeros(11, 2, 3, dtype=torch.float64)
    window[:, 1, 0] = torch.linspace(0, 1, 11)  # agent 1 jitters around its goal
    assert deadlocked(window, torch.tensor([False, True]), 0.01)
    assert not deadlocked(window, torch.tensor([True, False]), 0.01)
    assert not deadlocked(window, torch.tensor([True, True]), 0.01)


def test_non_finite_commands_stop_the_agent_and_are_counted(scene_factory):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]], goals=[[50, 0, 0], [55, 0, 0]])
    velocities = [[math.nan, 0.0, 0.0], [1.0, 0.0, 0.0]]
    episode = Simulator(scene, 2.0, SimConfig(time_limit=2.0)).run(Constant(velocities))
    assert episode.nonfinite_commands == 20
    assert float(episode.positions[:, 0].abs().max()) == 0.0
    assert float(episode.positions[-1, 1, 0]) > 5.0


def test_wrong_command_shape_raises(scene_factory):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]], goals=[[50, 0, 0], [55, 0, 0]])
    with pytest.raises(ValueError, match=r'Plan.velocities must have shape \(2, 3\)'):
        Simulator(scene, 2.0).run(Constant([[1.0, 0.0, 0.0]]))


def test_planned_paths_recording_is_bounded(scene_factory, generator):
    scene = scene_factory([[0, 0, 0], [5, 0, 0]], goals=[[500, 0, 0], [505, 0, 0]])
    config = SimConfig(time_limit=10.0, record_paths_every=7, max_recorded_paths=5,
                       stop_on_deadlock=False)
    episode = Simulator(scene, 2.0, config).run(RandomCommands(generator, 1.0, horizon=4))
    assert episode.path_steps == [0, 7, 14, 21, 28]
    assert all(p.shape == (2, 4, 3) and p.dtype == torch.float32 for p in episode.paths)
    assert episode.stats[0] == {'iterations': 3.0, 'residual': 0.5}


def test_bad_settings_are_rejected(scene_factory):
    scene = scene_factory([[0, 0, 0]], goals=[[10, 0, 0]])
    with pytest.raises(ValueError, match='SimConfig.dt'):
        Simulator(scene, 2.0, SimConfig(dt=0.0))
    with pytest.raises(ValueError, match='SimConfig.control_period'):
        Simulator(scene, 2.0, SimConfig(control_period=0))
    with pytest.raises(ValueError, match='SimConfig.position_noise'):
        Simulator(scene, 2.0, SimConfig(position_noise=-1.0))
    with pytest.raises(ValueError, match='max_accelerations'):
        Simulator(scene, [1.0, 2.0])
    with pytest.raises(ValueError, match='max_accelerations'):
        Simulator(scene, 0.0)
    off_plane = scene_factory([[0, 0, 1.0]], goals=[[10, 0, 0]])
    with pytest.raises(ValueError, match='planar simulation'):
        Simulator(off_plane, 2.0, SimConfig(planar=True))
