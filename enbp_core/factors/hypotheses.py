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
Message models: how a distance factor becomes a (mixture) potential.

A message model maps the factor's local geometry, a :class:`DistanceContext`,
to a mixture of Gaussian potentials over the offset ``d`` (``K`` components, in
the convention of :func:`enbp_core.mixture.from_potentials`). The engine lifts
it to the variables and weighs every component by its exact evidence against
both ends' cavities, so the two agents of a pair always agree on the weights.

- :class:`Linearised`: vanilla GBP, one component, ``n = d0 / |d0|``.
- :class:`SideHypotheses`: two components, "pass with the offset on the +side"
  and "on the -side" of a side axis fixed for the control cycle. Each is the
  hinge linearised at a point whose lateral offset along the side axis has
  that sign and at least ``lateral_floor * s`` magnitude: the current side
  reproduces vanilla GBP once the pair is clearly offset; head-on, both
  hypotheses push sideways instead of straight back. A prior log-weight
  (hysteresis, from the previous cycle) keeps the decision stable.

Every input is an offset or a velocity (moves under rotations, invariant
under translations) or a scalar, and outputs are built from them only, so both
models are exactly SE(3)-equivariant. Head-on pairs with no lateral offset at
all are a symmetric configuration that no equivariant rule can break: there
``side`` is zero and the two hypotheses coincide with vanilla GBP.
"""

from typing import NamedTuple

from enbp_core import mixture
from enbp_core.factors.distance import activation, normal_potential
from enbp_core.mixture import Mixture
import torch

__all__ = ['DistanceContext', 'hinge_weight', 'Linearised', 'side_axis', 'SideHypotheses']


class DistanceContext(NamedTuple):
    """
    The local geometry of ``F`` distance factors, all in the world frame.

    Attributes
    ----------
    offset : torch.Tensor
        ``(F, 3)`` linearisation point of the offset (agent minus agent or obstacle), m.
    velocity : torch.Tensor
        ``(F, 3)`` relative velocity at the linearisation point, m/s.
    track : torch.Tensor
        ``(F, 3)`` relative goal-directed velocity, fixed for the control cycle.
    side : torch.Tensor
        ``(F, 3)`` unit side axis fixed for the control cycle, zero where undefined.
    safe_distance : torch.Tensor
        ``(F,)`` m.
    sigma : torch.Tensor
        ``(F,)`` standard deviation of the hinge residual.
    prior_log_weights : torch.Tensor
        ``(F, K)`` prior log weights of the hypotheses (hysteresis).

    """

    offset: torch.Tensor
    velocity: torch.Tensor
    track: torch.Tensor
    side: torch.Tensor
    safe_distance: torch.Tensor
    sigma: torch.Tensor
    prior_log_weights: torch.Tensor


def side_axis(offset: torch.Tensor, track: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """
    Return the unit lateral direction of ``offset`` across ``track`` (``(F, 3)``).

    The component of the offset perpendicular to the relative goal-directed
    velocity: the side the pair passes on if nothing changes. Zero where the
    track is undefined (parallel motion) or the offset lies along it (head-on).
    """
    track_norm = track.norm(dim=-1, keepdim=True)
    unit_track = torch.where(track_norm > eps, track / track_norm.clamp_min(eps),
                             torch.zeros_like(track))
    lateral = offset - (offset * unit_track).sum(-1, keepdim=True) * unit_track
    norm = lateral.norm(dim=-1, keepdim=True)
    scale = offset.norm(dim=-1, keepdim=True)
    defined = (track_norm > eps) & (norm > eps * scale.clamp_min(1.0))
    return torch.where(defined, lateral / norm.clamp_min(1e-300), torch.zeros_like(lateral))


def hinge_weight(context: DistanceContext, ramp: float) -> torch.Tensor:
    """
    Return each factor's activation at its linearisation point, ``(F,)`` in ``[0, 1]``.

    :func:`~enbp_core.factors.distance.activation` of the depth inside the safety
    distance; zero for a zero offset (no direction to push along).
    """
    distance = context.offset.norm(dim=-1)
    return activation(context.safe_distance - distance, ramp) * (distance > 0)


def _potentials(normals: torch.Tensor, context: DistanceContext, ramp: float) -> Mixture:
    """Hinge potentials along ``normals`` (``(F, K, 3)``) as a mixture over the offset."""
    weight = hinge_weight(context, ramp)
    k = normals.shape[-2]
    safe, sigma = context.safe_distance[:, None], context.sigma[:, None]
    weight = weight[:, None].expand(-1, k)
    eta, precision = normal_potential(normals, safe.expand(-1, k), sigma.expand(-1, k), weight)
    # Rank one, s n n' with s = w / (sigma d)^2 and |n| = 1: pdet = s (flat where w = 0).
    active = weight > 0
    scale = torch.where(active, weight, torch.ones_like(weight)) / (sigma * safe) ** 2
    return mixture.from_potentials(context.prior_log_weights, eta, precision,
                                   log_pdet=torch.where(active, scale.log(), 0.0),
                                   rank=active.long())


def _unit(vectors: torch.Tensor) -> torch.Tensor:
    norm = vectors.norm(dim=-1, keepdim=True)
    return vectors / norm.clamp_min(1e-300)


class Linearised:
    """
    Vanilla GBP: the hinge linearised at the current offset (one component).

    Parameters
    ----------
    ramp : float
        Activation ramp depth, m (0: gbpplanner's hard switch; see
        :func:`enbp_core.factors.distance.activation`).

    """

    num_components = 1

    def __init__(self, ramp: float = 0.0):
        if not ramp >= 0:
            raise ValueError(f'ramp must be >= 0, got {ramp}')
        self.ramp = ramp

    def __call__(self, context: DistanceContext) -> Mixture:
        """Return the one-component potential over the offset, ``(F, 1, 3)``."""
        return _potentials(_unit(context.offset)[:, None, :], context, self.ramp)


class SideHypotheses:
    """
    Pass on the +side or the -side of the cycle's side axis (two components).

    Parameters
    ----------
    lateral_floor : float
        Minimum lateral offset of a hypothesis' linearisation point, as a
        fraction of the safety distance. Zero reproduces vanilla GBP for the
        current side.
    ramp : float
        Activation ramp depth, m (see :func:`enbp_core.factors.distance.activation`).

    """

    num_components = 2

    def __init__(self, lateral_floor: float = 0.5, ramp: float = 0.0):
        if not 0 <= lateral_floor <= 1:
            raise ValueError(f'lateral_floor must be in [0, 1], got {lateral_floor}')
        if not ramp >= 0:
            raise ValueError(f'ramp must be >= 0, got {ramp}')
        self.lateral_floor = lateral_floor
        self.ramp = ramp

    def __call__(self, context: DistanceContext) -> Mixture:
        """Return the two-component potential over the offset, ``(F, 2, 3)``."""
        side = context.side
        signs = torch.tensor([1.0, -1.0], dtype=side.dtype, device=side.device)
        lateral = (context.offset * side).sum(-1, keepdim=True)
        rest = context.offset - lateral * side
        floor = self.lateral_floor * context.safe_distance[:, None]
        # Per hypothesis, the lateral offset with that sign and at least the floor.
        magnitude = torch.maximum(signs * lateral, floor)
        points = rest[:, None, :] + (signs * magnitude)[..., None] * side[:, None, :]
        defined = side.norm(dim=-1) > 0
        points = torch.where(defined[:, None, None], points, context.offset[:, None, :].expand(
            -1, 2, 3))
        return _potentials(_unit(points), context, self.ramp)
