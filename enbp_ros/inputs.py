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
Incoming ROS messages to validated NumPy data, or a :class:`RejectedInput` with the reason.

Each function checks what trusted ROS 2 packages check (tf2, Nav2, robot_localization):
finite numbers, a unit quaternion, a symmetric positive semi-definite covariance with no
element above ``MAX_COVARIANCE_ELEMENT``, and the expected non-empty ``frame_id``. Nothing
here keeps state; stamps are checked against an agent's history in
:mod:`enbp_ros.agents`.

Conventions: positions in m in the message's frame; quaternions ``(x, y, z, w)`` as in
``geometry_msgs``; ``PoseWithCovariance.covariance`` is the row-major 6x6 covariance of
``(x, y, z, rot_x, rot_y, rot_z)`` (REP-103).
"""

import math
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'check_covariance', 'goal_from_msg', 'GoalMeasurement', 'MAX_COVARIANCE_ELEMENT',
    'obstacle_from_marker', 'pose_from_msg', 'PoseMeasurement', 'RejectedInput',
    'stamp_seconds', 'UNIT_QUATERNION_TOL', 'update_obstacles',
]

# Nav2's bound on covariance elements: larger values are a sensor's way of saying "unknown".
MAX_COVARIANCE_ELEMENT = 1e9
# Tolerance on | |q|^2 - 1 | (Nav2 uses 1e-4, tf2 1e-2): loose enough for float32 senders.
UNIT_QUATERNION_TOL = 1e-3

# visualization_msgs/Marker constants (kept here so that this module needs no ROS import).
MARKER_SPHERE, MARKER_CYLINDER = 2, 3
MARKER_ADD, MARKER_DELETE, MARKER_DELETEALL = 0, 2, 3


class RejectedInput(ValueError):
    """An incoming message that must not reach the planner; ``str()`` is the reason."""


class PoseMeasurement(NamedTuple):
    """
    A validated pose.

    Attributes
    ----------
    stamp : float
        Header stamp, s.
    position : numpy.ndarray
        ``(3,)`` m.
    quaternion : numpy.ndarray
        ``(4,)`` unit ``(x, y, z, w)``.
    covariance : numpy.ndarray
        ``(6, 6)`` over ``(x, y, z, rot_x, rot_y, rot_z)``, symmetric PSD.

    """

    stamp: float
    position: np.ndarray
    quaternion: np.ndarray
    covariance: np.ndarray


class GoalMeasurement(NamedTuple):
    """A validated goal: header stamp (s) and position ``(3,)`` (m)."""

    stamp: float
    position: np.ndarray


def stamp_seconds(stamp) -> float:
    """Return a ``builtin_interfaces/Time`` as float seconds."""
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


def _check_frame(header, frame_id: str, what: str) -> None:
    if not header.frame_id:
        raise RejectedInput(f'{what} has an empty frame_id (expected {frame_id!r})')
    if header.frame_id.lstrip('/') != frame_id.lstrip('/'):
        raise RejectedInput(f'{what} is in frame {header.frame_id!r}, expected {frame_id!r} '
                            '(no transform is applied: publish in the planning frame)')


def _finite(values: Sequence[float], what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise RejectedInput(f'{what} has NaN or inf entries')
    return array


def _point(position, what: str) -> np.ndarray:
    return _finite([position.x, position.y, position.z], f'{what} position')


def _quaternion(orientation, what: str) -> np.ndarray:
    q = _finite([orientation.x, orientation.y, orientation.z, orientation.w],
                f'{what} orientation')
    norm2 = float(q @ q)
    if abs(norm2 - 1.0) > UNIT_QUATERNION_TOL:
        raise RejectedInput(f'{what} orientation is not a unit quaternion (|q|^2 = {norm2:.6g})')
    return q / math.sqrt(norm2)


def check_covariance(covariance: np.ndarray, what: str) -> np.ndarray:
    """
    Return ``covariance`` (``(n, n)``) symmetrised, or raise :class:`RejectedInput`.

    Checks finiteness, ``|element| <= MAX_COVARIANCE_ELEMENT``, symmetry to
    ``1e-9 * max(1, max|C|)`` and eigenvalues ``>= -1e-9 * max(1, max|C|)``.
    Negative off-diagonal elements are legal.
    """
    covariance = _finite(covariance, what)
    largest = float(np.abs(covariance).max()) if covariance.size else 0.0
    if largest > MAX_COVARIANCE_ELEMENT:
        raise RejectedInput(f'{what} has an element of magnitude {largest:.3g} > '
                            f'{MAX_COVARIANCE_ELEMENT:.0e}')
    tolerance = 1e-9 * max(1.0, largest)
    asymmetry = float(np.abs(covariance - covariance.T).max()) if covariance.size else 0.0
    if asymmetry > tolerance:
        raise RejectedInput(f'{what} is not symmetric (max |C - C^T| = {asymmetry:.3g})')
    symmetric = 0.5 * (covariance + covariance.T)
    smallest = float(np.linalg.eigvalsh(symmetric).min())
    if smallest < -tolerance:
        raise RejectedInput(f'{what} is not positive semi-definite '
                            f'(smallest eigenvalue {smallest:.3g})')
    return symmetric


def pose_from_msg(msg, frame_id: str, default_covariance: Optional[np.ndarray] = None,
                  what: str = 'pose') -> PoseMeasurement:
    """
    Validate a ``PoseWithCovarianceStamped`` or a ``PoseStamped``.

    Parameters
    ----------
    msg : geometry_msgs.msg.PoseWithCovarianceStamped or geometry_msgs.msg.PoseStamped
        The message.
    frame_id : str
        The only accepted frame.
    default_covariance : numpy.ndarray, optional
        ``(6, 6)`` covariance given to a ``PoseStamped`` (required for those).
    what : str
        Name used in the reason (e.g. ``'robot_1/pose'``).

    """
    _check_frame(msg.header, frame_id, what)
    if hasattr(msg.pose, 'covariance'):
        pose = msg.pose.pose
        covariance = np.asarray(msg.pose.covariance, dtype=np.float64).reshape(6, 6)
    else:
        if default_covariance is None:
            raise ValueError('a PoseStamped needs a default covariance')
        pose, covariance = msg.pose, np.asarray(default_covariance, dtype=np.float64)
    position = _point(pose.position, what)
    quaternion = _quaternion(pose.orientation, what)
    covariance = check_covariance(covariance, f'{what} covariance')
    return PoseMeasurement(stamp_seconds(msg.header.stamp), position, quaternion, covariance)


def goal_from_msg(msg, frame_id: str, what: str = 'goal') -> GoalMeasurement:
    """Validate a ``PoseStamped`` goal (its orientation is checked but not used)."""
    _check_frame(msg.header, frame_id, what)
    position = _point(msg.pose.position, what)
    _quaternion(msg.pose.orientation, what)
    return GoalMeasurement(stamp_seconds(msg.header.stamp), position)


def obstacle_from_marker(marker, frame_id: str) -> Tuple[str, np.ndarray]:
    """
    Return ``('sphere', [x, y, z, r])`` or ``('cylinder', [x, y, r])`` for an ADD marker.

    A sphere marker must have equal scales (a ball of diameter ``scale.x``); a
    cylinder marker equal ``scale.x`` and ``scale.y`` and a vertical axis (its
    orientation keeps z up), and is taken as unbounded in z, as
    :class:`enbp_core.scene.Obstacles` models it.
    """
    what = f'obstacle marker {marker.ns!r}/{marker.id}'
    _check_frame(marker.header, frame_id, what)
    centre = _point(marker.pose.position, what)
    q = _quaternion(marker.pose.orientation, what)
    scale = _finite([marker.scale.x, marker.scale.y, marker.scale.z], f'{what} scale')
    if np.any(scale <= 0):
        raise RejectedInput(f'{what} has a non-positive scale {scale.tolist()}')
    if marker.type == MARKER_SPHERE:
        if np.ptp(scale) > 1e-6 * scale.max():
            raise RejectedInput(f'{what}: only round spheres are supported, scale '
                                f'{scale.tolist()}')
        return 'sphere', np.append(centre, 0.5 * scale[0])
    if marker.type == MARKER_CYLINDER:
        if abs(scale[0] - scale[1]) > 1e-6 * scale.max():
            raise RejectedInput(f'{what}: only circular cylinders are supported, scale '
                                f'{scale.tolist()}')
        x, y, z, w = q
        axis_z = 1.0 - 2.0 * (x * x + y * y)  # z component of R e_z
        if abs(abs(axis_z) - 1.0) > 1e-6:
            raise RejectedInput(f'{what}: only vertical cylinders are supported')
        return 'cylinder', np.array([centre[0], centre[1], 0.5 * scale[0]])
    raise RejectedInput(f'{what} has type {marker.type}; only SPHERE (2) and CYLINDER (3) '
                        'are obstacles')


def update_obstacles(store: Dict[Tuple[str, int], Tuple[str, np.ndarray]], markers,
                     frame_id: str) -> list:
    """
    Apply a ``MarkerArray`` to ``store`` (keyed by ``(ns, id)``); return the rejection reasons.

    ADD replaces a marker, DELETE removes one, DELETEALL clears the store. A
    malformed marker is rejected alone and leaves its previous entry in place.
    """
    reasons = []
    for marker in markers.markers:
        key = (marker.ns, int(marker.id))
        if marker.action == MARKER_DELETEALL:
            store.clear()
        elif marker.action == MARKER_DELETE:
            store.pop(key, None)
        elif marker.action == MARKER_ADD:
            try:
                store[key] = obstacle_from_marker(marker, frame_id)
            except RejectedInput as error:
                reasons.append(str(error))
        else:
            reasons.append(f'obstacle marker {marker.ns!r}/{marker.id} has unknown action '
                           f'{marker.action}')
    return reasons
