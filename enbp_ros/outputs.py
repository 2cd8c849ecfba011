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
Planner results to ROS messages: beliefs, plans, mixture beliefs and RViz markers.

Every builder takes NumPy arrays in the planning frame (``frame_id``), SI units, and
returns a message; none of them publishes. Callers check outputs for NaN with
:func:`all_finite` before publishing.
"""

import math
from typing import Iterable, Sequence

from builtin_interfaces.msg import Duration, Time
from enbp.msg import GaussianComponent, MixtureBelief
from geometry_msgs.msg import Point, PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Path
import numpy as np
from std_msgs.msg import ColorRGBA, Header
import transforms3d
from visualization_msgs.msg import Marker

__all__ = ['all_finite', 'belief_message', 'ellipsoid_marker', 'header', 'mixture_message',
           'path_marker', 'path_message', 'to_stamp']


def to_stamp(seconds: float) -> Time:
    """Return float seconds as a ``builtin_interfaces/Time`` (non-negative)."""
    seconds = max(0.0, float(seconds))
    sec = int(math.floor(seconds))
    nanosec = min(int(round((seconds - sec) * 1e9)), 999_999_999)
    return Time(sec=sec, nanosec=nanosec)


def header(stamp: float, frame_id: str) -> Header:
    """Return a header with ``stamp`` (s) and ``frame_id``."""
    return Header(stamp=to_stamp(stamp), frame_id=frame_id)


def all_finite(*arrays: np.ndarray) -> bool:
    """Whether every array is entirely finite."""
    return all(bool(np.all(np.isfinite(a))) for a in arrays)


def belief_message(stamp: float, frame_id: str, position: np.ndarray,
                   position_covariance: np.ndarray, quaternion: np.ndarray,
                   orientation_covariance: np.ndarray) -> PoseWithCovarianceStamped:
    """
    Return the moment-matched pose belief of one agent.

    Parameters
    ----------
    stamp : float
        Time at which the belief holds, s.
    frame_id : str
        Planning frame.
    position, position_covariance : numpy.ndarray
        ``(3,)`` and ``(3, 3)``: ENBP's belief of the current position.
    quaternion, orientation_covariance : numpy.ndarray
        ``(4,)`` ``(x, y, z, w)`` and ``(3, 3)``: passed through from the
        measurement (ENBP does not estimate orientation); the cross blocks are zero.

    """
    msg = PoseWithCovarianceStamped(header=header(stamp, frame_id))
    pose = msg.pose.pose
    pose.position.x, pose.position.y, pose.position.z = (float(v) for v in position)
    o = pose.orientation
    o.x, o.y, o.z, o.w = (float(v) for v in quaternion)
    covariance = np.zeros((6, 6))
    covariance[:3, :3] = position_covariance
    covariance[3:, 3:] = orientation_covariance
    msg.pose.covariance = [float(v) for v in covariance.reshape(-1)]
    return msg


def path_message(stamp: float, frame_id: str, positions: np.ndarray,
                 times: np.ndarray) -> Path:
    """Return the plan ``(H, 3)`` at absolute times ``(H,)`` (s) as a ``nav_msgs/Path``."""
    msg = Path(header=header(stamp, frame_id))
    poses = []
    for position, time in zip(positions, times):
        pose = PoseStamped(header=header(time, frame_id))
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = (
            float(v) for v in position)
        pose.pose.orientation.w = 1.0
        poses.append(pose)
    msg.poses = poses
    return msg


def mixture_message(stamp: float, frame_id: str, agent_id: str, weights: np.ndarray,
                    means: np.ndarray, covariances: np.ndarray) -> MixtureBelief:
    """Return ``K`` components (``(K,)``, ``(K, 6)``, ``(K, 6, 6)``), heaviest first."""
    order = np.argsort(-weights, kind='stable')
    total = float(weights.sum())
    components = [GaussianComponent(weight=float(weights[k]) / total,
                                    mean=[float(v) for v in means[k]],
                                    covariance=[float(v) for v in covariances[k].reshape(-1)])
                  for k in order]
    return MixtureBelief(header=header(stamp, frame_id), agent_id=agent_id,
                         components=components)


def _color(rgba: Sequence[float]) -> ColorRGBA:
    return ColorRGBA(r=float(rgba[0]), g=float(rgba[1]), b=float(rgba[2]), a=float(rgba[3]))


def ellipsoid_marker(stamp: float, frame_id: str, namespace: str, marker_id: int,
                     mean: np.ndarray, covariance: np.ndarray, sigmas: float,
                     rgba: Sequence[float], lifetime: float) -> Marker:
    """Return a SPHERE marker scaled to the ``sigmas``-sigma ellipsoid of a 3-D Gaussian."""
    values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
    if np.linalg.det(vectors) < 0:
        vectors[:, 0] = -vectors[:, 0]
    w, x, y, z = transforms3d.quaternions.mat2quat(vectors)
    marker = Marker(header=header(stamp, frame_id), ns=namespace, id=int(marker_id),
                    type=Marker.SPHERE, action=Marker.ADD, color=_color(rgba),
                    lifetime=_duration(lifetime))
    marker.pose.position.x, marker.pose.position.y, marker.pose.position.z = (
        float(v) for v in mean)
    o = marker.pose.orientation
    o.x, o.y, o.z, o.w = float(x), float(y), float(z), float(w)
    # RViz draws nothing for a zero scale: keep a millimetre.
    diameters = 2.0 * sigmas * np.sqrt(np.clip(values, 0.0, None))
    marker.scale.x, marker.scale.y, marker.scale.z = (max(float(d), 1e-3) for d in diameters)
    return marker


def path_marker(stamp: float, frame_id: str, namespace: str, marker_id: int,
                positions: Iterable[np.ndarray], width: float, rgba: Sequence[float],
                lifetime: float) -> Marker:
    """Return a LINE_STRIP marker through ``positions``."""
    marker = Marker(header=header(stamp, frame_id), ns=namespace, id=int(marker_id),
                    type=Marker.LINE_STRIP, action=Marker.ADD, color=_color(rgba),
                    lifetime=_duration(lifetime))
    marker.pose.orientation.w = 1.0
    marker.scale.x = float(width)
    marker.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in positions]
    return marker


def _duration(seconds: float) -> Duration:
    stamp = to_stamp(seconds)
    return Duration(sec=stamp.sec, nanosec=stamp.nanosec)
