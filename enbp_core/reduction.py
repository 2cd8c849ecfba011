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
Greedy mixture reduction by Runnalls' KL upper bound.

Merging components ``i`` and ``j`` of a mixture into their moment-matched
Gaussian ``(w_ij, mu_ij, Sigma_ij)``,

    ``w_ij = w_i + w_j``,
    ``mu_ij = (w_i mu_i + w_j mu_j) / w_ij``,
    ``Sigma_ij = (w_i Sigma_i + w_j Sigma_j) / w_ij
                 + w_i w_j / w_ij^2 (mu_i - mu_j)(mu_i - mu_j)^T``,

preserves the mixture's mean and covariance, and changes the mixture by at
most (Runnalls 2007, Theorem 3)

    ``B(i, j) = [w_ij log det Sigma_ij - w_i log det Sigma_i - w_j log det Sigma_j] / 2``

in KL divergence. :func:`reduce` merges the pair of smallest ``B`` until at
most ``max_components`` remain, after pruning negligible weights. ``B`` is
built from weights and determinants only, so it is invariant under rigid
motions and reduction picks the same merges in every frame: it commutes with
SE(3).

The loop runs over merge steps (at most ``K - max_components``), never over
the batch; after a merge only the merged component's row of costs is
recomputed.
"""

from typing import List, NamedTuple, Tuple

from enbp_core import gaussian as gauss
from enbp_core import spectral
from enbp_core.mixture import component_moments, Mixture
import torch

__all__ = ['Reduction', 'merge_moments', 'reduce', 'runnalls_cost']


class Reduction(NamedTuple):
    """
    The result of :func:`reduce`.

    Attributes
    ----------
    mixture : Mixture
        At most ``max_components`` slots, heaviest first, absent slots (weight
        ``-inf``) last; the total mass equals the input's.
    merges : list of (torch.Tensor, torch.Tensor)
        For each merge step, the slot indices ``(i, j)`` merged in every batch
        element (``j`` into ``i``, ``i < j``), ``-1`` where that element did not
        merge at this step; shapes ``(...)``.

    """

    mixture: Mixture
    merges: List[Tuple[torch.Tensor, torch.Tensor]]


def merge_moments(w_i, mu_i, cov_i, w_j, mu_j, cov_j):
    """
    Moment-preserving merge of weighted Gaussians, broadcasting over leading dimensions.

    Parameters
    ----------
    w_i, w_j : torch.Tensor
        Weights ``(...)``, ``w_i + w_j > 0``.
    mu_i, mu_j : torch.Tensor
        Means ``(..., n)``.
    cov_i, cov_j : torch.Tensor
        Covariances ``(..., n, n)``.

    Returns
    -------
    (torch.Tensor, torch.Tensor, torch.Tensor)
        Weight, mean and covariance of the merged Gaussian.

    """
    w = w_i + w_j
    a, b = (w_i / w)[..., None], (w_j / w)[..., None]
    mean = a * mu_i + b * mu_j
    diff = mu_i - mu_j
    cov = (a[..., None] * cov_i + b[..., None] * cov_j
           + (a * b)[..., None] * diff[..., :, None] * diff[..., None, :])
    return w, mean, spectral.symmetrize(cov)


def _logdet(cov: torch.Tensor) -> torch.Tensor:
    chol, _ = torch.linalg.cholesky_ex(cov)
    return 2 * chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def runnalls_cost(w_i, mu_i, cov_i, logdet_i, w_j, mu_j, cov_j, logdet_j) -> torch.Tensor:
    """
    Runnalls' upper bound ``B(i, j)`` on the KL cost of merging ``i`` and ``j``.

    Arguments are weights ``(...)``, means ``(..., n)``, covariances
    ``(..., n, n)`` and their log determinants ``(...)``; the result has shape
    ``(...)``.
    """
    w, _, cov = merge_moments(w_i, mu_i, cov_i, w_j, mu_j, cov_j)
    return 0.5 * (w * _logdet(cov) - w_i * logdet_i - w_j * logdet_j)


def _pair_costs(w, mu, cov, logdet, rows: torch.Tensor) -> torch.Tensor:
    """Costs of merging each component in ``rows`` (shape ``(..., R)``) with every component."""
    def pick(t, extra):
        index = rows.reshape(rows.shape + (1,) * extra)
        return torch.take_along_dim(t, index, dim=rows.dim() - 1)
    return runnalls_cost(
        pick(w, 0)[..., :, None], pick(mu, 1)[..., :, None, :], pick(cov, 2)[..., :, None, :, :],
        pick(logdet, 0)[..., :, None],
        w[..., None, :], mu[..., None, :, :], cov[..., None, :, :, :], logdet[..., None, :])


def reduce(mixture: Mixture, max_components: int, prune_below: float = 1e-6) -> Reduction:
    """
    Reduce every mixture of a batch to at most ``max_components`` components.

    Parameters
    ----------
    mixture : Mixture
        ``K`` slots over ``R^n`` with proper components, batch shape ``(...)``.
    max_components : int
        ``K_max >= 1``.
    prune_below : float
        Components whose normalised weight is below this are dropped first (the
        heaviest one never is); the rest are rescaled to keep the total mass.

    Returns
    -------
    Reduction
        The reduced mixture, ``min(K, K_max)`` slots, and the merge history.

    """
    if int(max_components) != max_components or max_components < 1:
        raise ValueError(f'max_components must be a positive integer, got {max_components}')
    if not 0 <= prune_below < 1:
        raise ValueError(f'prune_below must be in [0, 1), got {prune_below}')
    log_weights, eta, precision = mixture
    num = log_weights.shape[-1]
    total = torch.logsumexp(log_weights, dim=-1, keepdim=True)
    w = torch.exp(log_weights - total)
    heaviest = torch.nn.functional.one_hot(w.argmax(-1), num).bool()
    w = torch.where((w >= prune_below) | heaviest, w, torch.zeros_like(w))
    w = w / w.sum(-1, keepdim=True)
    active = w > 0

    mu, cov = component_moments(mixture)
    logdet = _logdet(cov)
    merged = torch.zeros_like(active)
    infinity = torch.full((), float('inf'), dtype=w.dtype, device=w.device)
    valid_pair = active[..., :, None] & active[..., None, :] & torch.ones(
        num, num, dtype=torch.bool, device=w.device).triu(1)
    costs = torch.where(valid_pair, _pair_costs(w, mu, cov, logdet, _all_rows(w)), infinity)

    merges = []
    for _ in range(max(num - max_components, 0)):
        needs = active.sum(-1) > max_components
        if not bool(needs.any()):
            break
        flat = costs.flatten(-2).argmin(-1)
        i, j = flat // num, flat % num
        w_i, w_j = _take(w, i), _take(w, j)
        w_new, mu_new, cov_new = merge_moments(
            w_i, _take(mu, i), _take(cov, i), w_j, _take(mu, j), _take(cov, j))
        slot_i = torch.nn.functional.one_hot(i, num).bool() & needs[..., None]
        slot_j = torch.nn.functional.one_hot(j, num).bool() & needs[..., None]
        w = torch.where(slot_i, w_new[..., None], torch.where(slot_j, torch.zeros_like(w), w))
        mu = torch.where(slot_i[..., None], mu_new[..., None, :], mu)
        cov = torch.where(slot_i[..., None, None], cov_new[..., None, :, :], cov)
        logdet = torch.where(slot_i, _logdet(cov_new)[..., None], logdet)
        active = active & ~slot_j
        merged = merged | slot_i
        # Only row/column i changed: recompute it, retire j's row and column.
        row = _pair_costs(w, mu, cov, logdet, i[..., None])[..., 0, :]
        lower = torch.arange(num, device=w.device) < i[..., None]
        row_valid = active & active.gather(-1, i[..., None]) & (torch.arange(
            num, device=w.device) != i[..., None])
        row = torch.where(row_valid, row, infinity)
        as_row = slot_i[..., :, None] & ~lower[..., None, :]
        as_col = slot_i[..., None, :] & lower[..., :, None]
        costs = torch.where(as_row, row[..., None, :], costs)
        costs = torch.where(as_col, row[..., :, None], costs)
        retired = slot_j[..., :, None] | slot_j[..., None, :]
        costs = torch.where(retired, infinity, costs)
        no = torch.full_like(i, -1)
        merges.append((torch.where(needs, i, no), torch.where(needs, j, no)))

    return Reduction(_compact(w, mu, cov, merged, mixture, total, max_components), merges)


def _all_rows(w: torch.Tensor) -> torch.Tensor:
    num = w.shape[-1]
    return torch.arange(num, device=w.device).expand(w.shape)


def _take(t: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Pick slot ``index`` (shape ``(...)``) along the component axis of ``t``."""
    axis = index.dim()
    expanded = index.reshape(index.shape + (1,) * (t.dim() - axis))
    return torch.take_along_dim(t, expanded, dim=axis).squeeze(axis)


def _compact(w, mu, cov, merged, original: Mixture, total, max_components) -> Mixture:
    """
    Sort slots heaviest first, keep ``K_max``, return to information form.

    Slots that were never merged keep their original ``(eta, Lambda)`` exactly;
    absent slots copy the heaviest component's parameters (so that they stay
    finite and move correctly under SE(3)) with weight ``-inf``.
    """
    keep = min(w.shape[-1], max_components)
    order = torch.sort(w, dim=-1, descending=True, stable=True).indices[..., :keep]
    w = w.gather(-1, order)
    merged = merged.gather(-1, order)
    mu = torch.take_along_dim(mu, order[..., None], -2)
    cov = torch.take_along_dim(cov, order[..., None, None], -3)
    eta0 = torch.take_along_dim(original.eta, order[..., None], -2)
    precision0 = torch.take_along_dim(original.precision, order[..., None, None], -3)
    eta_m, precision_m = gauss.from_moments(mu, cov, check=False)
    eta = torch.where(merged[..., None], eta_m, eta0)
    precision = torch.where(merged[..., None, None], precision_m, precision0)
    present = w > 0
    eta = torch.where(present[..., None], eta, eta[..., :1, :])
    precision = torch.where(present[..., None, None], precision, precision[..., :1, :, :])
    log_weights = torch.where(present, w.log() + total, torch.full_like(w, float('-inf')))
    return Mixture(log_weights, eta, precision)
