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
A headless multi-agent simulator: holonomic agents in 3-D, closed loop.

The true state of agent ``i`` is its position ``p_i`` and velocity ``v_i``.
Time advances in fixed steps of ``dt``; every ``control_period`` steps the
simulator builds a :class:`~enbp_core.scene.Scene` from the true states plus
optional Gaussian measurement noise and calls ``planner.plan`` (timed with
``time.perf_counter``). Between calls the last command holds. Each step

1. takes the command ``u_i`` (its z component zeroed in planar worlds),
2. limits the change of velocity, ``|v_new - v_i| <= a_max,i dt``,
3. limits the speed, ``|v_new| <= v_max,i`` (a radial projection onto the
   speed ball, which keeps the acceleration bound: see :func:`limit_velocity`),
4. moves ``p_i += v_new dt`` (the velocity is constant over the step).

The limits hold for every planner alike. The episode ends when every agent is
within ``goal_tolerance`` of its goal at the same time (``'goals'``), at
``time_limit`` (``'time_limit'``), or, if ``stop_on_deadlock``, when the
deadlock criterion of :func:`deadlocked` holds (``'deadlock'``). Agents that
reached their goal stay in the simulation under the planner's control.

The per-step path is vectorised over agents (torch, float64, CPU); the loop
runs over time steps only.
"""

from dataclasses import dataclass, field
import math
import time
from typing import Callable, Dict, List, Optional, Tuple

from enbp_core.scene import Obstacles, Plan, Planner, Scene
import torch

__all__ = [
    'Episode',
    'EpisodeRecorder',
    'SimConfig',
    'Simulator',
    'deadlocked',
    'limit_velocity',
]


def limit_velocity(velocity: torch.Tensor, command: torch.Tensor, max_speed: torch.Tensor,
                   max_acceleration: torch.Tensor, dt: float) -> torch.Tensor:
    """
    Return the velocity an agent reaches in one step when commanded ``command``.

    The change is clipped to ``|dv| <= max_acceleration * dt`` (keeping its
    direction), then the result is scaled radially into ``|v| <= max_speed``.
    The radial scaling is the projection onto a convex ball that contains the
    current velocity (when ``|velocity| <= max_speed``), and projections onto
    convex sets do not increase distances, so both bounds hold afterwards.

    Parameters
    ----------
    velocity : torch.Tensor
        Current velocities, shape ``(N, 3)``, m/s.
    command : torch.Tensor
        Commanded velocities, shape ``(N, 3)``, m/s; finite.
    max_speed, max_acceleration : torch.Tensor
        Shape ``(N,)``, m/s and m/s².
    dt : float
        Step, s.

    Returns
    -------
    torch.Tensor
        Shape ``(N, 3)``, m/s.

    """
    change = command - velocity
    max_change = (max_acceleration * dt)[:, None]
    norm = change.norm(dim=-1, keepdim=True)
    change = change * torch.clamp(max_change / norm.clamp_min(1e-300), max=1.0)
    new = velocity + change
    speed = new.norm(dim=-1, keepdim=True)
    return new * torch.clamp(max_speed[:, None] / speed.clamp_min(1e-300), max=1.0)


def deadlocked(window: torch.Tensor, at_goal: torch.Tensor, distance: float) -> bool:
    """
    Whether the agents not at their goals are stuck.

    Parameters
    ----------
    window : torch.Tensor
        Positions over the deadlock window, shape ``(W, N, 3)``, m.
    at_goal : torch.Tensor
        Shape ``(N,)`` bool: which agents are at their goal at the window's end.
    distance : float
        m. An agent is stuck if it stayed within ``distance`` of where it was
        at the start of the window throughout the window.

    Returns
    -------
    bool
        True when some agent is not at its goal and every such agent is stuck.
        Agents at their goal are ignored (planners may make them jitter).

    """
    waiting = ~at_goal
    if not bool(waiting.any()) or window.shape[0] < 2:
        return False
    offset = window - window[0]
    moved = (offset * offset).sum(dim=-1).amax(dim=0)
    return bool((moved[waiting] <= distance * distance).all())


def _numeric_stats(stats) -> Dict[str, float]:
    """Keep the entries of ``Plan.stats`` that convert to float (others are ignored)."""
    kept = {}
    for key, value in dict(stats or {}).items():
        try:
            kept[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return kept


@dataclass(frozen=True)
class SimConfig:
    """
    Settings of a simulation run.

    Attributes
    ----------
    dt : float
        Integration step, s.
    control_period : int
        Steps per planning cycle (the planner runs every ``control_period * dt`` s).
    time_limit : float
        Episode length limit, s.
    goal_tolerance : float
        An agent is at its goal when its centre is within this distance, m.
        0.5 m (half the default agent radius) by default: tight enough that
        makespans mean arrival, loose enough for planners that settle slowly.
    position_noise, velocity_noise : float
        Standard deviation of the Gaussian measurement noise per axis, m and
        m/s. Zero means exact measurements.
    covariance_floor : float
        Smallest variance per axis put into the scene's covariances (m², and
        m²/s² for velocities), so that exact measurements still give a proper
        Gaussian: ``max(noise², floor)``.
    planar : bool
        Planar world: agents live on z = 0, commands' z is zeroed and no
        noise is added in z.
    record_paths_every : int
        Keep the planned paths of every this many planning cycles ...
    max_recorded_paths : int
        ... and at most this many snapshots (memory bound).
    stop_on_deadlock : bool
        End the episode when :func:`deadlocked` holds.
    deadlock_window, deadlock_distance : float
        The deadlock criterion: no agent that is not at its goal moved more
        than ``deadlock_distance`` m during the last ``deadlock_window`` s.

    """

    dt: float = 0.1
    control_period: int = 1
    time_limit: float = 120.0
    goal_tolerance: float = 0.5
    position_noise: float = 0.0
    velocity_noise: float = 0.0
    covariance_floor: float = 1e-4
    planar: bool = False
    record_paths_every: int = 10
    max_recorded_paths: int = 200
    stop_on_deadlock: bool = True
    deadlock_window: float = 10.0
    deadlock_distance: float = 0.01

    def validate(self) -> None:
        """Raise :class:`ValueError` for out-of-range settings."""
        positive = ('dt', 'time_limit', 'goal_tolerance', 'covariance_floor',
                    'deadlock_window', 'deadlock_distance')
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f'SimConfig.{name} must be a finite number > 0, got {value!r}')
        for name in ('position_noise', 'velocity_noise'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f'SimConfig.{name} must be a finite number >= 0, got {value!r}')
        for name in ('control_period', 'record_paths_every'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'SimConfig.{name} must be an integer >= 1, got {value!r}')
        if not isinstance(self.max_recorded_paths, int) or self.max_recorded_paths < 0:
            raise ValueError('SimConfig.max_recorded_paths must be an integer >= 0, '
                             f'got {self.max_recorded_paths!r}')

    @property
    def max_steps(self) -> int:
        """Return the number of steps that fit in ``time_limit``."""
        return int(math.ceil(self.time_limit / self.dt - 1e-9))


@dataclass
class Episode:
    """
    The record of one closed-loop run (CPU, float64).

    Attributes
    ----------
    ids : tuple of str
        Agent ids, ``N``.
    config : SimConfig
        The settings of the run.
    positions, velocities : torch.Tensor
        True states at times ``k dt``, ``k = 0..T``: shape ``(T + 1, N, 3)``.
        ``velocities[k + 1]`` is the velocity held during step ``k``.
    commands : torch.Tensor
        Command in force during each step, shape ``(T, N, 3)`` (after zeroing
        z in planar worlds and replacing non-finite rows by zero).
    goals : torch.Tensor
        Shape ``(N, 3)``.
    radii, max_speeds, max_accelerations : torch.Tensor
        Shape ``(N,)``.
    obstacles : Obstacles
        Static obstacles.
    planning_times : torch.Tensor
        Wall-clock seconds of each ``planner.plan`` call, shape ``(C,)``.
    cycle_steps : torch.Tensor
        Step index at which each planning cycle ran, shape ``(C,)``.
    stats : list of dict
        ``Plan.stats`` of each cycle.
    path_steps : list of int
        Step index of each recorded planned-path snapshot.
    paths : list of torch.Tensor
        The snapshots, each ``(N, H, 3)`` float32.
    end_reason : str
        ``'goals'``, ``'time_limit'``, ``'deadlock'``, or ``'interrupted'`` (a ROS
        simulation node stopped mid-episode).
    nonfinite_commands : int
        Number of (cycle, agent) commands that were NaN or inf; such an agent
        was commanded to stop instead.
    planner : str
        The planner's name.

    """

    ids: Tuple[str, ...]
    config: SimConfig
    positions: torch.Tensor
    velocities: torch.Tensor
    commands: torch.Tensor
    goals: torch.Tensor
    radii: torch.Tensor
    max_speeds: torch.Tensor
    max_accelerations: torch.Tensor
    obstacles: Obstacles
    planning_times: torch.Tensor
    cycle_steps: torch.Tensor
    stats: List[Dict[str, float]] = field(default_factory=list)
    path_steps: List[int] = field(default_factory=list)
    paths: List[torch.Tensor] = field(default_factory=list)
    end_reason: str = 'time_limit'
    nonfinite_commands: int = 0
    planner: str = ''

    @property
    def dt(self) -> float:
        """Return the step, s."""
        return self.config.dt

    @property
    def steps(self) -> int:
        """Return the number of steps simulated, ``T``."""
        return int(self.commands.shape[0])

    @property
    def duration(self) -> float:
        """Return the simulated time, s."""
        return self.steps * self.config.dt

    @property
    def times(self) -> torch.Tensor:
        """Return the times of the recorded states, shape ``(T + 1,)``, s."""
        return torch.arange(self.steps + 1, dtype=torch.float64) * self.config.dt

    def at_goal(self) -> torch.Tensor:
        """Return which agent is within tolerance of its goal at each time, ``(T + 1, N)``."""
        distance = (self.positions - self.goals).norm(dim=-1)
        return distance <= self.config.goal_tolerance


class Simulator:
    """
    Closed-loop simulation of holonomic agents under a :class:`~enbp_core.scene.Planner`.

    Parameters
    ----------
    scene : Scene
        The initial scene: true starting positions and velocities, goals,
        radii, maximum speeds and obstacles (its covariances are ignored:
        measured scenes get theirs from the noise settings). Validated here.
    max_accelerations : torch.Tensor or float
        Per-agent acceleration limit, ``(N,)`` or one value, m/s².
    config : SimConfig
        Step, control period, limits, noise, recording.
    seed : int
        Seed of the measurement-noise generator.

    """

    def __init__(self, scene: Scene, max_accelerations, config: Optional[SimConfig] = None,
                 seed: int = 0):
        config = SimConfig() if config is None else config
        config.validate()
        scene.validate()
        n = scene.num_agents
        dtype = torch.float64
        accelerations = torch.as_tensor(max_accelerations, dtype=dtype).reshape(-1)
        if accelerations.numel() == 1:
            accelerations = accelerations.expand(n).clone()
        if accelerations.shape != (n,) or not bool(torch.isfinite(accelerations).all()) \
                or float(accelerations.min()) <= 0:
            raise ValueError(f'max_accelerations must be {n} finite values > 0 (m/s^2), '
                             f'got {accelerations.tolist()}')
        self.config = config
        self.seed = int(seed)
        self.ids = scene.ids
        self.goals = scene.goals.detach().to('cpu', dtype)
        self.radii = scene.radii.detach().to('cpu', dtype)
        self.max_speeds = scene.max_speeds.detach().to('cpu', dtype)
        self.max_accelerations = accelerations
        self.obstacles = Obstacles(scene.obstacles.spheres.detach().to('cpu', dtype),
                                   scene.obstacles.cylinders.detach().to('cpu', dtype))
        self._start_positions = scene.positions.detach().to('cpu', dtype).clone()
        self._start_velocities = scene.velocities.detach().to('cpu', dtype).clone()
        if config.planar:
            off_plane = max(float(self._start_positions[:, 2].abs().max()),
                            float(self.goals[:, 2].abs().max()),
                            float(self._start_velocities[:, 2].abs().max()))
            if off_plane > 1e-9:
                raise ValueError('planar simulation needs starts, goals and velocities with '
                                 f'z = 0; found |z| up to {off_plane:g}')
        variances = torch.tensor(
            [max(config.position_noise ** 2, config.covariance_floor)] * 3
            + [max(config.velocity_noise ** 2, config.covariance_floor)] * 3, dtype=dtype)
        self._covariance = torch.diag(variances).expand(n, 6, 6)
        # Axes an agent can move and be mis-measured along: z is locked in planar worlds.
        self._axes = torch.tensor([1.0, 1.0, 0.0 if config.planar else 1.0], dtype=dtype)
        self.reset()

    @property
    def num_agents(self) -> int:
        """Return ``N``."""
        return len(self.ids)

    def reset(self) -> None:
        """Put the agents back at their starts, time 0, and reseed the noise."""
        self.positions = self._start_positions.clone()
        self.velocities = self._start_velocities.clone()
        self.step_count = 0
        self.generator = torch.Generator().manual_seed(self.seed)

    @property
    def time(self) -> float:
        """Return the simulated time, s."""
        return self.step_count * self.config.dt

    def at_goal(self) -> torch.Tensor:
        """Return which agents are within ``goal_tolerance`` of their goals, ``(N,)`` bool."""
        distance = (self.positions - self.goals).norm(dim=-1)
        return distance <= self.config.goal_tolerance

    def measure(self) -> Scene:
        """Return the scene a planner sees now: true states plus measurement noise."""
        n = self.num_agents
        positions, velocities = self.positions, self.velocities
        if self.config.position_noise > 0:
            positions = positions + self.config.position_noise * self._axes * torch.randn(
                n, 3, generator=self.generator, dtype=torch.float64)
        if self.config.velocity_noise > 0:
            velocities = velocities + self.config.velocity_noise * self._axes * torch.randn(
                n, 3, generator=self.generator, dtype=torch.float64)
        return Scene(ids=self.ids, positions=positions.clone(), velocities=velocities.clone(),
                     covariances=self._covariance.clone(), goals=self.goals.clone(),
                     radii=self.radii.clone(), max_speeds=self.max_speeds.clone(),
                     obstacles=self.obstacles, time=self.time)

    def apply(self, command: torch.Tensor) -> torch.Tensor:
        """
        Advance one step ``dt`` under ``command``; return the velocity held.

        Parameters
        ----------
        command : torch.Tensor
            Shape ``(N, 3)``, m/s, finite.

        """
        command = command.to(torch.float64) * self._axes
        self.velocities = limit_velocity(self.velocities, command, self.max_speeds,
                                         self.max_accelerations, self.config.dt)
        self.positions = self.positions + self.velocities * self.config.dt
        self.step_count += 1
        return self.velocities

    def _command_from(self, plan: Plan) -> Tuple[torch.Tensor, int]:
        """Check a plan's velocities; replace non-finite rows by zero (stop)."""
        if not isinstance(plan, Plan):
            raise TypeError(f'planner.plan must return a Plan, got {type(plan).__name__}')
        command = torch.as_tensor(plan.velocities).detach().to('cpu', torch.float64)
        if command.shape != (self.num_agents, 3):
            raise ValueError(f'Plan.velocities must have shape ({self.num_agents}, 3), '
                             f'got {tuple(command.shape)}')
        bad = ~torch.isfinite(command).all(dim=-1)
        count = int(bad.sum())
        if count:
            command = torch.where(bad[:, None], torch.zeros_like(command), command)
        return command, count

    def run(self, planner: Planner,
            on_cycle: Optional[Callable[['Simulator'], None]] = None) -> Episode:
        """
        Reset, then run one closed-loop episode with ``planner``.

        Parameters
        ----------
        planner : Planner
            Reset before the first cycle.
        on_cycle : callable, optional
            Called with the simulator after each planning cycle (progress display).

        Returns
        -------
        Episode
            The record of the run.

        """
        self.reset()
        planner.reset()
        recorder = EpisodeRecorder(self)
        command = torch.zeros(self.num_agents, 3, dtype=torch.float64)
        while not recorder.finished:
            if self.step_count % self.config.control_period == 0:
                scene = self.measure()
                start = time.perf_counter()
                plan = planner.plan(scene)
                elapsed = time.perf_counter() - start
                command, bad = self._command_from(plan)
                recorder.record_cycle(plan.stats, elapsed, plan.paths, bad)
                if on_cycle is not None:
                    on_cycle(self)
            self.apply(command)
            recorder.record_step(command)
        return recorder.episode(str(getattr(planner, 'name', '')))


class EpisodeRecorder:
    """
    Record an episode step by step, and decide when it ends.

    :meth:`Simulator.run` and the ROS simulation node (which gets its plans over
    DDS) share it, so both report the same metrics by the same rules.

    Parameters
    ----------
    simulator : Simulator
        The simulator to record, at the start of the episode.

    """

    def __init__(self, simulator: Simulator):
        self.simulator = simulator
        self.positions: List[torch.Tensor] = [simulator.positions.clone()]
        self.velocities: List[torch.Tensor] = [simulator.velocities.clone()]
        self.commands: List[torch.Tensor] = []
        self.planning_times: List[float] = []
        self.cycle_steps: List[int] = []
        self.stats: List[Dict[str, float]] = []
        self.path_steps: List[int] = []
        self.paths: List[torch.Tensor] = []
        self.nonfinite = 0
        self.end_reason = 'goals' if bool(simulator.at_goal().all()) else 'time_limit'

    @property
    def steps(self) -> int:
        """Return the number of steps recorded."""
        return len(self.commands)

    @property
    def finished(self) -> bool:
        """Whether the episode has ended (goals, deadlock or time limit)."""
        return (self.end_reason != 'time_limit'
                or self.steps >= self.simulator.config.max_steps)

    def record_cycle(self, stats, planning_time: float, paths=None, nonfinite: int = 0) -> None:
        """Record a planning cycle run at the current step (paths ``(N, H, 3)`` optional)."""
        cfg = self.simulator.config
        self.planning_times.append(float(planning_time))
        self.cycle_steps.append(self.steps)
        self.stats.append(_numeric_stats(stats))
        self.nonfinite += int(nonfinite)
        cycle = len(self.cycle_steps) - 1
        if (paths is not None and cycle % cfg.record_paths_every == 0
                and len(self.paths) < cfg.max_recorded_paths):
            self.path_steps.append(self.steps)
            self.paths.append(torch.as_tensor(paths).detach().to('cpu', torch.float32))

    def record_step(self, command: torch.Tensor) -> None:
        """Record the step the simulator just applied under ``command``; update the end."""
        sim, cfg = self.simulator, self.simulator.config
        self.commands.append(command.to(torch.float64) * sim._axes)
        self.positions.append(sim.positions.clone())
        self.velocities.append(sim.velocities.clone())
        step = self.steps
        window = max(1, int(round(cfg.deadlock_window / cfg.dt)))
        check_every = max(1, int(round(1.0 / cfg.dt)))
        at_goal = sim.at_goal()
        if bool(at_goal.all()):
            self.end_reason = 'goals'
        elif (cfg.stop_on_deadlock and step >= window and step % check_every == 0
              and deadlocked(torch.stack(self.positions[-window - 1:]), at_goal,
                             cfg.deadlock_distance)):
            self.end_reason = 'deadlock'

    def episode(self, planner: str = '') -> Episode:
        """Return the :class:`Episode` recorded so far."""
        sim = self.simulator
        n = sim.num_agents
        commands = (torch.stack(self.commands) if self.commands
                    else torch.zeros(0, n, 3, dtype=torch.float64))
        return Episode(
            ids=sim.ids, config=sim.config, positions=torch.stack(self.positions),
            velocities=torch.stack(self.velocities), commands=commands, goals=sim.goals,
            radii=sim.radii, max_speeds=sim.max_speeds,
            max_accelerations=sim.max_accelerations, obstacles=sim.obstacles,
            planning_times=torch.tensor(self.planning_times, dtype=torch.float64),
            cycle_steps=torch.tensor(self.cycle_steps, dtype=torch.long),
            stats=list(self.stats), path_steps=list(self.path_steps), paths=list(self.paths),
            end_reason=self.end_reason, nonfinite_commands=self.nonfinite, planner=planner)
