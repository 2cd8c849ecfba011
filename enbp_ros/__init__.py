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
ROS 2 layer of ENBP: rclpy nodes around :mod:`enbp_core`.

This package holds only what is ROS: conversions between messages and tensors, parameter
declaration and validation, and publishers, subscribers and timers. Each node callback
gathers tensors, calls one :mod:`enbp_core` function and publishes the result.
"""
