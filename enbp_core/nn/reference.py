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
Reference messages: the exact tilted distribution of a hinge factor, by importance sampling.

A distance factor sees its variables through the offset ``y = A x``. Against
a Gaussian cavity ``N(y; m, C)`` (the law of the offset under the product of
the ends' cavities), the exact factor ``f(y) = exp(-h(y)^2 / 2 sigma^2)``,
``h(y) = max(0, 1 - |y| / s)`` (:mod:`enbp_core.factors.distance`, no
linearisation, no activation ramp), tilts the cavity into

    ``p(y) = N(y; m, C) f(y) / Z``.

This is what one step of belief propagation (or expectation propagation)
would compute with unlimited compute; a message model ``phi`` (a mixture
potential) yields instead ``q(y) = N(y; m, C) phi(y) / Z_phi``, a Gaussian
mixture in closed form (:func:`enbp_core.mixture.product`). The training
loss and the accuracy report compare the two:

- ``KL(p || q) = E_p[log p - log q]``, estimated with self-normalised
  importance weights ``w_i`` of samples ``y_i`` drawn from a proposal ``r``:
  ``w_i ∝ N(y_i; m, C) f(y_i) / r(y_i)``, and ``Z`` by the ratio estimator
  ``sum N f / r / sum N / r`` (exact, ``Z = 1``, where the factor never bites);
- the weighted negative log-likelihood ``-sum_i w_i log q(y_i)``, equal to
  the KL up to the model-independent entropy of ``p``.

The proposal is an equal mixture of the cavity, the cavity widened three
times in standard deviation, and the cavity times the hinge linearised at the
cavity mean (vanilla GBP's tilted Gaussian) widened twice: with
``sigma = 0.01`` the factor is a stiff wall, and when the cavity sits inside
the sphere the tilted mass lies in its far tail, where the first two
components put few samples. Everything is float64 and seeded.
"""

import math
from typing import NamedTuple, Optional

from enbp_core import mixture
from enbp_core.factors.hypotheses import DistanceContext
from enbp_core.mixture import Mixture
import torch

__all__ = ['ReferenceSet', 'cavity_mixture', 'hinge_log_factor', 'kl_divergence',
           'reference_set', 'subset', 'weighted_nll']


class ReferenceSet(NamedTuple):
    """
    ``F`` distance factors with their cavities and reference tilted samples.

    Attributes
    ----------
    context : DistanceContext
        The factors' geometry at the linearisation point.
    cavity_mean, cavity_covariance : torch.Tensor
        ``(F, 3)`` and ``(F, 3, 3)`` the cavity law of the offset.
    samples : torch.Tensor
        ``(F, M, 3)`` offsets drawn from the proposal.
    weights : torch.Tensor
        ``(F, M)`` self-normalised importance weights of ``p`` (rows sum to one).
    log_target : torch.Tensor
        ``(F, M)`` ``log p(y_i)`` with the normaliser estimated from the same samples.
    effective_size : torch.Tensor
        ``(F,)`` Kish effective sample size of the weights.
    log_evidence : torch.Tensor
        ``(F,)`` ``log Z = log E_cavity[f]``: the cavity mass the factor keeps
        (0 for a factor that does not bite).

    """

    context: DistanceContext
    cavity_mean: torch.Tensor
    cavity_covariance: torch.Tensor
    samples: torch.Tensor
    weights: torch.Tensor
    log_target: torch.Tensor
    effective_size: torch.Tensor
    log_evidence: torch.Tensor

    @property
    def num_factors(self) -> int:
        """Return ``F``."""
        return self.cavity_mean.shape[0]

    def to(self, dtype: torch.dtype) -> 'ReferenceSet':
        """Return the set with every floating tensor in ``dtype``."""
        return subset(self, slice(None), dtype)


def subset(data: ReferenceSet, index, dtype: Optional[torch.dtype] = None) -> ReferenceSet:
    """Return the factors ``index`` of ``data`` (optionally cast to ``dtype``)."""
    def pick(tensor):
        picked = tensor[index]
        return picked.to(dtype) if dtype is not None and picked.is_floating_point() else picked
    context = DistanceContext(*(pick(t) for t in data.context))
    return ReferenceSet(context, *(pick(t) for t in data[1:]))


def hinge_log_factor(offset: torch.Tensor, safe_distance: torch.Tensor,
                     sigma: torch.Tensor) -> torch.Tensor:
    """``log f(y) = -max(0, 1 - |y|/s)^2 / (2 sigma^2)`` for ``(..., 3)`` offsets, ``(...)`` s."""
    hinge = (1 - offset.norm(dim=-1) / safe_distance).clamp_min(0)
    return -0.5 * (hinge / sigma) ** 2


def _gaussian_log_density(x: torch.Tensor, mean: torch.Tensor,
                          chol: torch.Tensor) -> torch.Tensor:
    """``log N(x; mean, L L^T)`` for ``x (F, M, 3)``, ``mean (F, 3)``, ``chol (F, 3, 3)``."""
    centred = (x - mean[:, None, :]).transpose(1, 2)                      # (F, 3, M)
    whitened = torch.linalg.solve_triangular(chol, centred, upper=False)
    log_det = torch.diagonal(chol, dim1=-2, dim2=-1).log().sum(-1)
    return (-0.5 * whitened.pow(2).sum(1) - log_det[:, None]
            - 1.5 * math.log(2 * math.pi))


def reference_set(context: DistanceContext, cavity_mean: torch.Tensor,
                  cavity_covariance: torch.Tensor, num_samples: int = 192,
                  generator: Optional[torch.Generator] = None) -> ReferenceSet:
    """
    Draw the reference tilted distributions of ``F`` factors.

    Parameters
    ----------
    context : DistanceContext
        ``F`` factors (``safe_distance`` and ``sigma`` define the exact factor).
    cavity_mean, cavity_covariance : torch.Tensor
        ``(F, 3)``, ``(F, 3, 3)`` SPD, float64.
    num_samples : int
        ``M``, a multiple of 3 (one third per proposal component).
    generator : torch.Generator, optional
        Seeded CPU generator.

    """
    if num_samples % 3:
        raise ValueError(f'num_samples must be a multiple of 3, got {num_samples}')
    f, third = cavity_mean.shape[0], num_samples // 3
    dtype = cavity_mean.dtype
    chol = torch.linalg.cholesky(cavity_covariance)
    safe, sigma = context.safe_distance, context.sigma
    linearised_mean, linearised_chol = _linearised_tilted(cavity_mean, cavity_covariance,
                                                          safe, sigma)
    centres = torch.stack([cavity_mean, cavity_mean, linearised_mean], 1)     # (F, 3, 3)
    chols = torch.stack([chol, 3 * chol, 2 * linearised_chol], 1)            # (F, 3, 3, 3)
    noise = torch.randn(f, 3, third, 3, generator=generator, dtype=dtype)
    samples = centres[:, :, None, :] + (chols[:, :, None] @ noise[..., None])[..., 0]
    samples = samples.reshape(f, num_samples, 3)
    proposal = torch.logsumexp(torch.stack([
        _gaussian_log_density(samples, centres[:, c], chols[:, c]) for c in range(3)]), 0)
    proposal = proposal - math.log(3)
    log_cavity = _gaussian_log_density(samples, cavity_mean, chol)
    log_unnormalised = log_cavity + hinge_log_factor(samples, safe[:, None], sigma[:, None])
    log_ratio = log_unnormalised - proposal
    log_weights = log_ratio - torch.logsumexp(log_ratio, -1, keepdim=True)
    # Ratio estimator Z = sum N f / r / sum N / r: the cavity is normalised, so the
    # denominator's expectation is one, and dividing by it cancels the sampling noise
    # the two sums share (a factor that does not bite gets Z = 1 exactly).
    log_evidence = (torch.logsumexp(log_ratio, -1)
                    - torch.logsumexp(log_cavity - proposal, -1))
    weights = log_weights.exp()
    effective = 1 / weights.pow(2).sum(-1)
    return ReferenceSet(context, cavity_mean, cavity_covariance, samples, weights,
                        log_unnormalised - log_evidence[:, None], effective,
                        log_evidence.clamp_max(0))


def _linearised_tilted(mean, covariance, safe, sigma):
    """Mean and Cholesky factor of the cavity times the hinge linearised at its mean."""
    distance = mean.norm(dim=-1)
    normal = mean / distance.clamp_min(1e-12)[:, None]
    active = (distance < safe).to(mean.dtype)
    scale = active / (sigma * safe) ** 2
    cavity_precision = torch.linalg.inv(covariance)
    precision = cavity_precision + scale[:, None, None] * normal[:, :, None] * normal[:, None, :]
    precision = 0.5 * (precision + precision.transpose(-1, -2))
    eta = (cavity_precision @ mean[..., None])[..., 0] + (scale * safe)[:, None] * normal
    posterior = torch.linalg.inv(precision)
    posterior = 0.5 * (posterior + posterior.transpose(-1, -2))
    return (posterior @ eta[..., None])[..., 0], torch.linalg.cholesky(posterior)


def cavity_mixture(mean: torch.Tensor, covariance: torch.Tensor) -> Mixture:
    """Return the cavities ``N(m, C)`` as one-component mixtures ``(F, 1, 3)``."""
    precision = torch.linalg.inv(covariance)
    precision = 0.5 * (precision + precision.transpose(-1, -2))
    eta = (precision @ mean[..., None])[..., 0]
    return Mixture(mean.new_zeros(mean.shape[0], 1), eta[:, None], precision[:, None])


def _model_log_density(potential: Mixture, data: ReferenceSet) -> torch.Tensor:
    """``log q(y_i)`` ``(F, M)`` of the model's tilted mixture ``N(m, C) phi / Z``."""
    cavity = cavity_mixture(data.cavity_mean, data.cavity_covariance)
    tilted = mixture.normalize(mixture.product(cavity, potential))
    components = Mixture(*(t[:, None] for t in tilted))
    return mixture.log_density(components, data.samples)


def weighted_nll(potential: Mixture, data: ReferenceSet) -> torch.Tensor:
    """Return ``-sum_i w_i log q(y_i)`` per factor, ``(F,)`` (the training loss)."""
    return -(data.weights * _model_log_density(potential, data)).sum(-1)


def kl_divergence(potential: Mixture, data: ReferenceSet) -> torch.Tensor:
    """Return the importance-sampling estimate of ``KL(p || q)`` per factor, ``(F,)``."""
    log_q = _model_log_density(potential, data)
    return (data.weights * (data.log_target - log_q)).sum(-1)
