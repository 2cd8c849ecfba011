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
Constant-velocity dynamics between consecutive horizon states.

The state is ``x = (p, v)`` in R^6. Between states ``dt`` apart, white-noise
acceleration of intensity ``sigma^2`` gives the residual
``r = x_{k+1} - F x_k`` with ``F = [[I, dt I], [0, I]]`` and the precision

    ``Q^{-1} = sigma^{-2} [[12 / dt^3, -6 / dt^2], [-6 / dt^2, 4 / dt]] ⊗ I_3``,

the factor of gbpplanner (Patwardhan et al., RA-L 2022) lifted to 3-D. The
potential over ``(x_k, x_{k+1})`` is ``exp(-r' Q^{-1} r / 2)``: zero information
vector, rank-6 precision ``B' Q^{-1} B`` with ``B = [F, -I]``. It is linear, so
it commutes with rigid motions exactly (``F`` and ``Q`` are block-isotropic).
"""

from enbp_core.gaussian import Gaussian
import torch

__all__ = ['constant_velocity']


def constant_velocity(dt: torch.Tensor, sigma: float) -> Gaussian:
    """
    Return the constant-velocity potentials over ``(x_k, x_{k+1})``.

    Parameters
    ----------
    dt : torch.Tensor
        Time between the two states, shape ``(E,)``, in seconds, positive.
    sigma : float
        Acceleration noise intensity ``sigma_dynamics`` (gbpplanner: 0.1).

    Returns
    -------
    Gaussian
        ``eta`` of shape ``(E, 12)`` (zero) and ``precision`` of shape ``(E, 12, 12)``.

    """
    if not bool((dt > 0).all()):
        raise ValueError('dynamics: every dt must be positive')
    if not sigma > 0:
        raise ValueError(f'dynamics: sigma must be positive, got {sigma}')
    eye = torch.eye(3, dtype=dt.dtype, device=dt.device)
    zero = torch.zeros_like(eye)
    blocks = torch.stack([
        torch.stack([12 / dt ** 3, -6 / dt ** 2], -1),
        torch.stack([-6 / dt ** 2, 4 / dt], -1),
    ], -2) / sigma ** 2
    q_inv = torch.einsum('eab,ij->eaibj', blocks, eye).reshape(-1, 6, 6)
    transition = torch.cat([
        torch.cat([eye.expand(len(dt), 3, 3), dt[:, None, None] * eye], -1),
        torch.cat([zero.expand(len(dt), 3, 3), eye.expand(len(dt), 3, 3)], -1),
    ], -2)
    b = torch.cat([transition, -torch.eye(6, dtype=dt.dtype, device=dt.device).expand(
        len(dt), 6, 6)], -1)
    precision = b.transpose(-1, -2) @ q_inv @ b
    return Gaussian(torch.zeros(len(dt), 12, dtype=dt.dtype, device=dt.device), precision)
