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
Rigid motions of 3-D space and their action on states and Gaussians.

A rigid motion ``g = (R, t)`` maps a point ``p`` to ``R p + t`` and a free
vector (velocity, offset) ``v`` to ``R v``. Agent states are stacks of 3-D
blocks described by a *layout* string: ``'p'`` for a block that is a point
(moves with ``R`` and ``t``) and ``'v'`` for a block that is a vector (moves
with ``R`` only). The planning state ``x = (p, v)`` has layout ``'pv'``.

On a state of layout ``L`` the motion acts affinely, ``x -> S x + tau``, with
``S = blockdiag(R, ..., R)`` and ``tau`` holding ``t`` in the point blocks.
Consequently a Gaussian in moment form maps as ``mu -> S mu + tau``,
``Sigma -> S Sigma S^T``, and in information form as

    ``Lambda -> S Lambda S^T``,   ``eta -> S eta + (S Lambda S^T) tau``,

which holds for singular (improper) precisions too. Quaternions follow ROS
order ``(x, y, z, w)``.

All functions batch over leading dimensions, which broadcast between the
motion and its argument.
"""

from typing import NamedTuple, Optional, Tuple

import torch

__all__ = [
    'RigidMotion',
    'matrix_to_quaternion',
    'quaternion_to_matrix',
    'random_rigid_motion',
    'random_rotation',
    'state_action',
]


def quaternion_to_matrix(quaternion: torch.Tensor) -> torch.Tensor:
    """
    Rotation matrices from quaternions in ROS order ``(x, y, z, w)``.

    Parameters
    ----------
    quaternion : torch.Tensor
        Shape ``(..., 4)``. Normalised here; validating that the input was a
        unit quaternion is the caller's job (see ``enbp_ros`` input checks).

    Returns
    -------
    torch.Tensor
        Shape ``(..., 3, 3)``, proper orthogonal.

    """
    q = quaternion / quaternion.norm(dim=-1, keepdim=True)
    x, y, z, w = q.unbind(-1)
    rows = (
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    )
    return torch.stack(rows, dim=-1).unflatten(-1, (3, 3))


def matrix_to_quaternion(rotation: torch.Tensor) -> torch.Tensor:
    """
    Quaternions ``(x, y, z, w)`` with ``w >= 0`` from rotation matrices.

    Uses the candidate with the largest squared component (Shepperd's method),
    so it is accurate for every rotation, including half turns.

    Parameters
    ----------
    rotation : torch.Tensor
        Shape ``(..., 3, 3)``, proper orthogonal.

    Returns
    -------
    torch.Tensor
        Shape ``(..., 4)``, unit norm.

    """
    m = rotation
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Four times the squares of (x, y, z, w), each from the trace identities.
    squares = torch.stack([
        1 + m00 - m11 - m22,
        1 - m00 + m11 - m22,
        1 - m00 - m11 + m22,
        1 + m00 + m11 + m22,
    ], dim=-1)
    sxy = m[..., 0, 1] + m[..., 1, 0]
    sxz = m[..., 0, 2] + m[..., 2, 0]
    syz = m[..., 1, 2] + m[..., 2, 1]
    dzy = m[..., 2, 1] - m[..., 1, 2]
    dxz = m[..., 0, 2] - m[..., 2, 0]
    dyx = m[..., 1, 0] - m[..., 0, 1]
    # Row k holds 4 * q_k * q, read off the matrix given q_k.
    candidates = torch.stack([
        torch.stack([squares[..., 0], sxy, sxz, dzy], dim=-1),
        torch.stack([sxy, squares[..., 1], syz, dxz], dim=-1),
        torch.stack([sxz, syz, squares[..., 2], dyx], dim=-1),
        torch.stack([dzy, dxz, dyx, squares[..., 3]], dim=-1),
    ], dim=-2)
    best = squares.argmax(dim=-1, keepdim=True)
    chosen = torch.take_along_dim(candidates, best[..., None], dim=-2).squeeze(-2)
    q = chosen / chosen.norm(dim=-1, keepdim=True)
    return torch.where(q[..., 3:] < 0, -q, q)


def random_rotation(*shape: int, generator: Optional[torch.Generator] = None,
                    dtype: Optional[torch.dtype] = None,
                    device: Optional[torch.device] = None) -> torch.Tensor:
    """
    Draw rotation matrices uniformly (Haar measure) on SO(3).

    Normalised standard-normal quaternions are uniform on the 3-sphere, and so
    their rotations are uniform on SO(3).

    Returns
    -------
    torch.Tensor
        Shape ``(*shape, 3, 3)``.

    """
    q = torch.randn(*shape, 4, generator=generator, dtype=dtype, device=device)
    return quaternion_to_matrix(q)


def random_rigid_motion(*shape: int, translation_scale: float = 1.0,
                        generator: Optional[torch.Generator] = None,
                        dtype: Optional[torch.dtype] = None,
                        device: Optional[torch.device] = None) -> 'RigidMotion':
    """Draw rigid motions: uniform rotations, normal translations of ``translation_scale``."""
    rotation = random_rotation(*shape, generator=generator, dtype=dtype, device=device)
    translation = translation_scale * torch.randn(
        *shape, 3, generator=generator, dtype=dtype, device=device)
    return RigidMotion(rotation, translation)


def state_action(motion: 'RigidMotion', layout: str = 'pv') -> Tuple[torch.Tensor, torch.Tensor]:
    """
    Linear part ``S`` and offset ``tau`` of a motion acting on states of ``layout``.

    Parameters
    ----------
    motion : RigidMotion
        Batch shape ``B``.
    layout : str
        One character per 3-D block: ``'p'`` (point) or ``'v'`` (vector).

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        ``S`` of shape ``(*B, 3n, 3n)`` and ``tau`` of shape ``(*B, 3n)``,
        where ``n = len(layout)``.

    """
    if not layout or set(layout) - {'p', 'v'}:
        raise ValueError(f"layout must be a non-empty string of 'p' and 'v', got {layout!r}")
    rotation, translation = motion
    n = len(layout)
    eye = torch.eye(n, dtype=rotation.dtype, device=rotation.device)
    linear = torch.einsum('ab,...ij->...aibj', eye, rotation).reshape(
        *rotation.shape[:-2], 3 * n, 3 * n)
    zero = torch.zeros_like(translation)
    offset = torch.cat([translation if kind == 'p' else zero for kind in layout], dim=-1)
    return linear, offset


class RigidMotion(NamedTuple):
    """
    A batch of rigid motions ``x -> R x + t``.

    Attributes
    ----------
    rotation : torch.Tensor
        Shape ``(..., 3, 3)``, proper orthogonal.
    translation : torch.Tensor
        Shape ``(..., 3)``.

    """

    rotation: torch.Tensor
    translation: torch.Tensor

    def inverse(self) -> 'RigidMotion':
        """Return the motion ``x -> R^T (x - t)``."""
        rt = self.rotation.transpose(-1, -2)
        return RigidMotion(rt, -(rt @ self.translation[..., None])[..., 0])

    def compose(self, other: 'RigidMotion') -> 'RigidMotion':
        """Return ``self ∘ other``: first ``other``, then ``self``."""
        rotation = self.rotation @ other.rotation
        translation = (self.rotation @ other.translation[..., None])[..., 0] + self.translation
        return RigidMotion(rotation, translation)

    def points(self, points: torch.Tensor) -> torch.Tensor:
        """Move points, shape ``(..., 3)``."""
        return (self.rotation @ points[..., None])[..., 0] + self.translation

    def vectors(self, vectors: torch.Tensor) -> torch.Tensor:
        """Rotate free vectors, shape ``(..., 3)``."""
        return (self.rotation @ vectors[..., None])[..., 0]

    def states(self, states: torch.Tensor, layout: str = 'pv') -> torch.Tensor:
        """Move states of ``layout``, shape ``(..., 3n)``."""
        linear, offset = state_action(self, layout)
        return (linear @ states[..., None])[..., 0] + offset

    def covariances(self, covariance: torch.Tensor, layout: str = 'pv') -> torch.Tensor:
        """Rotate state covariance (or precision) matrices, shape ``(..., 3n, 3n)``."""
        linear, _ = state_action(self, layout)
        return linear @ covariance @ linear.transpose(-1, -2)

    def information(self, eta: torch.Tensor, precision: torch.Tensor,
                    layout: str = 'pv') -> Tuple[torch.Tensor, torch.Tensor]:
        """
        Move an information-form Gaussian ``(eta, precision)`` of ``layout``.

        Exact for singular precisions: the image of ``exp(-x'Lx/2 + eta'x)``
        under the motion is again of this form with the returned parameters.
        """
        linear, offset = state_action(self, layout)
        moved_precision = linear @ precision @ linear.transpose(-1, -2)
        moved_eta = ((linear @ eta[..., None]) + (moved_precision @ offset[..., None]))[..., 0]
        return moved_eta, moved_precision
