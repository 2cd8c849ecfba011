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
From a scene to the multi-agent planning factor graph.

Variables: for agent ``i`` and horizon state ``k`` (times ``tau_k``), the state
``x_{i,k} = (p, v)``, indexed ``i * H + k``. Factors:

- the measured state on ``x_{i,0}``, a horizon target on ``x_{i,H-1}`` (the
  goal if reachable within the horizon at full speed, else the point that far
  along the straight line, moving at full speed, as gbpplanner does), and a
  weak prior on every state around the straight-line guess;
- constant-velocity dynamics between consecutive states of an agent;
- the speed limit on every planned state (optional);
- inter-agent distance factors between ``x_{i,k}`` and ``x_{j,k}``, ``k >= 1``,
  for pairs within the communication radius now and within the safety
  distance plus a margin at ``tau_k`` on the reference plan (only these are
  stored);
- agent-obstacle distance factors, selected the same way.

Distance factors get their potentials from a message model
(:mod:`enbp_core.factors.hypotheses`), lifted from the offset to the states.
"""

from dataclasses import dataclass
from typing import Optional

from enbp_core import bp
from enbp_core.factors import dynamics, priors, speed
from enbp_core.factors.hypotheses import DistanceContext, side_axis
from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
from enbp_core.planning.config import PlannerConfig
from enbp_core.scene import Scene
import torch

__all__ = ['PlanningGraph', 'build_graph', 'goal_velocities', 'horizon_targets']


def goal_velocities(scene: Scene) -> torch.Tensor:
    """Return each agent's full-speed velocity straight at its goal (zero at the goal)."""
    to_goal = scene.goals - scene.positions
    distance = to_goal.norm(dim=-1, keepdim=True)
    unit = torch.where(distance > 1e-9, to_goal / distance.clamp_min(1e-300),
                       torch.zeros_like(to_goal))
    return unit * scene.max_speeds[:, None]


def horizon_targets(scene: Scene, horizon: float) -> torch.Tensor:
    """Return the ``(N, 6)`` target state of the last horizon variable."""
    to_goal = scene.goals - scene.positions
    distance = to_goal.norm(dim=-1, keepdim=True)
    reach = (scene.max_speeds * horizon)[:, None]
    unit = torch.where(distance > 1e-9, to_goal / distance.clamp_min(1e-300),
                       torch.zeros_like(to_goal))
    position = scene.positions + unit * torch.minimum(distance, reach)
    velocity = torch.where(distance > reach, unit * scene.max_speeds[:, None],
                           torch.zeros_like(unit))
    return torch.cat([position, velocity], -1)


@dataclass
class PlanningGraph:
    """
    A planning factor graph and the bookkeeping needed to read it.

    Attributes
    ----------
    graph : bp.FactorGraph
        ``V = N H`` variables of dimension 6.
    times : torch.Tensor
        ``(H,)`` horizon times, s.
    pair_agents : torch.Tensor
        ``(F, 2)`` agent indices of the inter-agent factors (``i < j``).
    pair_steps : torch.Tensor
        ``(F,)`` horizon step of each inter-agent factor.
    pair_side : torch.Tensor
        ``(F, 3)`` side axis of each inter-agent factor for this cycle.
    obstacle_agents, obstacle_steps, obstacle_ids : torch.Tensor
        ``(G,)`` agent, step and obstacle index of each obstacle factor.

    """

    graph: bp.FactorGraph
    times: torch.Tensor
    pair_agents: torch.Tensor
    pair_steps: torch.Tensor
    pair_side: torch.Tensor
    obstacle_agents: torch.Tensor
    obstacle_steps: torch.Tensor
    obstacle_ids: torch.Tensor

    @property
    def horizon(self) -> int:
        """Return ``H``, the number of states per agent."""
        return len(self.times)


def _projection(kind: str, dtype, device) -> torch.Tensor:
    """Return ``A``, mapping stacked states to the offset ``p_i - p_j`` (pair) or ``p``."""
    eye = torch.eye(3, dtype=dtype, device=device)
    if kind == 'pair':
        return torch.cat([eye, torch.zeros_like(eye), -eye, torch.zeros_like(eye)], -1)
    return torch.cat([eye, torch.zeros_like(eye)], -1)


def _shift(potential: Mixture, centre: torch.Tensor) -> Mixture:
    """Re-express potentials over ``d = p - c`` as potentials over ``p``."""
    eta = potential.eta + (potential.precision @ centre[:, None, :, None])[..., 0]
    return Mixture(potential.log_weights, eta, potential.precision)


def build_graph(scene: Scene, config: PlannerConfig, model,
                reference: Optional[torch.Tensor] = None,
                pair_prior: Optional[torch.Tensor] = None) -> PlanningGraph:
    """
    Build the planning graph of one control cycle.

    Parameters
    ----------
    scene : Scene
        Validated, on the planner's dtype and device.
    config : PlannerConfig
        Parameters.
    model : callable
        Message model for distance factors, ``DistanceContext -> Mixture`` over
        the offset, with attribute ``num_components``.
    reference : torch.Tensor, optional
        ``(N, H, 3)`` reference positions used to select distance factors
        (the warm-started plan); the straight-line guess if omitted.
    pair_prior : callable, optional
        ``(pair_agents (F, 2), side (F, 3)) -> (F, K)`` prior log weights of the
        hypotheses (hysteresis); zero if omitted.

    """
    n = scene.num_agents
    dtype, device = scene.positions.dtype, scene.positions.device
    offsets = torch.tensor(config.horizon_offsets(), dtype=dtype, device=device)
    times = offsets * config.dt
    h = len(times)
    target = horizon_targets(scene, float(times[-1]))
    fraction = (times / times[-1])[None, :, None]
    start = torch.cat([scene.positions, scene.velocities], -1)
    guess_positions = (scene.positions[:, None]
                       + fraction * (target[:, None, :3] - scene.positions[:, None]))
    guess_velocity = ((target[:, :3] - scene.positions) / times[-1])[:, None].expand(n, h, 3)
    guess = torch.cat([guess_positions, guess_velocity], -1).reshape(n * h, 6)
    if reference is None:
        reference = guess_positions

    weak = priors.isotropic_prior(guess, config.weak_prior_sigma, config.weak_prior_sigma)
    eta, precision = weak.eta.clone(), weak.precision.clone()
    first = torch.arange(n, device=device) * h
    last = first + h - 1
    measured = priors.state_prior(start, scene.covariances)
    eta[first] += measured.eta
    precision[first] += measured.precision
    goal_prior = priors.isotropic_prior(target, config.sigma_horizon, config.sigma_horizon)
    eta[last] += goal_prior.eta
    precision[last] += goal_prior.precision
    graph = bp.FactorGraph(Gaussian(eta, precision))

    # Dynamics.
    steps = torch.arange(h - 1, device=device)
    agents = torch.arange(n, device=device)
    left = (agents[:, None] * h + steps[None, :]).reshape(-1)
    dt = (times[1:] - times[:-1]).repeat(n)
    dynamics_potential = dynamics.constant_velocity(dt, config.sigma_dynamics)
    dynamics_mixture = Mixture(dt.new_zeros(len(dt), 1), dynamics_potential.eta[:, None],
                               dynamics_potential.precision[:, None])
    graph.groups.append(bp.FactorGroup('dynamics', torch.stack([left, left + 1], -1),
                                       lambda means: dynamics_mixture, fixed=True))

    # Speed limit on planned states.
    if config.speed_limit:
        planned = (agents[:, None] * h + torch.arange(1, h, device=device)[None]).reshape(-1)
        limits = scene.max_speeds.repeat_interleave(h - 1)

        def speed_potential(means, limits=limits):
            g = speed.speed_limit(means[:, 0], limits, config.sigma_speed, config.hinge_ramp)
            return Mixture(limits.new_zeros(len(limits), 1), g.eta[:, None],
                           g.precision[:, None])

        graph.groups.append(bp.FactorGroup('speed', planned[:, None], speed_potential))

    k = model.num_components
    track = goal_velocities(scene)

    # Inter-agent distance factors.
    now = torch.cdist(scene.positions, scene.positions)
    safe = config.safety_factor * (scene.radii[:, None] + scene.radii[None, :])
    upper = torch.ones(n, n, dtype=torch.bool, device=device).triu(1)
    future = torch.cdist(reference[:, 1:].transpose(0, 1), reference[:, 1:].transpose(0, 1))
    candidate = ((future < (safe + config.activation_margin)[None])
                 & (now < config.comm_radius)[None] & upper[None])
    step, i, j = candidate.nonzero(as_tuple=True)
    step = step + 1
    pair_agents = torch.stack([i, j], -1)
    pair_side = side_axis(scene.positions[i] - scene.positions[j], track[i] - track[j])
    if len(i):
        pair_weights = (pair_prior(pair_agents, pair_side) if pair_prior is not None
                        else scene.positions.new_zeros(len(i), k))
        pair_safe = safe[i, j]
        pair_track = track[i] - track[j]
        pair_sigma = torch.full_like(pair_safe, config.sigma_interrobot)

        def pair_potential(means):
            offset = means[:, 0, :3] - means[:, 1, :3]
            context = DistanceContext(offset, means[:, 0, 3:] - means[:, 1, 3:], pair_track,
                                      pair_side, pair_safe, pair_sigma, pair_weights)
            return model(context)

        graph.groups.append(bp.FactorGroup(
            'interagent', torch.stack([i * h + step, j * h + step], -1), pair_potential,
            projection=_projection('pair', dtype, device)))

    # Agent-obstacle distance factors.
    obstacle_agents = obstacle_steps = obstacle_ids = torch.zeros(0, dtype=torch.long,
                                                                  device=device)
    obstacles = scene.obstacles
    count = obstacles.spheres.shape[0] + obstacles.cylinders.shape[0]
    if count:
        centres = torch.cat([obstacles.spheres[:, :3], torch.cat([
            obstacles.cylinders[:, :2], obstacles.cylinders.new_zeros(
                obstacles.cylinders.shape[0], 1)], -1)]).to(dtype)
        radii = torch.cat([obstacles.spheres[:, 3], obstacles.cylinders[:, 2]]).to(dtype)
        vertical = torch.cat([torch.zeros(obstacles.spheres.shape[0], dtype=torch.bool),
                              torch.ones(obstacles.cylinders.shape[0], dtype=torch.bool)]).to(
                                  device)
        clearance = obstacles.clearance(reference[:, 1:])  # (N, H-1, O)
        reach = config.safety_factor * scene.radii[:, None, None] + config.activation_margin
        agent, step_o, obstacle = (clearance < reach).nonzero(as_tuple=True)
        step_o = step_o + 1
        obstacle_agents, obstacle_steps, obstacle_ids = agent, step_o, obstacle
        if len(agent):
            mask = vertical[obstacle][:, None]
            keep_z = torch.tensor([1.0, 1.0, 0.0], dtype=dtype, device=device)

            def centre_of(points):
                # A cylinder's nearest axis point has the agent's own height.
                return torch.where(mask, centres[obstacle] * keep_z + points * (1 - keep_z),
                                   centres[obstacle])

            now_offset = scene.positions[agent] - centre_of(scene.positions[agent])
            o_side = side_axis(now_offset, track[agent])
            # An obstacle cannot give way, and the margin beyond the body,
            # (safety_factor - 1) r, is half a pair's: with a fade-in as deep as
            # that margin the factor would reach full strength only at contact.
            # So the fade-in lies outside the obstacle's safety distance.
            o_safe = (radii[obstacle] + config.safety_factor * scene.radii[agent]
                      + config.hinge_ramp)
            o_sigma = torch.full_like(o_safe, config.sigma_obstacle)
            o_weights = o_safe.new_zeros(len(agent), k)
            o_track = track[agent]

            def obstacle_potential(means):
                points = means[:, 0, :3]
                centre = centre_of(points)
                context = DistanceContext(points - centre, means[:, 0, 3:], o_track, o_side,
                                          o_safe, o_sigma, o_weights)
                return _shift(model(context), centre)

            graph.groups.append(bp.FactorGroup(
                'obstacle', (agent * h + step_o)[:, None], obstacle_potential,
                projection=_projection('point', dtype, device)))

    return PlanningGraph(graph, times, pair_agents, step, pair_side, obstacle_agents,
                         obstacle_steps, obstacle_ids)
