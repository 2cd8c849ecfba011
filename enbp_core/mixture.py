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
Gaussian mixtures in information form.

A mixture with ``K`` components over ``R^n`` is ``(log_weights, eta, precision)``
with shapes ``(..., K)``, ``(..., K, n)`` and ``(..., K, n, n)``; it stands for
the density (or message)

    ``p(x) = sum_k w_k N(x; eta_k, Lambda_k)``,

each ``N`` normalised (by the range rule of :mod:`enbp_core.gaussian` for
improper components). Weights need not sum to one: ``logsumexp(log_weights)``
is the log mass, which a product of mixtures uses to carry the evidence. A
component with ``log_weight = -inf`` is *absent*; batched code keeps a fixed
``K`` and marks unused slots this way, with finite parameters.

Weights are invariant, means move and precisions rotate under a rigid
motion, so every function here commutes with SE(3) (tested).
"""

import math
from typing import NamedTuple, Optional, Tuple

from enbp_core import gaussian as gauss
from enbp_core import spectral
from enbp_core.checks import check_finite
from enbp_core.se3 import RigidMotion
import torch

__all__ = [
    'Mixture',
    'collapse',
    'component_moments',
    'from_gaussian',
    'from_moments',
    'from_potentials',
    'kl_divergence_monte_carlo',
    'log_density',
    'log_mass',
    'marginal',
    'moments',
    'normalize',
    'product',
    'sample',
    'transform',
    'validate',
]


class Mixture(NamedTuple):
    """
    A batch of Gaussian mixtures in information form.

    Attributes
    ----------
    log_weights : torch.Tensor
        Shape ``(..., K)``; ``-inf`` marks an absent component.
    eta : torch.Tensor
        Shape ``(..., K, n)``.
    precision : torch.Tensor
        Shape ``(..., K, n, n)``, symmetric PSD.

    """

    log_weights: torch.Tensor
    eta: torch.Tensor
    precision: torch.Tensor

    @property
    def components(self) -> gauss.Gaussian:
        """Return the components as one batch of Gaussians, batch shape ``(..., K)``."""
        return gauss.Gaussian(self.eta, self.precision)

    @property
    def num_components(self) -> int:
        """Return the number of component slots ``K`` (absent ones included)."""
        return self.log_weights.shape[-1]


def validate(mixture: Mixture, name: str = 'mixture') -> Mixture:
    """Raise ``ValueError`` on bad shapes, NaN, ``+inf`` weights or non-PSD precisions."""
    log_weights, eta, precision = mixture
    if not isinstance(log_weights, torch.Tensor) or log_weights.dim() < 1:
        raise ValueError(f'{name}.log_weights must be a tensor of shape (..., K)')
    if bool(torch.isnan(log_weights).any()) or bool((log_weights == float('inf')).any()):
        raise ValueError(f'{name}.log_weights holds NaN or +inf')
    if not bool((log_weights > float('-inf')).any(-1).all()):
        raise ValueError(f'{name} has a mixture with every component absent')
    gauss.validate(gauss.Gaussian(eta, precision), name)
    if eta.dim() < 2 or eta.shape[-2] != log_weights.shape[-1]:
        raise ValueError(
            f'{name}: log_weights has shape {tuple(log_weights.shape)} but eta has shape '
            f'{tuple(eta.shape)}; expected (..., K) and (..., K, n)')
    return mixture


def from_gaussian(gaussian: gauss.Gaussian) -> Mixture:
    """Wrap Gaussians as one-component mixtures of unit weight."""
    eta, precision = gaussian
    return Mixture(eta.new_zeros(eta.shape[:-1] + (1,)), eta[..., None, :],
                   precision[..., None, :, :])


def from_moments(log_weights: torch.Tensor, means: torch.Tensor,
                 covariances: torch.Tensor, *, check: bool = True) -> Mixture:
    """Mixture from log weights ``(..., K)``, means ``(..., K, n)``, SPD covariances."""
    if check:
        check_finite(log_weights.clamp_min(-1e30), 'log_weights')
    eta, precision = gauss.from_moments(means, covariances, check=check)
    return Mixture(log_weights, eta, precision)


def from_potentials(log_peaks: torch.Tensor, eta: torch.Tensor, precision: torch.Tensor,
                    log_pdet: Optional[torch.Tensor] = None,
                    rank: Optional[torch.Tensor] = None) -> Mixture:
    """
    Represent a sum of Gaussian *potentials* as a mixture.

    Component ``k`` is the potential ``exp(log_peak_k - (x - m_k)' Lambda_k (x - m_k) / 2)``
    with ``Lambda_k m_k = eta_k``: a factor whose largest value is ``exp(log_peak_k)``,
    as a robotics factor ``exp(-|h(x)|^2 / 2 sigma^2)`` is. Its weight in the mixture
    convention (weight times normalised density) is ``log_peak - log pdet(Lambda / 2 pi) / 2``
    with the range rule of :mod:`enbp_core.gaussian`; the rule cancels in every product,
    so the evidence of each component against any proper Gaussian is exact even when the
    components have different null spaces. The weight is invariant under rigid motions.

    Parameters
    ----------
    log_peaks : torch.Tensor
        ``(..., K)``.
    eta : torch.Tensor
        ``(..., K, n)``, in the range of ``precision``.
    precision : torch.Tensor
        ``(..., K, n, n)``, symmetric PSD, possibly singular.
    log_pdet, rank : torch.Tensor, optional
        ``(..., K)`` the precisions' log pseudo-determinants and ranks, when the
        caller knows them in closed form (a rank-one ``s n n'`` has ``log s |n|^2``);
        computed by eigendecomposition otherwise.

    """
    if log_pdet is None or rank is None:
        log_pdet, rank = spectral.log_pseudo_determinant(precision)
    log_normalisers = 0.5 * (rank.to(eta.dtype) * math.log(2 * math.pi) - log_pdet)
    return Mixture(log_peaks + log_normalisers, eta, precision)


def log_mass(mixture: Mixture) -> torch.Tensor:
    """``log sum_k w_k``, shape ``(...)``."""
    return torch.logsumexp(mixture.log_weights, dim=-1)


def normalize(mixture: Mixture) -> Mixture:
    """Rescale the weights to sum to one."""
    log_weights = mixture.log_weights - log_mass(mixture)[..., None]
    return Mixture(log_weights, mixture.eta, mixture.precision)


def product(a: Mixture, b: Mixture) -> Mixture:
    """
    Pointwise product of two mixtures, with ``K_a * K_b`` components.

    Component ``(i, j)`` (flattened as ``i * K_b + j``) has parameters
    ``eta_i + eta_j``, ``Lambda_i + Lambda_j`` and log weight
    ``log w_i + log w_j + A_ij - A_i - A_j`` (``A`` the log normaliser), so the
    result's density is exactly ``p_a(x) p_b(x)`` and its log mass is
    ``log ∫ p_a p_b``. Batch shapes broadcast.

    ``A_ij - A_i - A_j`` is unchanged when all three potentials are written in
    coordinates centred at any point ``c``. It is evaluated centred at the
    pair's own (pseudo-)mean ``c = Lambda_ij^+ eta_ij``: in world coordinates
    each ``A`` grows like ``mu^T Lambda mu / 2`` and their difference would
    cancel catastrophically far from the origin, most of all in float32.
    """
    eta = a.eta[..., :, None, :] + b.eta[..., None, :, :]
    precision = a.precision[..., :, None, :, :] + b.precision[..., None, :, :, :]
    parts = spectral.pseudo_inverse_and_log_determinant(precision)
    centre = (parts[0] @ eta[..., None])[..., 0]
    pinv_a, log_pdet_a, rank_a = spectral.pseudo_inverse_and_log_determinant(a.precision)
    pinv_b, log_pdet_b, rank_b = spectral.pseudo_inverse_and_log_determinant(b.precision)
    parts_a = (pinv_a[..., :, None, :, :], log_pdet_a[..., :, None], rank_a[..., :, None])
    parts_b = (pinv_b[..., None, :, :, :], log_pdet_b[..., None, :], rank_b[..., None, :])
    log_weights = (a.log_weights[..., :, None] + b.log_weights[..., None, :]
                   + _centred_log_normalizer(eta, precision, centre, parts)
                   - _centred_log_normalizer(a.eta[..., :, None, :],
                                             a.precision[..., :, None, :, :], centre, parts_a)
                   - _centred_log_normalizer(b.eta[..., None, :, :],
                                             b.precision[..., None, :, :, :], centre, parts_b))
    return Mixture(log_weights.flatten(-2), eta.flatten(-3, -2), precision.flatten(-4, -3))


def _centred_log_normalizer(eta, precision, centre, parts):
    """
    Log normaliser of ``(eta, Lambda)`` in coordinates ``y = x - centre``.

    The potential becomes ``(eta - Lambda c, Lambda)``; the constant
    ``eta^T c - c^T Lambda c / 2`` it sheds cancels in product weights.
    ``parts`` are the precision's ``(pinv, log_pdet, rank)``.
    """
    shifted = eta - (precision @ centre[..., None])[..., 0]
    return gauss.log_normalizer_from_parts(shifted, *parts)


def log_density(mixture: Mixture, x: torch.Tensor) -> torch.Tensor:
    """``log p(x)`` for points ``x`` of shape ``(..., n)`` (range rule for improper components)."""
    per_component = gauss.log_density(mixture.components, x[..., None, :])
    return torch.logsumexp(mixture.log_weights + per_component, dim=-1)


def component_moments(mixture: Mixture) -> Tuple[torch.Tensor, torch.Tensor]:
    """Means ``(..., K, n)`` and covariances ``(..., K, n, n)`` of proper components."""
    return gauss.moments(mixture.components)


def _weights(mixture: Mixture) -> torch.Tensor:
    return torch.softmax(mixture.log_weights, dim=-1)


def moments(mixture: Mixture) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(..., n)`` and covariance ``(..., n, n)`` of the normalised mixture."""
    weights = _weights(mixture)
    means, covariances = component_moments(mixture)
    mean = (weights[..., None] * means).sum(-2)
    spread = means - mean[..., None, :]
    second = covariances + spread[..., :, None] * spread[..., None, :]
    return mean, spectral.symmetrize((weights[..., None, None] * second).sum(-3))


def collapse(mixture: Mixture) -> gauss.Gaussian:
    """Moment-match one Gaussian to each mixture (it minimises ``KL(p || q)`` over ``q``)."""
    mean, covariance = moments(mixture)
    return gauss.from_moments(mean, covariance, check=False)


def marginal(mixture: Mixture, keep) -> Mixture:
    """Marginal over the coordinates ``keep``; weights are unchanged."""
    eta, precision = gauss.marginal(mixture.components, keep)
    return Mixture(mixture.log_weights, eta, precision)


def transform(mixture: Mixture, motion: RigidMotion, layout: str = 'pv') -> Mixture:
    """Apply a rigid motion of batch shape ``(...)`` to every component."""
    per_component = RigidMotion(motion.rotation[..., None, :, :], motion.translation[..., None, :])
    eta, precision = per_component.information(mixture.eta, mixture.precision, layout)
    return Mixture(mixture.log_weights, eta, precision)


def sample(mixture: Mixture, num_samples: int,
           generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Draw samples of shape ``(num_samples, ..., n)`` from the normalised mixture."""
    weights = _weights(mixture)
    batch = weights.shape[:-1]
    flat_weights = weights.reshape(-1, weights.shape[-1])
    picks = torch.multinomial(flat_weights, num_samples, replacement=True, generator=generator)
    picks = picks.T.reshape((num_samples,) + batch)
    means, covariances = component_moments(mixture)
    roots = torch.linalg.cholesky(covariances)
    index = picks[..., None, None].expand((num_samples,) + batch + (1,) + means.shape[-1:])
    chosen_mean = torch.take_along_dim(means.expand((num_samples,) + means.shape), index, -2)
    root_index = index[..., None].expand(index.shape + means.shape[-1:])
    chosen_root = torch.take_along_dim(roots.expand((num_samples,) + roots.shape), root_index, -3)
    noise = torch.randn(chosen_mean.shape + (1,), dtype=means.dtype, device=means.device,
                        generator=generator)
    return (chosen_mean + (chosen_root @ noise)[..., 0]).squeeze(-2)


def kl_divergence_monte_carlo(p: Mixture, q: Mixture, num_samples: int = 4096,
                              generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """
    Monte-Carlo estimate of ``KL(p || q)`` between normalised mixtures, shape ``(...)``.

    Mixture KL has no closed form; the estimator is unbiased with standard
    error ``O(num_samples ** -0.5)``.
    """
    x = sample(p, num_samples, generator)
    return (log_density(normalize(p), x) - log_density(normalize(q), x)).mean(0)
