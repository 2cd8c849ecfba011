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
Gaussians in information (canonical) form.

A Gaussian over ``R^n`` is held as ``(eta, precision)``, the potential

    ``phi(x) = exp(-x^T Lambda x / 2 + eta^T x)``,

with ``eta`` of shape ``(..., n)`` and ``Lambda`` of shape ``(..., n, n)``,
symmetric positive semi-definite. Products of potentials add parameters,
marginals take Schur complements, and the moments are ``Sigma = Lambda^{-1}``,
``mu = Sigma eta``.

Improper Gaussians
------------------
Belief-propagation messages are often *improper*: a factor that touches only
the position block of a 6-D state says nothing about the velocity, so the
message precision is singular. They are supported everywhere parameters are
combined (product, marginal, conditioning, transformation). Where a
normaliser is needed (mixture weights), the rule is:

    the log normaliser of an improper Gaussian is taken on the range of
    ``Lambda``:  ``A = eta^T Lambda^+ eta / 2 - log pdet(Lambda / 2 pi) / 2``,

with ``Lambda^+`` the Moore–Penrose inverse and ``pdet`` the product of the
non-zero eigenvalues (numerical rank by :func:`enbp_core.spectral.rank_cutoff`).
This is the limit of the true normaliser after removing the same divergent
factor from every component whose precisions share the null space, which is
exactly the situation of the components of one factor's message; mixture
weights computed with it are then exact. ``eta`` must lie in the range of
``Lambda`` (otherwise the potential grows without bound); :func:`moments` and
:func:`log_density` need a proper (SPD) precision.

"""

import math
from typing import NamedTuple, Optional, Sequence, Tuple, Union

from enbp_core import spectral
from enbp_core.checks import check_finite, check_psd, check_same_batch, check_square
import torch

__all__ = [
    'Gaussian',
    'condition',
    'from_moments',
    'kl_divergence',
    'log_density',
    'log_normalizer',
    'log_normalizer_from_parts',
    'marginal',
    'moments',
    'product',
    'validate',
]

Index = Union[Sequence[int], torch.Tensor, slice]


class Gaussian(NamedTuple):
    """
    A batch of Gaussians in information form.

    Attributes
    ----------
    eta : torch.Tensor
        Information vector ``Lambda mu``, shape ``(..., n)``.
    precision : torch.Tensor
        Precision matrix ``Lambda``, shape ``(..., n, n)``, symmetric PSD.

    """

    eta: torch.Tensor
    precision: torch.Tensor

    @property
    def dim(self) -> int:
        """Return the dimension ``n`` of the variable."""
        return self.eta.shape[-1]


def validate(gaussian: Gaussian, name: str = 'gaussian') -> Gaussian:
    """Raise ``ValueError`` unless shapes agree, entries are finite and ``Lambda`` is PSD."""
    eta, precision = gaussian
    check_finite(eta, f'{name}.eta')
    check_square(precision, f'{name}.precision')
    if eta.shape[-1:] != precision.shape[-1:]:
        raise ValueError(
            f'{name}: eta has shape {tuple(eta.shape)} but precision has shape '
            f'{tuple(precision.shape)}; expected (..., n) and (..., n, n)')
    check_same_batch([eta.shape[:-1], precision.shape[:-2]], [f'{name}.eta', f'{name}.precision'])
    check_psd(precision, f'{name}.precision')
    return gaussian


def from_moments(mean: torch.Tensor, covariance: torch.Tensor, *,
                 check: bool = True) -> Gaussian:
    """
    Information form of ``N(mean, covariance)``; ``covariance`` must be SPD.

    Parameters
    ----------
    mean : torch.Tensor
        Shape ``(..., n)``.
    covariance : torch.Tensor
        Shape ``(..., n, n)``, symmetric positive definite.
    check : bool
        Validate the inputs first (raises ``ValueError``).

    """
    if check:
        check_finite(mean, 'mean')
        check_psd(covariance, 'covariance')
        if mean.shape[-1] != covariance.shape[-1]:
            raise ValueError(
                f'mean has shape {tuple(mean.shape)} but covariance has shape '
                f'{tuple(covariance.shape)}')
        if float(spectral.eigvalsh(covariance.detach()).min()) <= 0:
            raise ValueError('covariance is singular; a Gaussian in moment form needs it SPD')
    precision = spectral.spd_inverse(covariance)
    return Gaussian((precision @ mean[..., None])[..., 0], precision)


def moments(gaussian: Gaussian) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(..., n)`` and covariance ``(..., n, n)`` of proper Gaussians."""
    covariance = spectral.spd_inverse(gaussian.precision)
    return (covariance @ gaussian.eta[..., None])[..., 0], covariance


def product(*gaussians: Gaussian) -> Gaussian:
    """Product of potentials: parameters add (batch shapes broadcast)."""
    if not gaussians:
        raise ValueError('product needs at least one Gaussian')
    eta = gaussians[0].eta
    precision = gaussians[0].precision
    for other in gaussians[1:]:
        eta = eta + other.eta
        precision = precision + other.precision
    return Gaussian(eta, precision)


def _split(n: int, keep: Index, device) -> Tuple[torch.Tensor, torch.Tensor]:
    everything = torch.arange(n, device=device)
    kept = everything[keep] if isinstance(keep, slice) else torch.as_tensor(
        keep, dtype=torch.long, device=device)
    if kept.dim() != 1 or kept.numel() == 0 or kept.numel() > n:
        raise ValueError(f'keep must select between 1 and {n} coordinates, got {keep}')
    if bool(((kept < 0) | (kept >= n)).any()) or kept.unique().numel() != kept.numel():
        raise ValueError(f'keep must hold distinct indices in [0, {n}), got {kept.tolist()}')
    mask = torch.ones(n, dtype=torch.bool, device=device)
    mask[kept] = False
    return kept, everything[mask]


def marginal(gaussian: Gaussian, keep: Index) -> Gaussian:
    """
    Marginal over the coordinates ``keep`` (in the order given).

    Integrates out the rest by the Schur complement
    ``Lambda_aa - Lambda_ab Lambda_bb^+ Lambda_ba``. The pseudo-inverse makes
    this valid when ``Lambda_bb`` is singular, provided the joint precision is
    PSD (then ``Lambda_ab`` vanishes on the null space of ``Lambda_bb``) and
    ``eta_b`` lies in the range of ``Lambda_bb``: directions without information
    integrate as flat.
    """
    eta, precision = gaussian
    a, b = _split(eta.shape[-1], keep, eta.device)
    if b.numel() == 0:
        return Gaussian(eta[..., a], precision[..., a[:, None], a])
    lam_aa = precision[..., a[:, None], a]
    lam_ab = precision[..., a[:, None], b]
    lam_bb_pinv = spectral.pseudo_inverse(precision[..., b[:, None], b])
    gain = lam_ab @ lam_bb_pinv
    return Gaussian(eta[..., a] - (gain @ eta[..., b, None])[..., 0],
                    spectral.symmetrize(lam_aa - gain @ lam_ab.transpose(-1, -2)))


def condition(gaussian: Gaussian, observed: Index, value: torch.Tensor) -> Gaussian:
    """Condition on ``x[observed] = value``; returns a Gaussian over the other coordinates."""
    eta, precision = gaussian
    b, a = _split(eta.shape[-1], observed, eta.device)
    if a.numel() == 0:
        raise ValueError('condition: every coordinate is observed; nothing is left')
    lam_ab = precision[..., a[:, None], b]
    return Gaussian(eta[..., a] - (lam_ab @ value[..., None])[..., 0],
                    precision[..., a[:, None], a])


def log_normalizer(gaussian: Gaussian, rtol: Optional[float] = None) -> torch.Tensor:
    """
    ``log ∫ exp(-x'Λx/2 + η'x) dx``, shape ``(...)``; the range rule for improper ones.

    ``A = η'Λ⁺η / 2 + (r/2) log 2π - log pdet(Λ) / 2`` with ``r`` the numerical
    rank; for SPD ``Λ`` this is the exact normaliser.
    """
    eta, precision = gaussian
    pinv, log_pdet, rank = spectral.pseudo_inverse_and_log_determinant(precision, rtol)
    return log_normalizer_from_parts(eta, pinv, log_pdet, rank)


def log_normalizer_from_parts(eta: torch.Tensor, pinv: torch.Tensor, log_pdet: torch.Tensor,
                              rank: torch.Tensor) -> torch.Tensor:
    """
    :func:`log_normalizer` from a precision's precomputed spectral parts.

    For callers that evaluate many ``eta`` against one precision
    (``pinv, log_pdet, rank`` from
    :func:`enbp_core.spectral.pseudo_inverse_and_log_determinant`).
    """
    quadratic = (eta[..., None, :] @ pinv @ eta[..., None])[..., 0, 0]
    return 0.5 * (quadratic - log_pdet + rank.to(eta.dtype) * math.log(2 * math.pi))


def log_density(gaussian: Gaussian, x: torch.Tensor) -> torch.Tensor:
    """
    Normalised log density at points ``x`` of shape ``(..., n)``, shape ``(...)``.

    For an improper Gaussian this is the log potential minus the range-rule
    log normaliser, consistent with the weights of :func:`enbp_core.mixture.product`.
    """
    eta, precision = gaussian
    quadratic = (x[..., None, :] @ precision @ x[..., None])[..., 0, 0]
    return -0.5 * quadratic + (eta * x).sum(-1) - log_normalizer(gaussian)


def kl_divergence(p: Gaussian, q: Gaussian) -> torch.Tensor:
    """``KL(p || q)`` between proper Gaussians, shape ``(...)``."""
    mean_p, cov_p = moments(p)
    mean_q, cov_q = moments(q)
    diff = (mean_q - mean_p)[..., None]
    trace = (q.precision * cov_p).sum((-1, -2))
    mahalanobis = (diff.transpose(-1, -2) @ q.precision @ diff)[..., 0, 0]
    logdets = spectral.spd_logdet(p.precision) - spectral.spd_logdet(q.precision)
    return 0.5 * (trace + mahalanobis - p.dim + logdets)
