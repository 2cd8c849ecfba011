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
Differentiable spectral calculus of symmetric matrices.

A *spectral function* maps a symmetric ``A = Q diag(lam) Q^T`` to
``f(A) = Q diag(f(lam)) Q^T``. Its derivative is given by the Daleckii–Krein
theorem,

    ``d f(A)[E] = Q (F ∘ (Q^T E Q)) Q^T``,   ``F_ij = f[lam_i, lam_j]``,

where ``f[a, b] = (f(a) - f(b)) / (a - b)`` is the first divided difference and
``f[a, a] = f'(a)``. Unlike back-propagating through ``torch.linalg.eigh``
(whose eigenvector gradient has ``1 / (lam_i - lam_j)`` factors), this stays
exact when eigenvalues repeat, which for ENBP is the common case: an isotropic
precision ``s I`` has one eigenvalue of multiplicity three.

Every divided difference here is evaluated in a closed form without
cancellation (e.g. ``sqrt[a, b] = 1 / (sqrt(a) + sqrt(b))``), so the backward
is accurate for nearly repeated eigenvalues too.

Functions of positive-definite matrices (``spd_*``) assume their argument is
SPD; pass it through :func:`condition_spd` first when it may not be.
All functions batch over leading dimensions and keep dtype and device.
"""

import abc
from typing import Optional

import torch
from torch.autograd.function import once_differentiable

__all__ = [
    'condition_spd',
    'eigvalsh',
    'log_pseudo_determinant',
    'matrix_function',
    'matrix_function_and_eigenvalues',
    'pseudo_inverse',
    'pseudo_inverse_and_log_determinant',
    'rank_cutoff',
    'spd_inverse',
    'spd_inverse_sqrt',
    'spd_log',
    'spd_logdet',
    'spd_sqrt',
    'symmetrize',
]


def symmetrize(matrix: torch.Tensor) -> torch.Tensor:
    """Return ``(A + A^T) / 2``."""
    return 0.5 * (matrix + matrix.transpose(-1, -2))


class SpectralMap(abc.ABC):
    """
    A scalar function with its first divided difference, for :func:`matrix_function`.

    Subclasses implement :meth:`value` and :meth:`divided_difference`; the
    latter must return ``f'(a)`` where ``a == b``.
    """

    @abc.abstractmethod
    def value(self, lam: torch.Tensor) -> torch.Tensor:
        """Return ``f(lam)`` elementwise."""

    @abc.abstractmethod
    def divided_difference(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return ``f[a, b]`` elementwise (broadcasting)."""

    def bind(self, lam: torch.Tensor) -> 'SpectralMap':
        """Specialise to the eigenvalues ``lam`` (shape ``(..., n)``) of the argument."""
        return self


class _Inverse(SpectralMap):
    """``1 / lam``; ``f[a, b] = -1 / (a b)``."""

    def value(self, lam):
        return 1.0 / lam

    def divided_difference(self, a, b):
        return -1.0 / (a * b)


class _Sqrt(SpectralMap):
    """``sqrt(lam)``; ``f[a, b] = 1 / (sqrt(a) + sqrt(b))``."""

    def value(self, lam):
        return lam.sqrt()

    def divided_difference(self, a, b):
        return 1.0 / (a.sqrt() + b.sqrt())


class _InverseSqrt(SpectralMap):
    """``1 / sqrt(lam)``; ``f[a, b] = -1 / (sqrt(ab) (sqrt(a) + sqrt(b)))``."""

    def value(self, lam):
        return lam.rsqrt()

    def divided_difference(self, a, b):
        ra, rb = a.sqrt(), b.sqrt()
        return -1.0 / (ra * rb * (ra + rb))


class _Log(SpectralMap):
    """``log(lam)``; ``f[a, b]`` through ``log1p`` of the ratio."""

    def value(self, lam):
        return lam.log()

    def divided_difference(self, a, b):
        # log[a, b] = log1p((a - b) / b) / (a - b), written as a function of the
        # ratio so that it is exact at a == b and free of cancellation near it.
        u = (a - b) / b
        small = u.abs() < 1e-4
        u_safe = torch.where(small, torch.ones_like(u), u)
        series = (1 - u / 2 + u * u / 3 - u * u * u / 4) / b
        return torch.where(small, series, torch.log1p(u_safe) / (a - b).where(~small, b))


class _Clamp(SpectralMap):
    """``clamp(lam, low, high)``; unit slope inside, zero outside."""

    def __init__(self, low: Optional[float], high: Optional[float]):
        self.low, self.high = low, high

    def value(self, lam):
        return lam.clamp(self.low, self.high)

    def divided_difference(self, a, b):
        fa, fb = self.value(a), self.value(b)
        diff = a - b
        same = diff == 0
        inside = torch.ones_like(a, dtype=torch.bool)
        if self.low is not None:
            inside = inside & (a > self.low)
        if self.high is not None:
            inside = inside & (a < self.high)
        return torch.where(same, inside.to(a.dtype),
                           (fa - fb) / torch.where(same, torch.ones_like(diff), diff))


class _PseudoInverse(SpectralMap):
    """``1 / lam`` above the rank cut-off, 0 below it (the Moore–Penrose inverse)."""

    def __init__(self, rtol: Optional[float], cutoff: Optional[torch.Tensor] = None):
        self.rtol, self.cutoff = rtol, cutoff

    def bind(self, lam):
        return _PseudoInverse(self.rtol, rank_cutoff(lam, self.rtol))

    def _kept(self, lam, axis):
        return lam > self.cutoff.unsqueeze(-1).unsqueeze(axis)

    def value(self, lam):
        kept = lam > self.cutoff.unsqueeze(-1)
        return torch.where(kept, 1.0 / torch.where(kept, lam, torch.ones_like(lam)), 0.0)

    def divided_difference(self, a, b):
        # a: (..., n, 1), b: (..., 1, n). Kept-kept pairs: -1/(ab); a kept
        # eigenvalue against a dropped one: f(a)/a, the range-null block of the
        # derivative of A^+ at constant rank; dropped-dropped pairs: 0.
        ka, kb = self._kept(a, -1), self._kept(b, -2)
        sa = torch.where(ka, a, torch.ones_like(a))
        sb = torch.where(kb, b, torch.ones_like(b))
        zero = torch.zeros((), dtype=a.dtype, device=a.device)
        range_null = torch.where(kb, 1.0 / (sb * sb), zero)
        return torch.where(ka & kb, -1.0 / (sa * sb),
                           torch.where(ka, 1.0 / (sa * sa), range_null))


class _MatrixFunction(torch.autograd.Function):
    """
    ``(Q f(lam) Q^T, lam)`` from one ``eigh``, with the Daleckii–Krein backward.

    Returning the eigenvalues too lets callers that need both (a log
    normaliser needs ``A^+`` and ``log pdet A``) pay for one decomposition.
    """

    @staticmethod
    def forward(ctx, matrix, spectral_map):
        lam, q = torch.linalg.eigh(symmetrize(matrix))
        spectral_map = spectral_map.bind(lam)
        out = (q * spectral_map.value(lam).unsqueeze(-2)) @ q.transpose(-1, -2)
        ctx.spectral_map = spectral_map
        ctx.save_for_backward(lam, q)
        return out, lam

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_lam):
        lam, q = ctx.saved_tensors
        divided = ctx.spectral_map.divided_difference(lam.unsqueeze(-1), lam.unsqueeze(-2))
        inner = divided * (q.transpose(-1, -2) @ symmetrize(grad_out) @ q)
        inner = inner + torch.diag_embed(grad_lam)
        return q @ inner @ q.transpose(-1, -2), None


class _Eigvalsh(torch.autograd.Function):
    """
    Eigenvalues of a symmetric matrix, ascending, with gradient ``Q diag(g) Q^T``.

    The gradient is exact wherever the loss is a symmetric function of the
    eigenvalues, repeated ones included (then ``Q`` is not unique but
    ``Q diag(g) Q^T`` is, because ``g`` is constant on each eigenspace).
    """

    @staticmethod
    def forward(ctx, matrix):
        lam, q = torch.linalg.eigh(symmetrize(matrix))
        ctx.save_for_backward(q)
        return lam

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_lam):
        (q,) = ctx.saved_tensors
        return (q * grad_lam.unsqueeze(-2)) @ q.transpose(-1, -2)


def matrix_function(matrix: torch.Tensor, spectral_map: SpectralMap) -> torch.Tensor:
    """
    Apply a spectral function to symmetric matrices, shape ``(..., n, n)``.

    Only the symmetric part of ``matrix`` is used; the gradient returned is
    symmetric.
    """
    return _MatrixFunction.apply(matrix, spectral_map)[0]


def matrix_function_and_eigenvalues(matrix: torch.Tensor, spectral_map: SpectralMap):
    """
    Return ``(f(A), lam)`` from a single decomposition, both differentiable.

    ``lam`` (shape ``(..., n)``, ascending) has the gradient of :func:`eigvalsh`.
    """
    return _MatrixFunction.apply(matrix, spectral_map)


def eigvalsh(matrix: torch.Tensor) -> torch.Tensor:
    """Ascending eigenvalues of symmetric matrices, shape ``(..., n)``."""
    return _Eigvalsh.apply(matrix)


def spd_inverse(matrix: torch.Tensor) -> torch.Tensor:
    """Inverse of SPD matrices."""
    return matrix_function(matrix, _Inverse())


def spd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of SPD (or PSD) matrices."""
    return matrix_function(matrix, _Sqrt())


def spd_inverse_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric inverse square root of SPD matrices."""
    return matrix_function(matrix, _InverseSqrt())


def spd_log(matrix: torch.Tensor) -> torch.Tensor:
    """Principal matrix logarithm of SPD matrices."""
    return matrix_function(matrix, _Log())


def spd_logdet(matrix: torch.Tensor) -> torch.Tensor:
    """``log det A`` of SPD matrices, shape ``(...)``; its gradient is ``A^{-1}``."""
    return eigvalsh(matrix).log().sum(-1)


def condition_spd(matrix: torch.Tensor, min_eigenvalue: float,
                  max_eigenvalue: Optional[float] = None) -> torch.Tensor:
    """
    Clamp the eigenvalues of symmetric matrices into ``[min, max]``.

    This is the projection of a symmetric matrix onto the set of SPD matrices
    with bounded condition number (in the Frobenius norm). Its gradient is the
    Daleckii–Krein derivative of the clamp: unit inside the interval, zero for
    clamped eigenvalues.
    """
    if not min_eigenvalue > 0:
        raise ValueError(f'min_eigenvalue must be positive, got {min_eigenvalue}')
    if max_eigenvalue is not None and not max_eigenvalue >= min_eigenvalue:
        raise ValueError(
            f'max_eigenvalue ({max_eigenvalue}) must be >= min_eigenvalue ({min_eigenvalue})')
    return matrix_function(matrix, _Clamp(min_eigenvalue, max_eigenvalue))


def rank_cutoff(eigenvalues: torch.Tensor, rtol: Optional[float] = None) -> torch.Tensor:
    """
    Eigenvalue cut-off below which a PSD matrix counts as singular.

    ``rtol * max(|lam|_max, tiny)`` per matrix, shape ``(...)`` from
    eigenvalues of shape ``(..., n)``. The default ``rtol = 100 * n * eps`` is
    NumPy's ``matrix_rank`` rule with a safety factor of a hundred: messages
    that should be exactly singular carry round-off of a few hundred ulps of
    their largest eigenvalue after a few products, and that must count as
    zero (otherwise a normaliser picks up ``-log(1e-13)`` terms).
    """
    n = eigenvalues.shape[-1]
    finfo = torch.finfo(eigenvalues.dtype)
    rtol = 100 * n * finfo.eps if rtol is None else rtol
    return rtol * eigenvalues.detach().abs().amax(-1).clamp_min(finfo.tiny)


def pseudo_inverse(matrix: torch.Tensor, rtol: Optional[float] = None) -> torch.Tensor:
    """
    Moore–Penrose inverse of symmetric PSD matrices (the inverse if SPD).

    Eigenvalues at or below :func:`rank_cutoff` are treated as zero.
    Differentiable at constant rank.
    """
    return matrix_function(matrix, _PseudoInverse(rtol))


def log_pseudo_determinant(matrix: torch.Tensor, rtol: Optional[float] = None):
    """
    Sum of ``log lam`` over the eigenvalues above :func:`rank_cutoff`, and their count.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``log pdet(A)`` of shape ``(...)`` (``log det A`` for SPD ``A``), and the
        numerical rank, an integer tensor of shape ``(...)``.

    """
    return _log_pdet_from_eigenvalues(eigvalsh(matrix), rtol)


def pseudo_inverse_and_log_determinant(matrix: torch.Tensor, rtol: Optional[float] = None):
    """Return ``(A^+, log pdet A, rank)`` of symmetric PSD matrices from one decomposition."""
    pinv, lam = matrix_function_and_eigenvalues(matrix, _PseudoInverse(rtol))
    log_pdet, rank = _log_pdet_from_eigenvalues(lam, rtol)
    return pinv, log_pdet, rank


def _log_pdet_from_eigenvalues(lam: torch.Tensor, rtol: Optional[float]):
    kept = lam > rank_cutoff(lam, rtol).unsqueeze(-1)
    safe = torch.where(kept, lam, torch.ones_like(lam))
    return safe.log().sum(-1), kept.sum(-1)
