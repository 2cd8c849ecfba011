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
The safety-distance hinge, the nonlinear part of collision and obstacle factors.

For an offset ``d`` between two bodies (agent minus agent, or agent minus the
nearest point of an obstacle's axis) and a safety distance ``s``, the residual
is the hinge of gbpplanner,

    ``h(d) = 1 - |d| / s``  for ``|d| < s``,  and ``0`` beyond,

with the potential ``exp(-h^2 / 2 sigma^2)``. Linearising at ``d0`` gives
``h ≈ 1 - n' d / s`` with ``n = d0 / |d0|``: a rank-one Gaussian potential
that pushes ``d`` along ``n`` until ``n' d = s``. The message models of
:mod:`enbp_core.factors.hypotheses` choose ``n`` (one per hypothesis).
"""

from typing import Tuple

import torch

__all__ = ['activation', 'hinge_residual', 'normal_potential']


def hinge_residual(offset: torch.Tensor, safe_distance: torch.Tensor):
    """
    Return the hinge residual and its Jacobian.

    Parameters
    ----------
    offset : torch.Tensor
        ``(..., 3)``, not zero.
    safe_distance : torch.Tensor
        ``(...)``, positive.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``h`` of shape ``(...)`` and ``dh/d offset`` of shape ``(..., 3)`` (zero
        where the hinge is inactive).

    """
    distance = offset.norm(dim=-1)
    active = distance < safe_distance
    residual = torch.where(active, 1 - distance / safe_distance, torch.zeros_like(distance))
    jacobian = -offset / (distance * safe_distance).clamp_min(1e-300)[..., None]
    return residual, torch.where(active[..., None], jacobian, torch.zeros_like(jacobian))


def activation(depth: torch.Tensor, ramp: float) -> torch.Tensor:
    """
    Return the weight in ``[0, 1]`` of a hinge factor ``depth`` past its threshold.

    ``ramp = 0`` is the hard switch of gbpplanner (weight 1 for any positive
    depth). A positive ``ramp`` raises the weight linearly over that depth,
    so that the linearised potential is a continuous function of the
    linearisation point: a pair entering the safety distance is not hit by a
    full-strength constraint at once, the fixed point does not chatter, and
    round-off cannot flip a factor on or off (which would break exact
    equivariance of a whole cycle).
    """
    if ramp == 0:
        return (depth > 0).to(depth.dtype)
    return (depth / ramp).clamp(0, 1)


def normal_potential(normal: torch.Tensor, safe_distance: torch.Tensor, sigma: torch.Tensor,
                     weight: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Return the Gaussian potential of ``h = 1 - n' d / s`` over the offset ``d``.

    ``precision = w n n' / (sigma s)^2`` and ``eta = w n / (sigma^2 s)``, the
    potential raised to the activation weight ``w``; its peak value is one
    (``h = 0`` is reachable). ``w = 0`` gives the flat potential.

    Parameters
    ----------
    normal : torch.Tensor
        ``(..., 3)`` unit vectors.
    safe_distance, sigma : torch.Tensor
        ``(...)``.
    weight : torch.Tensor
        ``(...)`` activation weights in ``[0, 1]`` (see :func:`activation`).

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``eta`` ``(..., 3)`` and ``precision`` ``(..., 3, 3)``.

    """
    scale = weight.sqrt() / (sigma * safe_distance)
    scaled = normal * scale[..., None]
    precision = scaled[..., :, None] * scaled[..., None, :]
    eta = normal * (scale ** 2 * safe_distance)[..., None]
    return eta, precision
