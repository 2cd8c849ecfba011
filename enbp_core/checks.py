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
Validators for tensors that enter ``enbp_core``.

Each ``check_*`` function raises :class:`ValueError` with a message naming the
argument and the defect (shape, non-finite entries, asymmetry, negative
eigenvalues), and returns nothing. They are meant for the boundary of the
library: where data arrives from a user, a file or a ROS message. Inner loops
call the kernels directly.
"""

from typing import Optional, Sequence

import torch

__all__ = [
    'check_finite',
    'check_psd',
    'check_same_batch',
    'check_square',
    'check_symmetric',
    'check_vector',
    'symmetry_tolerance',
]


def symmetry_tolerance(matrix: torch.Tensor) -> float:
    """
    Absolute tolerance used for symmetry and PSD checks of ``matrix``.

    It is ``sqrt(eps) * max(1, max|matrix|)`` for the matrix dtype, loose enough
    for matrices assembled in floating point, tight enough to catch a wrong
    transpose or a sign error.
    """
    eps = torch.finfo(matrix.dtype).eps if matrix.is_floating_point() else 1e-7
    scale = 1.0
    if matrix.numel() > 0:
        scale = max(1.0, float(matrix.detach().abs().max()))
    return (eps ** 0.5) * scale


def check_finite(tensor: torch.Tensor, name: str) -> None:
    """Raise if ``tensor`` holds NaN or infinite entries."""
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f'{name} must be a torch.Tensor, got {type(tensor).__name__}')
    if not tensor.is_floating_point():
        raise ValueError(f'{name} must have a floating dtype, got {tensor.dtype}')
    if not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f'{name} has {bad} non-finite (NaN or inf) entries')


def check_vector(tensor: torch.Tensor, name: str, dim: Optional[int] = None) -> None:
    """Raise unless ``tensor`` has shape ``(..., dim)`` and finite entries."""
    check_finite(tensor, name)
    if tensor.dim() < 1:
        raise ValueError(f'{name} must have at least one dimension, got a scalar')
    if dim is not None and tensor.shape[-1] != dim:
        raise ValueError(f'{name} must have shape (..., {dim}), got {tuple(tensor.shape)}')


def check_square(tensor: torch.Tensor, name: str, dim: Optional[int] = None) -> None:
    """Raise unless ``tensor`` has shape ``(..., n, n)`` (``n == dim`` if given)."""
    check_finite(tensor, name)
    if tensor.dim() < 2 or tensor.shape[-1] != tensor.shape[-2]:
        raise ValueError(f'{name} must have shape (..., n, n), got {tuple(tensor.shape)}')
    if dim is not None and tensor.shape[-1] != dim:
        raise ValueError(
            f'{name} must have shape (..., {dim}, {dim}), got {tuple(tensor.shape)}')


def check_symmetric(tensor: torch.Tensor, name: str, atol: Optional[float] = None) -> None:
    """Raise unless ``tensor`` is a batch of finite symmetric matrices."""
    check_square(tensor, name)
    atol = symmetry_tolerance(tensor) if atol is None else atol
    asymmetry = (tensor - tensor.transpose(-1, -2)).abs()
    if asymmetry.numel() and float(asymmetry.max()) > atol:
        raise ValueError(
            f'{name} is not symmetric: max |A - A^T| = {float(asymmetry.max()):.3g} '
            f'> tolerance {atol:.3g}')


def check_psd(tensor: torch.Tensor, name: str, atol: Optional[float] = None) -> None:
    """
    Raise unless ``tensor`` is symmetric positive semi-definite (within ``atol``).

    Negative off-diagonal entries are legal; only the eigenvalues are checked.
    """
    check_symmetric(tensor, name, atol)
    if tensor.numel() == 0:
        return
    atol = symmetry_tolerance(tensor) if atol is None else atol
    sym = 0.5 * (tensor + tensor.transpose(-1, -2))
    smallest = torch.linalg.eigvalsh(sym.detach()).min()
    if float(smallest) < -atol:
        raise ValueError(
            f'{name} is not positive semi-definite: smallest eigenvalue '
            f'{float(smallest):.3g} < -{atol:.3g}')


def check_same_batch(shapes: Sequence[torch.Size], names: Sequence[str]) -> None:
    """Raise unless the given batch shapes broadcast together."""
    try:
        torch.broadcast_shapes(*shapes)
    except RuntimeError:
        listed = ', '.join(f'{n}: {tuple(s)}' for n, s in zip(names, shapes))
        raise ValueError(f'batch shapes do not broadcast ({listed})') from None
