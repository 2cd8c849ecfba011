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
Learned, SE(3)-equivariant message models for distance factors.

- :mod:`~enbp_core.nn.precision`: precisions from equivariant outer products.
- :mod:`~enbp_core.nn.network`: the e3nn hypothesis network, its MLP
  baseline, and :class:`NeuralHypotheses`, the message model.
- :mod:`~enbp_core.nn.reference`: exact tilted distributions of the hinge
  factor by importance sampling; the KL and the training loss.
- :mod:`~enbp_core.nn.data`: training factors harvested from simulations.
- :mod:`~enbp_core.nn.train`: the ``enbp-train`` command.
- :mod:`~enbp_core.nn.weights`: versioned, checksummed weights files.
"""

from enbp_core.nn.network import (EquivariantHypothesisNet, MLPHypothesisNet,
                                  NeuralHypotheses)
from enbp_core.nn.precision import synthesise_precision
from enbp_core.nn.weights import load_message_model, WeightsError

__all__ = ['EquivariantHypothesisNet', 'load_message_model', 'MLPHypothesisNet',
           'NeuralHypotheses', 'synthesise_precision', 'WeightsError']
