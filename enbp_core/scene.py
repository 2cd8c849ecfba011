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
What a planner sees in one control cycle, and what it returns.

A :class:`Scene` holds the measured states of ``N`` agents (positions,
velocities and the 6x6 covariance of the state ``(p, v)``), their goals,
radii and speed limits, and the static :class:`Obstacles` (spheres and
vertical cylinders), all in one world frame, SI units (m, m/s, s). A
:class:`Planner` maps a scene to a :class:`Plan`: one commanded velocity per
agent for the next control period, optionally the planned positions over its
horizon and a few scalar statistics.

This module is the contract between the planners (``enbp_core.planning``,
``enbp_core.baselines``) and their users (``enbp_core.sim``, the benchmark,
the ROS nodes). Scenes are validated where they enter the library
(:meth:`Scene.validate`), not inside every planning cycle.
"""

from dataclasses import dataclass, field
import math
from typing import Dict, Optional, Protocol, runtime_checkable, Tuple

from enbp_core.checks import check_finite, check_psd
from enbp_core.se3 import RigidMotion
import torch

__all__ = ['Obstacles', 'Plan', 'Planner', 'Scene']


def _check_shape(tensor: torch.Tensor, name: str, shape: Tuple[int, ...]) -> None:
    """Raise unless ``tensor`` is a finite floating tensor of exactly ``shape``."""
    check_finite(tensor, name)
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(f'{name} must have shape {tuple(shape)}, got {tuple(tensor.shape)}')


def _keeps_vertical(rotation: torch.Tensor) -> bool:
    """Whether ``rotation`` maps the z axis to itself (up or down), to ``sqrt(eps)``."""
    tolerance = torch.finfo(rotation.dtype).eps ** 0.5
    ez = rotation[:, 2]
    return bool((ez[:2].abs().max() <= tolerance) and (abs(float(ez[2].abs()) - 1) <= tolerance))


@dataclass(frozen=True)
class Obstacles:
    """
    Static obstacles: spheres and vertical cylinders (infinite in z).

    Attributes
    ----------
    spheres : torch.Tensor
        Shape ``(M, 4)``: centre ``x, y, z`` and radius, in m.
    cylinders : torch.Tensor
        Shape ``(C, 3)``: axis ``x, y`` and radius, in m. The axis is vertical
        and the cylinder unbounded in z, so that in a planar world it is a disk.

    """

    spheres: torch.Tensor
    cylinders: torch.Tensor

    @classmethod
    def empty(cls, dtype: torch.dtype = torch.float64,
              device: Optional[torch.device] = None) -> 'Obstacles':
        """Return no obstacles: shapes ``(0, 4)`` and ``(0, 3)``."""
        return cls(torch.zeros(0, 4, dtype=dtype, device=device),
                   torch.zeros(0, 3, dtype=dtype, device=device))

    @property
    def count(self) -> int:
        """Return the number of obstacles, spheres and cylinders together."""
        return int(self.spheres.shape[0] + self.cylinders.shape[0])

    def validate(self) -> None:
        """
        Raise :class:`ValueError` unless the obstacles are well formed.

        Checks shapes ``(M, 4)`` and ``(C, 3)``, a common floating dtype,
        finite entries and radii ``> 0``.
        """
        for name, tensor, width in (('spheres', self.spheres, 4),
                                    ('cylinders', self.cylinders, 3)):
            if not isinstance(tensor, torch.Tensor):
                raise ValueError(f'obstacles.{name} must be a torch.Tensor, '
                                 f'got {type(tensor).__name__}')
            if tensor.dim() != 2 or tensor.shape[1] != width:
                raise ValueError(f'obstacles.{name} must have shape (count, {width}), '
                                 f'got {tuple(tensor.shape)}')
            check_finite(tensor, f'obstacles.{name}')
            if tensor.shape[0] and float(tensor[:, -1].min()) <= 0:
                bad = int(torch.argmin(tensor[:, -1]))
                raise ValueError(f'obstacles.{name}[{bad}] has radius '
                                 f'{float(tensor[bad, -1]):g} m; radii must be > 0')
        if self.spheres.dtype != self.cylinders.dtype:
            raise ValueError(f'obstacles.spheres ({self.spheres.dtype}) and obstacles.cylinders '
                             f'({self.cylinders.dtype}) must have the same dtype')

    def clearance(self, points: torch.Tensor) -> torch.Tensor:
        """
        Signed distance from points to each obstacle surface.

        Parameters
        ----------
        points : torch.Tensor
            Shape ``(..., 3)``, m.

        Returns
        -------
        torch.Tensor
            Shape ``(..., M + C)``: spheres first, then cylinders (horizontal
            distance to the axis); negative inside an obstacle, m.

        """
        spheres = self.spheres.to(points.dtype)
        cylinders = self.cylinders.to(points.dtype)
        to_spheres = (points[..., None, :] - spheres[:, :3]).norm(dim=-1) - spheres[:, 3]
        to_axes = (points[..., None, :2] - cylinders[:, :2]).norm(dim=-1) - cylinders[:, 2]
        return torch.cat([to_spheres, to_axes], dim=-1)

    def transformed(self, motion: RigidMotion) -> 'Obstacles':
        """
        Return the same obstacles in a world frame moved by ``motion``.

        Sphere centres move as points. Cylinders stay vertical only if the
        rotation maps the z axis to itself (up or down): any other rotation
        raises :class:`ValueError` while there are cylinders.
        """
        rotation = motion.rotation.to(self.spheres.dtype)
        translation = motion.translation.to(self.spheres.dtype)
        moved = RigidMotion(rotation, translation)
        spheres = torch.cat([moved.points(self.spheres[:, :3]), self.spheres[:, 3:]], dim=-1)
        cylinders = self.cylinders
        if cylinders.shape[0]:
            if not _keeps_vertical(rotation):
                raise ValueError(
                    'cannot move vertical cylinders by a rotation that tilts the z axis '
                    f'(R e_z = {rotation[:, 2].tolist()}); only rotations about z (or flips of '
                    'z) keep them vertical')
            axes = (rotation[:2, :2] @ cylinders[:, :2, None])[..., 0] + translation[:2]
            cylinders = torch.cat([axes, cylinders[:, 2:]], dim=-1)
        return Obstacles(spheres, cylinders)


@dataclass(frozen=True)
class Scene:
    """
    The measured state of ``N`` agents and their world, in one frame.

    Attributes
    ----------
    ids : tuple of str
        Agent ids, unique, length ``N``.
    positions : torch.Tensor
        Shape ``(N, 3)``, m, world frame.
    velocities : torch.Tensor
        Shape ``(N, 3)``, m/s.
    covariances : torch.Tensor
        Shape ``(N, 6, 6)``: covariance of the measured state ``(p, v)``,
        units m², m²/s, m²/s².
    goals : torch.Tensor
        Shape ``(N, 3)``, m.
    radii : torch.Tensor
        Shape ``(N,)``, m.
    max_speeds : torch.Tensor
        Shape ``(N,)``, m/s.
    obstacles : Obstacles
        Static obstacles in the same frame.
    time : float
        Time of the measurement, s.

    """

    ids: Tuple[str, ...]
    positions: torch.Tensor
    velocities: torch.Tensor
    covariances: torch.Tensor
    goals: torch.Tensor
    radii: torch.Tensor
    max_speeds: torch.Tensor
    obstacles: Obstacles
    time: float = 0.0

    @property
    def num_agents(self) -> int:
        """Return ``N``."""
        return len(self.ids)

    @property
    def dtype(self) -> torch.dtype:
        """Return the dtype of the state tensors."""
        return self.positions.dtype

    def validate(self, *, contact_ok: bool = False) -> None:
        """
        Raise :class:`ValueError` with a clear message unless the scene is usable.

        Checks: at least one agent; unique string ids; shapes consistent with
        ``N``; one floating dtype; no NaN or inf anywhere; covariances
        symmetric positive semi-definite (:func:`enbp_core.checks.check_psd`);
        radii and maximum speeds ``> 0``; valid obstacles; and no agent
        starting inside an obstacle (centre closer than obstacle radius plus
        agent radius to a sphere's centre or a cylinder's axis).

        Parameters
        ----------
        contact_ok : bool
            Accept an agent's body touching an obstacle, and refuse only a
            centre inside one. Planners use this on measured scenes: a robot
            that grazed an obstacle must get a plan out of it, not an error.

        """
        ids = self.ids
        if not isinstance(ids, tuple) or not all(isinstance(i, str) for i in ids):
            raise ValueError('ids must be a tuple of str')
        n = len(ids)
        if n == 0:
            raise ValueError('the scene has zero agents; at least one is needed')
        if len(set(ids)) != n:
            seen, duplicates = set(), []
            for i in ids:
                if i in seen and i not in duplicates:
                    duplicates.append(i)
                seen.add(i)
            raise ValueError(f'agent ids must be unique; duplicated: {duplicates}')
        _check_shape(self.positions, 'positions', (n, 3))
        _check_shape(self.velocities, 'velocities', (n, 3))
        _check_shape(self.covariances, 'covariances', (n, 6, 6))
        _check_shape(self.goals, 'goals', (n, 3))
        _check_shape(self.radii, 'radii', (n,))
        _check_shape(self.max_speeds, 'max_speeds', (n,))
        dtypes = {t.dtype for t in (self.positions, self.velocities, self.covariances,
                                    self.goals, self.radii, self.max_speeds)}
        if len(dtypes) != 1:
            raise ValueError(f'scene tensors must share one dtype, got {sorted(map(str, dtypes))}')
        if not isinstance(self.time, (int, float)) or not math.isfinite(self.time):
            raise ValueError(f'time must be a finite number of seconds, got {self.time!r}')
        for name, values in (('radii', self.radii), ('max_speeds', self.max_speeds)):
            if float(values.min()) <= 0:
                bad = int(torch.argmin(values))
                raise ValueError(f'{name}[{bad}] (agent {ids[bad]!r}) is {float(values[bad]):g}; '
                                 f'{name} must be > 0')
        try:
            check_psd(self.covariances, 'covariances')
        except ValueError:
            for k in range(n):  # name the first bad agent
                check_psd(self.covariances[k], f'covariances[{k}] (agent {ids[k]!r})')
            raise
        if not isinstance(self.obstacles, Obstacles):
            raise ValueError(
                f'obstacles must be an Obstacles, got {type(self.obstacles).__name__}')
        self.obstacles.validate()
        if self.obstacles.count:
            clearance = self.obstacles.clearance(self.positions)
            if not contact_ok:
                clearance = clearance - self.radii[:, None]
            if float(clearance.min()) < 0:
                flat = int(torch.argmin(clearance))
                agent, obstacle = divmod(flat, clearance.shape[1])
                spheres = self.obstacles.spheres.shape[0]
                kind = (f'sphere {obstacle}' if obstacle < spheres
                        else f'cylinder {obstacle - spheres}')
                raise ValueError(
                    f'agent {ids[agent]!r} starts inside obstacle {kind}: its centre '
                    f'{self.positions[agent].tolist()} is {-float(clearance[agent, obstacle]):.3g}'
                    ' m closer than obstacle radius' + ('' if contact_ok else ' + agent radius'))

    def transformed(self, motion: RigidMotion) -> 'Scene':
        """
        Return the same scene in a world frame moved by ``motion``.

        Positions and goals move as points, velocities as vectors, covariances
        as ``S Sigma S^T`` of the ``'pv'`` state
        (:meth:`enbp_core.se3.RigidMotion.covariances`), obstacles by
        :meth:`Obstacles.transformed` (which refuses to tilt cylinders).
        Radii, speeds, ids and time are invariant.

        Parameters
        ----------
        motion : RigidMotion
            One motion: rotation ``(3, 3)``, translation ``(3,)``; cast to the
            scene's dtype.

        """
        if motion.rotation.shape != (3, 3) or motion.translation.shape != (3,):
            raise ValueError('transformed() takes one rigid motion: rotation (3, 3), '
                             f'translation (3,), got {tuple(motion.rotation.shape)} and '
                             f'{tuple(motion.translation.shape)}')
        moved = RigidMotion(motion.rotation.to(self.dtype), motion.translation.to(self.dtype))
        return Scene(
            ids=self.ids,
            positions=moved.points(self.positions),
            velocities=moved.vectors(self.velocities),
            covariances=moved.covariances(self.covariances, 'pv'),
            goals=moved.points(self.goals),
            radii=self.radii,
            max_speeds=self.max_speeds,
            obstacles=self.obstacles.transformed(moved),
            time=self.time,
        )


@dataclass
class Plan:
    """
    A planner's answer for one control cycle.

    Attributes
    ----------
    velocities : torch.Tensor
        Shape ``(N, 3)``: commanded velocity of each agent for the next
        control period, m/s. The simulator enforces speed and acceleration
        limits on it.
    paths : torch.Tensor or None
        Shape ``(N, H, 3)``: planned positions over the horizon, m.
    stats : dict of str to float
        Optional figures of the cycle. Names with a meaning to the benchmark:
        ``'iterations'``, ``'residual'`` (final), ``'settling_m'`` (mean plan
        change at the last iteration, m), ``'diverged'`` (0 or 1),
        ``'time_per_iteration_s'``, ``'max_planned_speed'`` (m/s).

    """

    velocities: torch.Tensor
    paths: Optional[torch.Tensor] = None
    stats: Dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Planner(Protocol):
    """
    A closed-loop planner: one :meth:`plan` call per control cycle.

    Attributes
    ----------
    name : str
        The method name used in tables (``'enbp'``, ``'orca'``, ...).

    """

    name: str

    def reset(self) -> None:
        """Forget warm-start state: the next :meth:`plan` starts a new episode."""
        ...

    def plan(self, scene: Scene) -> Plan:
        """Return the commands for the next control period."""
        ...
