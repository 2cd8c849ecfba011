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
ENBP core: equivariant neural belief propagation as a plain PyTorch library.

The math kernels, bottom up:

- :mod:`enbp_core.se3`: rigid motions and their action on states and Gaussians.
- :mod:`enbp_core.spectral`: spectral functions of symmetric matrices with a
  backward that is exact at repeated eigenvalues (Daleckii–Krein).
- :mod:`enbp_core.gaussian`: Gaussians in information form, proper or not.
- :mod:`enbp_core.mixture`: Gaussian mixtures, their products and moments.
- :mod:`enbp_core.reduction`: greedy Runnalls mixture reduction.
- :mod:`enbp_core.checks`: validators for data entering the library.

On top of them:

- :mod:`enbp_core.factors`: the planning factors and the message models.
- :mod:`enbp_core.bp`: batched loopy BP with Gaussian-mixture factors.
- :mod:`enbp_core.scene`: what a planner sees (:class:`~enbp_core.scene.Scene`)
  and returns (:class:`~enbp_core.scene.Plan`).
- :mod:`enbp_core.planning`: scene to factor graph to plans (ENBP and vanilla GBP).
- :mod:`enbp_core.sim`, :mod:`enbp_core.baselines`, :mod:`enbp_core.benchmark`:
  the headless simulator, ORCA and straight-line baselines, and ``enbp-bench``.

Nothing here imports ROS; ``enbp_ros`` wraps this library in nodes.
"""

from enbp_core import checks, gaussian, mixture, reduction, se3, spectral
from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
from enbp_core.se3 import RigidMotion

__all__ = [
    'Gaussian',
    'Mixture',
    'RigidMotion',
    'checks',
    'gaussian',
    'mixture',
    'reduction',
    'se3',
    'spectral',
]

__version__ = '0.1.0'
