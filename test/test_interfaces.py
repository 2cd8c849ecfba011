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

"""The generated ``enbp.msg`` interfaces: construction, CDR round trip, size checks."""

from enbp.msg import GaussianComponent
from enbp.msg import MixtureBelief
from enbp.msg import MixtureBeliefArray
import numpy as np
import pytest
from rclpy.serialization import deserialize_message
from rclpy.serialization import serialize_message


def _component(rng, weight):
    """Return a component with a random mean and a random SPD covariance."""
    a = rng.standard_normal((6, 6))
    covariance = a @ a.T + 0.1 * np.eye(6)
    return GaussianComponent(
        weight=weight,
        mean=rng.standard_normal(6),
        covariance=covariance.reshape(36))


def _belief_array():
    """Return one cycle's array: 2 beliefs of 2 components each."""
    rng = np.random.default_rng(20260)
    array = MixtureBeliefArray()
    array.header.stamp.sec = 1767225600
    array.header.stamp.nanosec = 250_000_000
    array.header.frame_id = 'map'
    for agent_id, weights in (('robot_1', (0.75, 0.25)), ('robot_2', (0.6, 0.4))):
        belief = MixtureBelief(agent_id=agent_id)
        belief.header = array.header
        belief.components = [_component(rng, w) for w in weights]
        array.beliefs.append(belief)
    return array


def test_types_are_generated_with_the_documented_fields():
    fields = GaussianComponent.get_fields_and_field_types()
    assert fields == {'weight': 'double', 'mean': 'double[6]', 'covariance': 'double[36]'}
    fields = MixtureBelief.get_fields_and_field_types()
    assert fields == {
        'header': 'std_msgs/Header',
        'agent_id': 'string',
        'components': 'sequence<enbp/GaussianComponent>',
    }
    fields = MixtureBeliefArray.get_fields_and_field_types()
    assert fields == {'header': 'std_msgs/Header', 'beliefs': 'sequence<enbp/MixtureBelief>'}


def test_serialization_round_trip_preserves_every_field():
    sent = _belief_array()
    data = serialize_message(sent)
    assert isinstance(data, bytes) and len(data) > 2 * 2 * 43 * 8
    received = deserialize_message(data, MixtureBeliefArray)

    assert received.header.stamp.sec == sent.header.stamp.sec
    assert received.header.stamp.nanosec == sent.header.stamp.nanosec
    assert received.header.frame_id == 'map'
    assert len(received.beliefs) == len(sent.beliefs) == 2
    for got, want in zip(received.beliefs, sent.beliefs):
        assert got.header.frame_id == want.header.frame_id
        assert got.header.stamp.sec == want.header.stamp.sec
        assert got.header.stamp.nanosec == want.header.stamp.nanosec
        assert got.agent_id == want.agent_id
        assert len(got.components) == len(want.components) == 2
        for got_c, want_c in zip(got.components, want.components):
            assert got_c.weight == want_c.weight
            assert got_c.mean.dtype == np.float64 and got_c.mean.shape == (6,)
            assert got_c.covariance.dtype == np.float64 and got_c.covariance.shape == (36,)
            np.testing.assert_array_equal(got_c.mean, want_c.mean)
            np.testing.assert_array_equal(got_c.covariance, want_c.covariance)
        assert sum(c.weight for c in got.components) == pytest.approx(1.0)
    assert received == sent


@pytest.mark.parametrize('mean', [[0.0] * 5, [0.0] * 7, np.zeros(5), np.zeros(7)])
def test_wrong_size_mean_is_rejected(mean):
    # ROS 2 Kilted's generated classes check field types and sizes only when asked
    # (check_fields=True, or ROS_PYTHON_CHECK_FIELDS=1 in the environment); unchecked, a
    # wrong-size array is accepted and even serialised, so code that builds these messages
    # must ask for the checks or validate sizes itself.
    with pytest.raises(AssertionError, match='mean'):
        GaussianComponent(check_fields=True, mean=mean)
    component = GaussianComponent(check_fields=True)
    with pytest.raises(AssertionError, match='mean'):
        component.mean = mean


def test_wrong_size_covariance_is_rejected():
    with pytest.raises(AssertionError, match='covariance'):
        GaussianComponent(check_fields=True, covariance=np.zeros(35))
