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
Precision matrices synthesised from equivariant scalars and vectors.

A rank-2 tensor output is never produced directly: the network emits a scalar
``s`` (l=0) and vectors ``v_1 .. v_R`` (l=1) and the precision is their
equivariant outer-product combination

    ``Lambda = softplus(s) I + sum_r v_r v_r^T``,

which transforms as ``R Lambda R^T`` whenever each ``v_r`` transforms as
``R v_r`` and ``s`` is invariant (``R I R^T = I``). It is then conditioned by
clamping its eigenvalues into ``[low, high]`` through
:func:`enbp_core.spectral.condition_spd`, whose Daleckii–Krein backward stays
exact when eigenvalues coincide, as they do for the isotropic part: with
``R = 2``, one direction always keeps the eigenvalue ``softplus(s)`` twice or,
for ``v_r = 0``, three times.
"""

from typing import Optional

from enbp_core import spectral
import torch
import torch.nn.functional as functional

__all__ = ['synthesise_precision']


def synthesise_precision(scalar: torch.Tensor, vectors: torch.Tensor, low: float,
                         high: float, log_scale: Optional[torch.Tensor] = None) -> torch.Tensor:
    """
    Return ``clamp_[low, high](exp(g) (softplus(s) I + sum_r v_r v_r^T))``.

    Parameters
    ----------
    scalar : torch.Tensor
        ``(...)`` invariant ``s``.
    vectors : torch.Tensor
        ``(..., R, 3)`` the vectors ``v_r``.
    low, high : float
        Eigenvalue bounds, ``0 < low <= high``.
    log_scale : torch.Tensor, optional
        ``(...)`` invariant ``g``: an overall scale, so that precisions spanning
        decades need no large vectors (zero if omitted).

    Returns
    -------
    torch.Tensor
        ``(..., 3, 3)`` symmetric positive definite, eigenvalues in ``[low, high]``.

    """
    eye = torch.eye(3, dtype=vectors.dtype, device=vectors.device)
    outer = (vectors[..., :, :, None] * vectors[..., :, None, :]).sum(-3)
    raw = functional.softplus(scalar)[..., None, None] * eye + outer
    if log_scale is not None:
        raw = log_scale.exp()[..., None, None] * raw
    # Exactly symmetric (Q f(L) Q^T is symmetric only to round-off).
    return spectral.symmetrize(spectral.condition_spd(raw, low, high))
