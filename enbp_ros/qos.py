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
The QoS of every topic, named once so that publishers and subscribers match.

- Incoming poses: sensor data (best effort, keep last 5). A reliable publisher also
  connects to it; a late pose is worth less than the next one.
- Goals, beliefs, plans, mixture beliefs, markers, diagnostics: reliable, volatile.
- Obstacles: reliable, transient local (static markers, latched for late joiners). A
  volatile publisher does not connect to this subscriber: publish obstacles latched.
- ``/clock``: reliable, keep last 1 (what rclpy's time source subscribes with).
"""

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)

__all__ = ['CLOCK', 'LATCHED', 'POSES', 'RELIABLE']

POSES = qos_profile_sensor_data
RELIABLE = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)
LATCHED = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                     reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
CLOCK = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                   reliability=ReliabilityPolicy.RELIABLE,
                   durability=DurabilityPolicy.VOLATILE)
