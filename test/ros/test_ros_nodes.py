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

"""Real nodes over real DDS: bad input, parameters, agents that leave and come back."""

import math
import time

from diagnostic_msgs.msg import DiagnosticArray
from enbp_ros import outputs
from enbp_ros.inputs import stamp_seconds
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
import numpy as np
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from visualization_msgs.msg import Marker, MarkerArray

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
COVARIANCE = np.diag([1e-4, 1e-4, 1e-4, 1e-2, 1e-2, 1e-2])


def pose_msg(position, stamp, frame='map', quaternion=(0.0, 0.0, 0.0, 1.0),
             covariance=COVARIANCE):
    msg = PoseWithCovarianceStamped()
    msg.header.frame_id, msg.header.stamp = frame, outputs.to_stamp(stamp)
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z = (float(v) for v in position)
    q.x, q.y, q.z, q.w = (float(v) for v in quaternion)
    msg.pose.covariance = [float(v) for v in np.asarray(covariance).reshape(-1)]
    return msg


def goal_msg(position, frame='map'):
    msg = PoseStamped()
    msg.header.frame_id = frame
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in position)
    msg.pose.orientation.w = 1.0
    return msg


class Agents:
    """Publishers of poses and goals for a few agents, and the beliefs that come back."""

    def __init__(self, graph, ids, positions, goals, namespace=''):
        node = graph.node
        self.graph, self.ids = graph, list(ids)
        self.positions = {a: np.asarray(p, float) for a, p in zip(ids, positions)}
        self.goals = {a: np.asarray(g, float) for a, g in zip(ids, goals)}
        prefix = f'{namespace}/' if namespace else ''
        self.pose_pub = {a: node.create_publisher(PoseWithCovarianceStamped,
                                                  f'{prefix}{a}/pose', RELIABLE) for a in ids}
        self.goal_pub = {a: node.create_publisher(PoseStamped, f'{prefix}{a}/goal', RELIABLE)
                         for a in ids}
        self.beliefs = {a: [] for a in ids}
        self.plans = {a: [] for a in ids}
        for a in ids:
            node.create_subscription(PoseWithCovarianceStamped, f'{prefix}{a}/belief',
                                     lambda m, a=a: self.beliefs[a].append(m), RELIABLE)
            node.create_subscription(
                __import__('nav_msgs.msg', fromlist=['Path']).Path, f'{prefix}{a}/plan',
                lambda m, a=a: self.plans[a].append(m), RELIABLE)
        self.silent = set()

    def publish(self, stamp=None):
        stamp = time.time() if stamp is None else stamp
        for a in self.ids:
            if a in self.silent:
                continue
            self.pose_pub[a].publish(pose_msg(self.positions[a], stamp))
            self.goal_pub[a].publish(goal_msg(self.goals[a]))


class Diagnostics:
    """The latest ``/diagnostics`` status per name."""

    def __init__(self, graph):
        self.status = {}
        graph.node.create_subscription(DiagnosticArray, '/diagnostics', self._on, RELIABLE)

    def _on(self, msg):
        for status in msg.status:
            self.status[status.name] = status

    def value(self, name, key):
        status = self.status.get(name)
        if status is None:
            return None
        return next((kv.value for kv in status.values if kv.key == key), None)


def check_belief(msg):
    covariance = np.asarray(msg.pose.covariance).reshape(6, 6)
    p = msg.pose.pose.position
    assert np.all(np.isfinite([p.x, p.y, p.z])) and np.all(np.isfinite(covariance))
    np.testing.assert_allclose(covariance, covariance.T, atol=1e-12)
    assert np.linalg.eigvalsh(covariance).min() > -1e-12


THREE = (['a0', 'a1', 'a2'], [(0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0)],
         [(5.0, 5.0, 0.0), (10.0, 10.0, 0.0), (-10.0, 10.0, 0.0)])


def start_belief(graph, *extra):
    return graph.start('enbp_ros.belief_node', '-p', 'agents:=[a0, a1, a2]',
                       '-p', 'diagnostics_period:=0.2', *extra, name='belief')


def test_bad_inputs_are_refused_with_a_diagnostic_and_other_agents_keep_beliefs(ros_graph):
    node = start_belief(ros_graph)
    agents = Agents(ros_graph, *THREE)
    diagnostics = Diagnostics(ros_graph)
    assert ros_graph.spin_until(lambda: all(agents.beliefs[a] for a in agents.ids), 30,
                                every=agents.publish), ros_graph.logs()
    bad_pub = ros_graph.node.create_publisher(PoseWithCovarianceStamped, 'a2/pose', RELIABLE)
    asymmetric = COVARIANCE.copy()
    asymmetric[0, 1] = 1e-3
    indefinite = COVARIANCE.copy()
    indefinite[0, 1] = indefinite[1, 0] = 1.0
    huge = COVARIANCE.copy()
    huge[0, 0] = 1e10
    cases = [
        ('nan', lambda t: pose_msg((math.nan, 0, 0), t), 'NaN or inf'),
        ('quaternion', lambda t: pose_msg((0, 10, 0), t, quaternion=(0, 0, 0.5, 0.5)),
         'unit quaternion'),
        ('asymmetric', lambda t: pose_msg((0, 10, 0), t, covariance=asymmetric),
         'not symmetric'),
        ('non-psd', lambda t: pose_msg((0, 10, 0), t, covariance=indefinite),
         'positive semi-definite'),
        ('huge', lambda t: pose_msg((0, 10, 0), t, covariance=huge), 'magnitude'),
        ('wrong frame', lambda t: pose_msg((0, 10, 0), t, frame='odom'), "frame 'odom'"),
        ('empty frame', lambda t: pose_msg((0, 10, 0), t, frame=''), 'empty frame_id'),
        ('stale', lambda t: pose_msg((0, 10, 0), t - 30.0), 'stale'),
        ('out of order', lambda t: pose_msg((0, 10, 0), t - 0.3), 'out of order'),
    ]
    name = 'enbp_belief: a2'
    for label, make, reason in cases:
        before = int(diagnostics.value(name, 'rejected_inputs') or 0)
        # Good poses first (the out-of-order case needs a newer accepted one), then the bad.
        agents.publish()
        ros_graph.spin_for(0.05)
        bad_pub.publish(make(time.time()))
        ok = ros_graph.spin_until(
            lambda: int(diagnostics.value(name, 'rejected_inputs') or 0) > before
            and reason in diagnostics.status[name].message, 10, every=agents.publish)
        assert ok, f'{label}: {diagnostics.status.get(name)}\n{ros_graph.logs()}'
    # Malformed markers: refused one by one, counted at the node level.
    markers = ros_graph.node.create_publisher(MarkerArray, 'obstacles', LATCHED)
    bad = Marker(type=Marker.SPHERE, action=Marker.ADD, id=0, ns='o')
    bad.header.frame_id = 'map'
    bad.pose.position.x = math.nan
    bad.scale.x = bad.scale.y = bad.scale.z = 1.0
    bad.pose.orientation.w = 1.0
    before = int(diagnostics.value('enbp_belief: planner', 'rejected_inputs') or 0)
    markers.publish(MarkerArray(markers=[bad]))
    assert ros_graph.spin_until(
        lambda: int(diagnostics.value('enbp_belief: planner', 'rejected_inputs') or 0) > before,
        10, every=agents.publish)
    # An agent the node does not know.
    intruder = ros_graph.node.create_publisher(PoseWithCovarianceStamped, 'intruder/pose',
                                               RELIABLE)
    assert ros_graph.spin_until(
        lambda: 'intruder' in getattr(diagnostics.status.get('enbp_belief: unknown agents'),
                                      'message', ''), 10,
        every=lambda: (agents.publish(), intruder.publish(pose_msg((3, 3, 0), time.time()))))
    # Through all of it every agent kept finite beliefs, the bad agent's included.
    counts = {a: len(agents.beliefs[a]) for a in agents.ids}
    assert ros_graph.spin_until(lambda: all(len(agents.beliefs[a]) > counts[a] + 3
                                            for a in agents.ids), 10, every=agents.publish)
    for a in agents.ids:
        for msg in agents.beliefs[a]:
            check_belief(msg)
    assert node.alive(), node.output()


def test_agent_that_goes_silent_is_dropped_and_comes_back(ros_graph):
    start_belief(ros_graph, '-p', 'agent_timeout:=0.5')
    agents = Agents(ros_graph, *THREE)
    diagnostics = Diagnostics(ros_graph)
    assert ros_graph.spin_until(lambda: all(agents.beliefs[a] for a in agents.ids), 30,
                                every=agents.publish), ros_graph.logs()
    agents.silent.add('a2')
    assert ros_graph.spin_until(
        lambda: 'timed out' in getattr(diagnostics.status.get('enbp_belief: a2'), 'message', '')
        and diagnostics.value('enbp_belief: planner', 'active_agents') == '2', 10,
        every=agents.publish), diagnostics.status
    ros_graph.spin_for(0.3)
    count_a0, count_a2 = len(agents.beliefs['a0']), len(agents.beliefs['a2'])
    ros_graph.spin_until(lambda: False, 1.0, every=agents.publish)
    assert len(agents.beliefs['a2']) == count_a2, 'a silent agent must not get beliefs'
    assert len(agents.beliefs['a0']) > count_a0, 'the others go on'
    agents.silent.clear()
    assert ros_graph.spin_until(lambda: len(agents.beliefs['a2']) > count_a2 + 2, 10,
                                every=agents.publish)
    assert diagnostics.value('enbp_belief: planner', 'active_agents') in ('2', '3')


def set_parameters(graph, values):
    client = graph.node.create_client(SetParameters, '/enbp_belief/set_parameters')
    assert client.wait_for_service(timeout_sec=20)
    request = SetParameters.Request(
        parameters=[Parameter(k, value=v).to_parameter_msg() for k, v in values.items()])
    future = client.call_async(request)
    assert graph.spin_until(future.done, 20)
    return future.result().results


def test_bad_parameters_refused_at_run_time_and_good_ones_take_effect(ros_graph):
    start_belief(ros_graph)
    agents = Agents(ros_graph, *THREE)
    diagnostics = Diagnostics(ros_graph)
    assert ros_graph.spin_until(
        lambda: diagnostics.value('enbp_belief: planner', 'iterations') == '10', 30,
        every=agents.publish), ros_graph.logs()
    for values, reason in [({'damping': 2.0}, ''), ({'sigma_dynamics': -1.0}, 'sigma_dynamics'),
                           ({'message_model': 'magic'}, 'message_model'),
                           ({'stamped_pose_variances': [1.0, 2.0]}, 'six'),
                           ({'frame_id': 'odom'}, 'read-only')]:
        result, = set_parameters(ros_graph, values)
        assert not result.successful, values
        assert reason.lower() in result.reason.lower(), (values, result.reason)
    result, = set_parameters(ros_graph, {'iterations': 3})
    assert result.successful, result.reason
    assert ros_graph.spin_until(
        lambda: diagnostics.value('enbp_belief: planner', 'iterations') == '3', 10,
        every=agents.publish)


def test_bad_yaml_is_refused_at_start_with_its_reason(ros_graph, tmp_path):
    cases = [('damping: 1.5', 'damping'), ('sigma_interrobot: -1.0', 'sigma_interrobot'),
             ("method: 'fastest'", 'method')]
    for text, reason in cases:
        path = tmp_path / 'bad.yaml'
        path.write_text('/**:\n  ros__parameters:\n    agents: [a0]\n    ' + text + '\n')
        node = ros_graph.start('enbp_ros.belief_node', '--params-file', str(path), name='bad')
        code = node.wait(timeout=60)
        assert code != 0
        assert reason in node.output(), node.output()


def test_stamped_pose_type_is_accepted(ros_graph):
    start_belief(ros_graph, '-p', 'pose_type:=stamped')
    node = ros_graph.node
    pub = node.create_publisher(PoseStamped, 'a0/pose', RELIABLE)
    beliefs = []
    node.create_subscription(PoseWithCovarianceStamped, 'a0/belief', beliefs.append, RELIABLE)

    def publish():
        msg = goal_msg((1.0, 2.0, 0.0))
        msg.header.stamp = outputs.to_stamp(time.time())
        pub.publish(msg)

    assert ros_graph.spin_until(lambda: beliefs, 30, every=publish), ros_graph.logs()
    covariance = np.asarray(beliefs[-1].pose.covariance).reshape(6, 6)
    assert covariance[0, 0] > 0 and stamp_seconds(beliefs[-1].header.stamp) > 0
