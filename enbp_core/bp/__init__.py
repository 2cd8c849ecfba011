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
Batched loopy belief propagation with Gaussian-mixture factors.

:mod:`~enbp_core.bp.graph` holds the factor graph as index tensors, grouped by
factor type; :mod:`~enbp_core.bp.messages` computes factor-to-variable
messages for a whole group at once; :mod:`~enbp_core.bp.engine` runs the
synchronous schedule with damping and warm starts, detects divergence and
assembles mixture beliefs.
"""

from enbp_core.bp.engine import BPResult, mixture_beliefs, mixture_messages, run
from enbp_core.bp.graph import FactorGraph, FactorGroup

__all__ = ['BPResult', 'FactorGraph', 'FactorGroup', 'mixture_beliefs', 'mixture_messages',
           'run']
