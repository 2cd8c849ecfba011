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

"""Input validation and the agent table: every bad input refused with its reason."""

from builtin_interfaces.msg import Time
from enbp_core.scene import Obstacles
from enbp_ros.agents import AgentTable
from enbp_ros.inputs import (goal_from_msg, pose_from_msg, PoseMeasurement, RejectedInput,
                             update_obstacles)
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
import numpy as np
import pytest
from visualization_msgs.msg import Marker, MarkerArray

COVARIANCE = np.diag([0.01, 0.02, 0.03, 0.1, 0.1, 0.1])


def make_pose(position=(1.0, 2.0, 0.0), quaternion=(0.0, 0.0, 0.0, 1.0), covariance=None,
              frame='map', stamp=10.0):
    msg = PoseWithCovarianceStamped()
    msg.header.frame_id = frame
    msg.header.stamp = Time(sec=int(stamp), nanosec=int(round((stamp % 1) * 1e9)))
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z = position
    q.x, q.y, q.z, q.w = quaternion
    msg.pose.covariance = [float(v) for v in np.asarray(
        COVARIANCE if covariance is None else covariance).reshape(-1)]
    return msg


def test_valid_pose_is_converted():
    pose = pose_from_msg(make_pose(), 'map')
    assert pose.stamp == pytest.approx(10.0)
    np.testing.assert_array_equal(pose.position, [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(pose.covariance, COVARIANCE)


def test_pose_stamped_takes_the_default_covariance():
    msg = PoseStamped()
    msg.header.frame_id = 'map'
    msg.pose.orientation.w = 1.0
    pose = pose_from_msg(msg, 'map', default_covariance=COVARIANCE)
    np.testing.assert_array_equal(pose.covariance, COVARIANCE)


def test_negative_off_diagonal_covariance_is_legal():
    covariance = COVARIANCE.copy()
    covariance[0, 1] = covariance[1, 0] = -0.01
    pose_from_msg(make_pose(covariance=covariance), 'map')


def _asymmetric():
    c = COVARIANCE.copy()
    c[0, 1] = 0.005
    return c


def _indefinite():
    c = COVARIANCE.copy()
    c[0, 1] = c[1, 0] = 1.0
    return c


def _huge():
    c = COVARIANCE.copy()
    c[5, 5] = 1e12
    return c


@pytest.mark.parametrize('changes, reason', [
    ({'position': (float('nan'), 0.0, 0.0)}, 'NaN or inf'),
    ({'position': (float('inf'), 0.0, 0.0)}, 'NaN or inf'),
    ({'quaternion': (0.0, 0.0, 0.0, 0.9)}, 'not a unit quaternion'),
    ({'quaternion': (0.0, 0.0, float('nan'), 1.0)}, 'NaN or inf'),
    ({'covariance': _asymmetric()}, 'not symmetric'),
    ({'covariance': _indefinite()}, 'not positive semi-definite'),
    ({'covariance': _huge()}, 'magnitude'),
    ({'frame': ''}, 'empty frame_id'),
    ({'frame': 'odom'}, "frame 'odom'"),
], ids=['nan', 'inf', 'non-unit-quaternion', 'nan-quaternion', 'asymmetric', 'indefinite',
        'huge', 'empty-frame', 'wrong-frame'])
def test_bad_pose_is_rejected_with_its_reason(changes, reason):
    with pytest.raises(RejectedInput, match=reason):
        pose_from_msg(make_pose(**changes), 'map', what='robot/pose')


def test_bad_goal_is_rejected():
    msg = PoseStamped()
    msg.header.frame_id = 'map'
    msg.pose.orientation.w = 1.0
    msg.pose.position.x = float('nan')
    with pytest.raises(RejectedInput, match='NaN'):
        goal_from_msg(msg, 'map')
    msg.pose.position.x = 1.0
    assert goal_from_msg(msg, 'map').position[0] == 1.0


def marker(kind=Marker.SPHERE, scale=(2.0, 2.0, 2.0), position=(1.0, 2.0, 3.0), id_=0,
           action=Marker.ADD, frame='map'):
    m = Marker(type=kind, action=action, id=id_, ns='obstacles')
    m.header.frame_id = frame
    m.pose.position.x, m.pose.position.y, m.pose.position.z = position
    m.pose.orientation.w = 1.0
    m.scale.x, m.scale.y, m.scale.z = scale
    return m


def test_markers_become_obstacles_and_bad_ones_are_rejected_alone():
    store = {}
    reasons = update_obstacles(store, MarkerArray(markers=[
        marker(),
        marker(Marker.CYLINDER, (1.0, 1.0, 4.0), id_=1),
        marker(Marker.CUBE, id_=2),
        marker(scale=(1.0, 2.0, 3.0), id_=3),
        marker(scale=(-1.0, -1.0, -1.0), id_=4),
        marker(position=(float('nan'), 0.0, 0.0), id_=5),
        marker(frame='odom', id_=6),
    ]), 'map')
    assert sorted(store) == [('obstacles', 0), ('obstacles', 1)]
    assert store[('obstacles', 0)][0] == 'sphere'
    np.testing.assert_array_equal(store[('obstacles', 0)][1], [1.0, 2.0, 3.0, 1.0])
    np.testing.assert_array_equal(store[('obstacles', 1)][1], [1.0, 2.0, 0.5])
    assert len(reasons) == 5
    for expected in ('type 1', 'round spheres', 'non-positive scale', 'NaN', "frame 'odom'"):
        assert any(expected in r for r in reasons), (expected, reasons)
    update_obstacles(store, MarkerArray(markers=[marker(action=Marker.DELETE)]), 'map')
    assert list(store) == [('obstacles', 1)]
    update_obstacles(store, MarkerArray(markers=[marker(action=Marker.DELETEALL)]), 'map')
    assert store == {}


def test_tilted_cylinder_is_rejected():
    m = marker(Marker.CYLINDER, (1.0, 1.0, 4.0))
    m.pose.orientation.x, m.pose.orientation.w = np.sin(0.3), np.cos(0.3)
    reasons = update_obstacles({}, MarkerArray(markers=[m]), 'map')
    assert 'vertical' in reasons[0]


def pose_at(stamp, position=(0.0, 0.0, 0.0), covariance=COVARIANCE):
    return PoseMeasurement(stamp, np.asarray(position, float), np.array([0.0, 0.0, 0.0, 1.0]),
                           np.asarray(covariance, float))


def test_agent_table_refuses_unknown_out_of_order_stale_and_future():
    table = AgentTable(['a', 'b'], agent_timeout=1.0, max_pose_age=0.5)
    with pytest.raises(RejectedInput, match="unknown agent 'c'"):
        table.accept_pose('c', pose_at(10.0), 10.0)
    table.accept_pose('a', pose_at(10.0), 10.0)
    with pytest.raises(RejectedInput, match='out of order'):
        table.accept_pose('a', pose_at(9.9), 10.0)
    with pytest.raises(RejectedInput, match='out of order'):
        table.accept_pose('a', pose_at(10.0), 10.0)
    with pytest.raises(RejectedInput, match='stale'):
        table.accept_pose('b', pose_at(9.0), 10.0)
    with pytest.raises(RejectedInput, match='future'):
        table.accept_pose('b', pose_at(11.0), 10.0)
    assert table.agents['a'].pose.stamp == 10.0  # refusals lose nothing


def test_silent_agent_is_dropped_and_comes_back():
    table = AgentTable(['a', 'b'], agent_timeout=1.0, max_pose_age=10.0)
    table.accept_pose('a', pose_at(10.0), 10.0)
    table.accept_pose('b', pose_at(10.0), 10.0)
    assert table.active(10.5) == ['a', 'b']
    table.accept_pose('a', pose_at(11.0), 11.0)
    assert table.active(11.5) == ['a']
    scene = table.scene(11.5, 1.0, 2.0, Obstacles.empty())
    assert scene.ids == ('a',)
    table.accept_pose('b', pose_at(11.6), 11.6)
    assert table.active(11.7) == ['a', 'b']


def test_velocity_is_the_finite_difference_with_its_covariance():
    table = AgentTable(['a'])
    c0, c1 = np.diag([1e-4, 2e-4, 3e-4, 0, 0, 0]), np.diag([4e-4, 5e-4, 6e-4, 0, 0, 0])
    table.accept_pose('a', pose_at(1.0, (0.0, 0.0, 0.0), c0), None)
    velocity, covariance = table.velocity('a', 2.0)
    np.testing.assert_array_equal(velocity, 0.0)
    np.testing.assert_allclose(np.diag(covariance)[3:], 4.0)  # max_speed^2: unknown
    table.accept_pose('a', pose_at(1.2, (0.2, -0.4, 0.0), c1), None)
    velocity, covariance = table.velocity('a', 2.0)
    np.testing.assert_allclose(velocity, [1.0, -2.0, 0.0])
    # Monte Carlo of v = (p1 - p0) / dt with independent p0, p1 agrees with the formula.
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(200000, 3)) * np.sqrt(np.diag(c0)[:3])
    p1 = rng.normal(size=(200000, 3)) * np.sqrt(np.diag(c1)[:3])
    empirical = np.cov(np.concatenate([p1, (p1 - p0) / 0.2], 1).T)
    np.testing.assert_allclose(covariance, empirical, atol=3e-2 * np.abs(covariance).max())
    assert np.linalg.eigvalsh(covariance).min() > -1e-12


def test_agent_without_goal_holds_position():
    table = AgentTable(['a'])
    table.accept_pose('a', pose_at(1.0, (3.0, 4.0, 0.0)), None)
    scene = table.scene(None, 1.0, 2.0, Obstacles.empty())
    np.testing.assert_array_equal(scene.goals.numpy(), [[3.0, 4.0, 0.0]])
    scene.validate()


def test_reset_forgets_everything():
    table = AgentTable(['a'])
    table.accept_pose('a', pose_at(5.0), None)
    table.reset()
    table.accept_pose('a', pose_at(1.0), None)  # would be out of order without the reset
