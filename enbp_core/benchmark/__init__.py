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
The closed-loop benchmark behind ``enbp-bench``.

- :mod:`enbp_core.benchmark.methods`: method names to planners.
- :mod:`enbp_core.benchmark.runner`: one (scenario, N, method, seed) run.
- :mod:`enbp_core.benchmark.report`: table, seed means, JSON.
- :mod:`enbp_core.benchmark.plots`: trajectory and metrics-vs-N PNGs.
- :mod:`enbp_core.benchmark.progress`: the progress line.
- :mod:`enbp_core.benchmark.cli`: the command line.
"""
