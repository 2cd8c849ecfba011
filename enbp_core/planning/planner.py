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
The belief-propagation planner: one call per control cycle.

:class:`BeliefPlanner` builds the planning graph of the scene
(:mod:`enbp_core.planning.graph`), runs loopy BP warm-started from the
previous cycle's messages, and returns the plan: the belief means over the
horizon, the commanded velocity towards the next planned state, and the
figures of the cycle. The same class is vanilla GBP (``linearised`` message
model) and ENBP (``side`` hypotheses, mixture messages); the method presets
are in :mod:`enbp_core.planning.config`.
"""

from dataclasses import dataclass
import time
from typing import Dict, Optional, Sequence, Tuple

from enbp_core import bp, mixture
from enbp_core.factors.hypotheses import Linearised, SideHypotheses
from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
from enbp_core.planning.config import PlannerConfig
from enbp_core.planning.graph import build_graph, PlanningGraph
from enbp_core.scene import Obstacles, Plan, Scene
from enbp_core.se3 import RigidMotion
import torch

__all__ = ['BeliefPlanner', 'CycleResult', 'message_model']


@dataclass
class CycleResult:
    """
    Everything one planning cycle computed.

    Attributes
    ----------
    plan : Plan
        Commands, paths and figures.
    states : torch.Tensor
        ``(N, H, 6)`` belief means over the horizon.
    current_mean, current_covariance : torch.Tensor
        ``(N, 6)`` and ``(N, 6, 6)``: the belief of each agent's current state.
    planning : PlanningGraph
        The graph of the cycle, in the planning frame: the world frame
        translated so that ``origin`` is its origin.
    bp_result : bp.BPResult
        The raw BP outcome, in the planning frame.
    origin : torch.Tensor
        ``(3,)`` the planning frame's origin in the world frame (the agents' centroid).

    """

    plan: Plan
    states: torch.Tensor
    current_mean: torch.Tensor
    current_covariance: torch.Tensor
    planning: PlanningGraph
    bp_result: bp.BPResult
    origin: torch.Tensor


def _resolve_device(name: str) -> torch.device:
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cuda' and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but CUDA is not available")
    return torch.device(name)


class BeliefPlanner:
    """
    Plan for all agents of a scene by loopy BP over their horizons.

    Parameters
    ----------
    config : PlannerConfig
        Parameters (see :func:`enbp_core.planning.config.preset`).
    name : str
        Method name reported in tables.
    model : callable, optional
        Message model for distance factors; built from ``config.message_model``
        if omitted.

    """

    def __init__(self, config: PlannerConfig, name: str = 'enbp', model=None):
        self.config = config
        self.name = name
        self.dtype = torch.float64 if config.dtype == 'float64' else torch.float32
        self.device = _resolve_device(config.device)
        self.model = message_model(config) if model is None else model
        self.last: Optional[CycleResult] = None
        self.reset()

    def reset(self) -> None:
        """Forget the warm start and the hysteresis memory."""
        self._ids: Tuple[str, ...] = ()
        self._messages: Dict[str, Gaussian] = {}
        self._pair_keys: Optional[torch.Tensor] = None
        self._reference: Optional[torch.Tensor] = None
        self._origin: Optional[torch.Tensor] = None
        self._labels: Optional[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = None
        self.last = None

    def plan(self, scene: Scene) -> Plan:
        """Return the commands for the next control period."""
        return self.solve(scene).plan

    def solve(self, scene: Scene) -> CycleResult:
        """Run one planning cycle and return everything it computed."""
        started = time.perf_counter()
        scene.validate(contact_ok=True)
        world = _to(scene, self.dtype, self.device)
        n = world.num_agents
        # Plan in a frame centred on the agents: information vectors grow with the
        # distance to the origin (eta = Lambda mu, Lambda up to 1e6 here), and so would
        # their round-off, in a map frame with coordinates of thousands of metres.
        origin = world.positions.mean(0)
        scene = world.transformed(RigidMotion(torch.eye(3, dtype=self.dtype, device=self.device),
                                              -origin))
        warm = scene.ids == self._ids
        reference = self._reference - origin if warm else None
        planning = build_graph(scene, self.config, self.model, reference=reference,
                               pair_prior=self._pair_prior(scene))
        messages = self._warm_messages(scene, planning, origin) if warm else None
        solve_started = time.perf_counter()
        result = bp.run(planning.graph, self.config.iterations, damping=self.config.damping,
                        messages=messages)
        solve_time = time.perf_counter() - solve_started
        h = planning.horizon
        states = result.means.reshape(n, h, 6)
        times = planning.times
        velocities = (states[:, 1, :3] - scene.positions) / (times[1] - times[0])
        states = states + torch.cat([origin, torch.zeros_like(origin)])
        velocities = torch.where(torch.isfinite(velocities), velocities,
                                 torch.zeros_like(velocities))
        current = Gaussian(result.beliefs.eta[::h], result.beliefs.precision[::h])
        covariance = torch.linalg.inv(current.precision)
        mean = states[:, 0]
        gaps = (times[1:] - times[:-1])[None, :, None]
        planned_speed = ((states[:, 1:, :3] - states[:, :-1, :3]) / gaps).norm(dim=-1)
        stats = {
            'iterations': float(result.iterations),
            'residual': result.settling,
            'settling_m': result.settling,
            'diverged': float(result.diverged),
            'time_per_iteration_s': solve_time / max(result.iterations, 1),
            'max_planned_speed': float(planned_speed.max()) if planned_speed.numel() else 0.0,
            'interagent_factors': float(len(planning.pair_steps)),
            'obstacle_factors': float(len(planning.obstacle_steps)),
            'zeroed_messages': float(result.zeroed_messages),
            'cycle_time_s': 0.0,
        }
        plan = Plan(velocities, states[..., :3].clone(), stats)
        self._remember(scene, planning, result, states, origin)
        cycle = CycleResult(plan, states, mean, covariance, planning, result, origin)
        stats['cycle_time_s'] = time.perf_counter() - started
        self.last = cycle
        return cycle

    def mixture_beliefs(self, cycle: Optional[CycleResult] = None,
                        steps: Optional[Sequence[int]] = None) -> Mixture:
        """
        Return the mixture beliefs ``(N, S, K_max, 6)`` of a cycle (the last by default).

        ``steps`` selects horizon steps (all ``H`` by default; 0 is the current
        state); only those are assembled, which is what makes this cheap.
        """
        cycle = cycle or self.last
        if cycle is None:
            raise ValueError('mixture_beliefs: no planning cycle has run yet')
        n, h = cycle.states.shape[:2]
        device = cycle.states.device
        steps = torch.arange(h, device=device) if steps is None else torch.as_tensor(
            steps, dtype=torch.long, device=device)
        if steps.numel() and not (0 <= int(steps.min()) and int(steps.max()) < h):
            raise ValueError(f'mixture_beliefs: steps must be in [0, {h}), got {steps.tolist()}')
        variables = (torch.arange(n, device=device)[:, None] * h + steps[None]).reshape(-1)
        flat = bp.mixture_beliefs(cycle.planning.graph, cycle.bp_result,
                                  self.config.max_components, variables=variables)
        to_world = RigidMotion(torch.eye(3, dtype=cycle.origin.dtype, device=cycle.origin.device),
                               cycle.origin)
        flat = mixture.transform(flat, to_world)
        return Mixture(*(t.reshape((n, len(steps)) + t.shape[1:]) for t in flat))

    # Warm start and hysteresis -------------------------------------------------------
    # Both are kept only while the agent list is unchanged, so agent indices
    # are stable keys: a pair (i, j) is i * N + j, a pair factor adds its step.

    def _warm_messages(self, scene: Scene, planning: PlanningGraph,
                       origin: torch.Tensor) -> Dict[str, Gaussian]:
        # Messages are potentials in the previous cycle's centred frame: move them.
        shift = RigidMotion(torch.eye(3, dtype=origin.dtype, device=origin.device),
                            self._origin - origin)
        messages = {name: Gaussian(*shift.information(m.eta, m.precision))
                    for name, m in self._messages.items()}
        old = messages.pop('interagent', None)
        if old is not None and self._pair_keys is not None and len(planning.pair_steps):
            keys = _factor_keys(planning, scene.num_agents)
            found, source = _lookup(self._pair_keys, keys)
            messages['interagent'] = Gaussian(
                torch.where(found[:, None, None], old.eta[source], 0.0),
                torch.where(found[:, None, None, None], old.precision[source], 0.0))
        return messages

    def _remember(self, scene: Scene, planning: PlanningGraph, result: bp.BPResult,
                  states: torch.Tensor, origin: torch.Tensor) -> None:
        n = scene.num_agents
        self._ids = scene.ids
        self._origin = origin
        self._messages = dict(result.messages)
        self._pair_keys = _factor_keys(planning, n)
        # Next cycle's reference: this plan advanced by one control period.
        times = planning.times
        shifted = times + self.config.dt
        index = torch.searchsorted(times, shifted).clamp(1, len(times) - 1)
        lower, upper = times[index - 1], times[index]
        weight = ((shifted - lower) / (upper - lower)).clamp(0, 1)[None, :, None]
        positions = states[..., :3]
        self._reference = (1 - weight) * positions[:, index - 1] + weight * positions[:, index]
        self._labels = None
        log_weights = result.hypothesis_log_weights.get('interagent')
        if log_weights is None or not len(planning.pair_steps):
            return
        # The side each pair settled on: its posterior weights summed over its steps
        # (they are the same at both ends of every factor).
        weights = log_weights.exp()
        pair_keys = planning.pair_agents[:, 0] * n + planning.pair_agents[:, 1]
        unique, inverse = torch.unique(pair_keys, return_inverse=True)
        totals = weights.new_zeros(len(unique), weights.shape[-1]).index_add_(0, inverse, weights)
        sides = planning.pair_side.new_zeros(len(unique), 3).index_copy_(
            0, inverse, planning.pair_side)
        self._labels = (unique, totals.argmax(-1), sides)

    def _pair_prior(self, scene: Scene):
        if self._labels is None or self.config.hysteresis == 0 or scene.ids != self._ids:
            return None
        keys, labels, old_sides = self._labels
        n, bonus, k = scene.num_agents, self.config.hysteresis, self.model.num_components

        def prior(pairs: torch.Tensor, side: torch.Tensor) -> torch.Tensor:
            found, source = _lookup(keys, pairs[:, 0] * n + pairs[:, 1])
            label = labels[source]
            # Component 0 is the +side: if the side axis flipped, so did the label.
            flipped = (old_sides[source] * side).sum(-1) < 0
            label = torch.where(flipped, k - 1 - label, label)
            weights = side.new_zeros(len(pairs), k)
            weights.scatter_(1, label[:, None], bonus)
            return torch.where(found[:, None], weights, 0.0)

        return prior


def message_model(config: PlannerConfig):
    """
    Return the distance-factor message model that ``config.message_model`` names.

    ``'neural'`` and ``'mlp'`` load the weights shipped in :mod:`enbp_core.nn`
    (imported here, on first use, so the analytic planners never import e3nn).
    """
    if config.message_model == 'side':
        return SideHypotheses(config.lateral_floor, config.hinge_ramp)
    if config.message_model == 'linearised':
        return Linearised(config.hinge_ramp)
    from enbp_core.nn import load_message_model
    return load_message_model('equivariant' if config.message_model == 'neural' else 'mlp')


def _factor_keys(planning: PlanningGraph, num_agents: int) -> torch.Tensor:
    pairs = planning.pair_agents
    return (pairs[:, 0] * num_agents + pairs[:, 1]) * planning.horizon + planning.pair_steps


def _lookup(table: torch.Tensor, keys: torch.Tensor):
    """Return ``(found, index)``: where each key occurs in ``table`` (unsorted, unique)."""
    if not len(table):
        return torch.zeros_like(keys, dtype=torch.bool), torch.zeros_like(keys)
    order = torch.argsort(table)
    position = torch.searchsorted(table[order], keys).clamp_max(len(table) - 1)
    return table[order][position] == keys, order[position]


def _to(scene: Scene, dtype: torch.dtype, device: torch.device) -> Scene:
    move = {name: getattr(scene, name).to(dtype=dtype, device=device)
            for name in ('positions', 'velocities', 'covariances', 'goals', 'radii',
                         'max_speeds')}
    obstacles = Obstacles(scene.obstacles.spheres.to(dtype=dtype, device=device),
                          scene.obstacles.cylinders.to(dtype=dtype, device=device))
    return Scene(scene.ids, obstacles=obstacles, time=scene.time, **move)
