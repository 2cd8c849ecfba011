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
Factors of the multi-agent planning graph.

Every factor is built as a Gaussian potential, or a mixture of them, in
information form over the variables it touches; the engine in
:mod:`enbp_core.bp` only sees those potentials.

- :mod:`~enbp_core.factors.dynamics`: constant-velocity motion between horizon steps.
- :mod:`~enbp_core.factors.priors`: state measurement, goal, and the weak prior.
- :mod:`~enbp_core.factors.distance`: the safety-distance hinge, linearised, as a
  potential over a relative position (inter-agent collision and obstacles).
- :mod:`~enbp_core.factors.hypotheses`: message models that turn the hinge into a
  mixture potential: linearised (vanilla GBP, one component) and side hypotheses
  (pass on one side or the other, two components, exactly equivariant).
- :mod:`~enbp_core.factors.speed`: the speed limit.
"""
