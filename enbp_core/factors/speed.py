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
The speed limit as a factor on each planned state.

For velocity ``v`` and limit ``v_max`` the residual is the hinge
``h(v) = |v| - v_max`` for ``|v| > v_max`` and ``0`` otherwise, with potential
``exp(-h^2 / 2 sigma^2)``. Linearised at ``v0`` it becomes ``h ≈ u' v - v_max``
with ``u = v0 / |v0|``: a rank-one potential on the velocity block that pulls
the speed along ``u`` back to the limit, and is flat (inactive) when ``v0``
already respects it. Only rotations act on it (velocities do not translate).
"""

from enbp_core.factors.distance import activation
from enbp_core.gaussian import Gaussian
import torch

__all__ = ['speed_limit', 'speed_residual']


def speed_residual(velocity: torch.Tensor, max_speed: torch.Tensor):
    """
    Return the hinge residual ``h`` (``(...)``) and ``dh/dv`` (``(..., 3)``).

    Parameters
    ----------
    velocity : torch.Tensor
        ``(..., 3)``.
    max_speed : torch.Tensor
        ``(...)``.

    """
    speed = velocity.norm(dim=-1)
    active = speed > max_speed
    residual = torch.where(active, speed - max_speed, torch.zeros_like(speed))
    jacobian = velocity / speed.clamp_min(1e-300)[..., None]
    return residual, torch.where(active[..., None], jacobian, torch.zeros_like(jacobian))


def speed_limit(state: torch.Tensor, max_speed: torch.Tensor, sigma: float,
                ramp: float = 0.0) -> Gaussian:
    """
    Return the linearised speed-limit potentials over the state, ``(V, 6)``.

    Parameters
    ----------
    state : torch.Tensor
        ``(V, 6)`` linearisation points ``(p, v)``.
    max_speed : torch.Tensor
        ``(V,)`` m/s.
    sigma : float
        Standard deviation of the residual, m/s.
    ramp : float
        Activation ramp above the limit, m/s (see
        :func:`enbp_core.factors.distance.activation`); 0 switches hard.

    """
    velocity = state[..., 3:]
    speed = velocity.norm(dim=-1)
    unit = velocity / speed.clamp_min(1e-300)[..., None]
    scale = activation(speed - max_speed, ramp).sqrt() / sigma
    scaled = unit * scale[..., None]
    precision = torch.zeros(state.shape + (6,), dtype=state.dtype, device=state.device)
    precision[..., 3:, 3:] = scaled[..., :, None] * scaled[..., None, :]
    eta = torch.zeros_like(state)
    eta[..., 3:] = unit * (scale ** 2 * max_speed)[..., None]
    return Gaussian(eta, precision)
