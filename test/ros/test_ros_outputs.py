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

"""Output messages: layouts, ellipsoid geometry and stamps, against direct formulas."""

from enbp_ros import outputs
from enbp_ros.inputs import stamp_seconds
import numpy as np
import pytest
import transforms3d


def random_spd(rng, n):
    a = rng.normal(size=(n, n))
    return a @ a.T + 0.1 * np.eye(n)


@pytest.mark.parametrize('seconds', [0.0, 0.1, 1.3, 12345.678901234, 1e6 + 0.999999999])
def test_stamp_round_trip(seconds):
    assert stamp_seconds(outputs.to_stamp(seconds)) == pytest.approx(seconds, abs=1e-9)


def test_belief_message_uses_ros_covariance_order():
    rng = np.random.default_rng(1)
    position_cov, orientation_cov = random_spd(rng, 3), random_spd(rng, 3)
    msg = outputs.belief_message(2.5, 'map', np.array([1.0, 2.0, 3.0]), position_cov,
                                 np.array([0.0, 0.0, 0.0, 1.0]), orientation_cov)
    covariance = np.asarray(msg.pose.covariance).reshape(6, 6)
    np.testing.assert_array_equal(covariance[:3, :3], position_cov)
    np.testing.assert_array_equal(covariance[3:, 3:], orientation_cov)
    np.testing.assert_array_equal(covariance[:3, 3:], 0.0)
    assert msg.header.frame_id == 'map'
    assert stamp_seconds(msg.header.stamp) == pytest.approx(2.5)


def test_ellipsoid_marker_reproduces_the_covariance(measured):
    rng = np.random.default_rng(2)
    worst = 0.0
    for _ in range(50):
        covariance = random_spd(rng, 3)
        m = outputs.ellipsoid_marker(0.0, 'map', 'b', 0, np.zeros(3), covariance, 2.0,
                                     (1, 0, 0, 1), 1.0)
        q = m.pose.orientation
        rotation = transforms3d.quaternions.quat2mat([q.w, q.x, q.y, q.z])
        axes = np.array([m.scale.x, m.scale.y, m.scale.z]) / (2 * 2.0)
        rebuilt = rotation @ np.diag(axes ** 2) @ rotation.T
        worst = max(worst, np.abs(rebuilt - covariance).max() / np.abs(covariance).max())
    measured('ros ellipsoid marker vs covariance (rel)', worst)
    assert worst < 1e-9


def test_mixture_message_is_normalised_and_sorted():
    rng = np.random.default_rng(3)
    weights = np.array([0.2, 0.6, 0.2])
    means = rng.normal(size=(3, 6))
    covariances = np.stack([random_spd(rng, 6) for _ in range(3)])
    msg = outputs.mixture_message(1.0, 'map', 'agent_0', 2 * weights, means, covariances)
    assert [c.weight for c in msg.components] == pytest.approx([0.6, 0.2, 0.2])
    np.testing.assert_array_equal(msg.components[0].mean, means[1])
    np.testing.assert_array_equal(np.asarray(msg.components[0].covariance).reshape(6, 6),
                                  covariances[1])


def test_path_message_carries_the_horizon_times():
    positions = np.arange(12.0).reshape(4, 3)
    times = 5.0 + np.array([0.0, 0.1, 0.2, 0.4])
    msg = outputs.path_message(5.0, 'map', positions, times)
    assert [stamp_seconds(p.header.stamp) for p in msg.poses] == pytest.approx(list(times))
    assert msg.poses[3].pose.position.z == 11.0


def test_all_finite():
    assert outputs.all_finite(np.zeros(3), np.ones((2, 2)))
    assert not outputs.all_finite(np.zeros(3), np.array([np.nan]))
