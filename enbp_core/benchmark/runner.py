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
Run benchmark cases: one (scenario, N, method, seed) closed-loop episode each.

Every case lays out its scenario with :func:`~enbp_core.sim.scenarios.load_scenario`,
builds a fresh planner with :func:`~enbp_core.benchmark.methods.make_method`,
runs the simulator and computes :func:`~enbp_core.sim.metrics.compute_metrics`.
All methods meet the same scenes, limits and seeds. A planner that raises
is recorded as an ``'error'`` run and the benchmark goes on; a planar-only
method on a 3-D scenario is recorded as ``'skipped'``.
"""

from dataclasses import dataclass
import time
import traceback
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from enbp_core.benchmark.methods import make_method, PLANAR_ONLY, scenario_config
from enbp_core.sim.metrics import compute_metrics
from enbp_core.sim.scenarios import load_scenario
from enbp_core.sim.simulator import Episode
import torch

__all__ = ['Case', 'TrajectorySample', 'make_cases', 'run_case']


@dataclass(frozen=True)
class Case:
    """One benchmark run."""

    scenario: str
    num_agents: int
    method: str
    seed: int

    @property
    def label(self) -> str:
        """Return a short description for progress lines."""
        return f'{self.scenario} N={self.num_agents} {self.method} seed={self.seed}'


@dataclass
class TrajectorySample:
    """
    What the trajectory plots need of an episode (subsampled, float32).

    Attributes
    ----------
    case : Case
        The run.
    positions : torch.Tensor
        Shape ``(S, N, 3)``, m.
    goals : torch.Tensor
        Shape ``(N, 3)``.
    radii : torch.Tensor
        Shape ``(N,)``.
    obstacles : tuple of torch.Tensor
        Spheres ``(M, 4)`` and cylinders ``(C, 3)``.
    contacts : torch.Tensor
        Positions of agents at samples where they touched another agent,
        shape ``(K, 3)``.
    planar : bool
        Whether the scenario is planar.

    """

    case: Case
    positions: torch.Tensor
    goals: torch.Tensor
    radii: torch.Tensor
    obstacles: Tuple[torch.Tensor, torch.Tensor]
    contacts: torch.Tensor
    planar: bool


def make_cases(scenarios: Sequence[str], agents: Sequence[int], methods: Sequence[str],
               seeds: Sequence[int]) -> List[Case]:
    """All combinations, scenario-major, then N, seed and method (methods side by side)."""
    return [Case(s, n, m, k) for s in scenarios for n in agents for k in seeds for m in methods]


def _sample(case: Case, episode: Episode, planar: bool, frames: int = 400) -> TrajectorySample:
    """Subsample an episode for plotting; mark agents in contact."""
    positions = episode.positions
    stride = max(1, (positions.shape[0] - 1) // frames + 1)
    kept = positions[::stride]
    if kept.shape[0] == 0 or not torch.equal(kept[-1], positions[-1]):
        kept = torch.cat([kept, positions[-1:]])
    reach = episode.radii[:, None] + episode.radii[None, :]
    others = ~torch.eye(reach.shape[0], dtype=torch.bool)
    contacts = []
    for chunk in kept.split(32):
        touching = ((torch.cdist(chunk, chunk) < reach) & others).any(dim=-1)
        contacts.append(chunk[touching])
    contacts = torch.cat(contacts) if contacts else torch.zeros(0, 3, dtype=kept.dtype)
    return TrajectorySample(case=case, positions=kept.to(torch.float32),
                            goals=episode.goals.to(torch.float32),
                            radii=episode.radii.to(torch.float32),
                            obstacles=(episode.obstacles.spheres.to(torch.float32),
                                       episode.obstacles.cylinders.to(torch.float32)),
                            contacts=contacts.to(torch.float32)[:5000], planar=planar)


def _cycle_callback(on_cycle: Optional[Callable[[float, float], None]]):
    """Adapt ``on_cycle(time, limit)`` to the simulator's ``on_cycle(simulator)``."""
    if on_cycle is None:
        return None

    def callback(simulator):
        on_cycle(simulator.time, simulator.config.time_limit)
    return callback


def run_case(case: Case, time_limit: Optional[float] = None,
             method_configs: Optional[Mapping[str, Mapping[str, Any]]] = None,
             keep_trajectory: bool = False,
             on_cycle: Optional[Callable[[float, float], None]] = None
             ) -> Tuple[Dict[str, Any], Optional[TrajectorySample]]:
    """
    Run one case.

    Parameters
    ----------
    case : Case
        Scenario name or YAML path, N, method, seed.
    time_limit : float, optional
        Overrides the scenario's time limit, s.
    method_configs : mapping, optional
        Per method name, the planner's options.
    keep_trajectory : bool
        Also return a :class:`TrajectorySample` for plotting.
    on_cycle : callable, optional
        Called with ``(simulated time, time limit)`` after each planning cycle.

    Returns
    -------
    (dict, TrajectorySample or None)
        The run record: ``scenario``, ``num_agents``, ``method``, ``seed``,
        ``status`` (``'ok'``, ``'skipped'`` or ``'error'``), ``note``,
        ``wall_s`` (whole run), ``scenario_info`` (layout figures and
        settings) and ``metrics`` (:func:`compute_metrics`, empty unless ok).

    Raises
    ------
    ValueError
        For a bad scenario (name, file, or too many agents for it): that is
        the caller's mistake, not the method's.

    """
    overrides = {'simulation': {'time_limit': float(time_limit)}} if time_limit else None
    instance = load_scenario(case.scenario, case.num_agents, case.seed, overrides=overrides)
    record: Dict[str, Any] = {
        'scenario': case.scenario, 'num_agents': case.num_agents, 'method': case.method,
        'seed': case.seed, 'status': 'ok', 'note': '', 'wall_s': 0.0,
        'scenario_info': {
            **instance.layout, 'planar': instance.planar, 'dt': instance.sim.dt,
            'control_period_steps': instance.sim.control_period,
            'goal_tolerance': instance.sim.goal_tolerance,
            'position_noise': instance.sim.position_noise,
            'velocity_noise': instance.sim.velocity_noise,
            'obstacles': instance.scene.obstacles.count},
        'metrics': {},
    }
    if case.method in PLANAR_ONLY and not instance.planar:
        record['status'] = 'skipped'
        record['note'] = f'{case.method} is planar; skipped on a 3-D scenario'
        return record, None
    start = time.perf_counter()
    try:
        config = scenario_config(
            case.method, instance.sim.dt * instance.sim.control_period,
            float(instance.max_accelerations.min()),
            (method_configs or {}).get(case.method))
        planner = make_method(case.method, config)
        simulator = instance.simulator()
        episode = simulator.run(planner, on_cycle=_cycle_callback(on_cycle))
        record['metrics'] = compute_metrics(episode)
    except Exception as error:  # noqa: B902 (a failing planner is a result, not a crash)
        record['status'] = 'error'
        record['note'] = f'{type(error).__name__}: {error}'
        record['traceback'] = traceback.format_exc()
        record['wall_s'] = time.perf_counter() - start
        return record, None
    record['wall_s'] = time.perf_counter() - start
    metrics = record['metrics']
    notes = []
    if case.method == 'straight' and metrics['colliding_pairs']:
        notes.append('no avoidance: collisions expected')
    if metrics['end_reason'] == 'deadlock':
        notes.append('deadlock')
    elif metrics['end_reason'] == 'time_limit':
        notes.append('time limit, stalled' if metrics['stalled'] else 'time limit')
    record['note'] = '; '.join(notes)
    sample = _sample(case, episode, instance.planar) if keep_trajectory else None
    return record, sample
