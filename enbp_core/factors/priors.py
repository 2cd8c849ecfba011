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
Unary priors on one state ``x = (p, v)``: measurement, goal, and a weak prior.

All are Gaussian potentials in information form over R^6. A position-only
prior leaves the velocity block empty (an improper potential).
"""

from enbp_core import spectral
from enbp_core.gaussian import Gaussian
import torch

__all__ = ['isotropic_prior', 'position_prior', 'state_prior']


def state_prior(mean: torch.Tensor, covariance: torch.Tensor) -> Gaussian:
    """
    Return the potential of a measured state ``N(mean, covariance)``.

    Parameters
    ----------
    mean : torch.Tensor
        ``(V, 6)``.
    covariance : torch.Tensor
        ``(V, 6, 6)``, SPD (validated where it enters, see ``Scene.validate``).

    """
    precision = spectral.spd_inverse(covariance)
    return Gaussian((precision @ mean[..., None])[..., 0], precision)


def position_prior(position: torch.Tensor, sigma: torch.Tensor) -> Gaussian:
    """
    Return an isotropic prior on the position block only, shape ``(V, 6)``.

    Parameters
    ----------
    position : torch.Tensor
        ``(V, 3)``.
    sigma : torch.Tensor
        ``(V,)`` standard deviation in metres.

    """
    precision = torch.zeros(position.shape[:-1] + (6, 6), dtype=position.dtype,
                            device=position.device)
    eye = torch.eye(3, dtype=position.dtype, device=position.device)
    lam = (1.0 / sigma ** 2)[..., None, None] * eye
    precision[..., :3, :3] = lam
    eta = torch.zeros(position.shape[:-1] + (6,), dtype=position.dtype, device=position.device)
    eta[..., :3] = (lam @ position[..., None])[..., 0]
    return Gaussian(eta, precision)


def isotropic_prior(mean: torch.Tensor, sigma_position: float,
                    sigma_velocity: float) -> Gaussian:
    """
    Return a weak isotropic prior around ``mean`` (``(V, 6)``).

    Every variable gets one, so that no belief is ever improper: an
    uninformed variable would otherwise have a round-off-sized precision and
    a meaningless mean, at which a collision factor cannot be linearised.
    """
    diagonal = torch.tensor([sigma_position] * 3 + [sigma_velocity] * 3, dtype=mean.dtype,
                            device=mean.device) ** -2.0
    precision = torch.diag_embed(diagonal.expand(mean.shape))
    return Gaussian(diagonal * mean, precision)
