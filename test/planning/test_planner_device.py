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

"""The planner's ``device``: CUDA runs the same code path as the CPU, to round-off."""

import dataclasses

from enbp_core.planning import BeliefPlanner, preset
from enbp_core.sim.scenarios import load_scenario
import pytest
import torch

CUDA = torch.cuda.is_available()


def test_auto_device_is_cuda_exactly_when_available():
    planner = BeliefPlanner(preset('enbp', {'device': 'auto'}))
    assert planner.device.type == ('cuda' if CUDA else 'cpu')


@pytest.mark.skipif(CUDA, reason='CUDA is available: the refusal does not apply')
def test_cuda_without_a_gpu_is_refused_with_a_reason():
    with pytest.raises(ValueError, match='CUDA is not available'):
        BeliefPlanner(preset('enbp', {'device': 'cuda'}))


@pytest.mark.skipif(not CUDA, reason='no CUDA device on this machine')
def test_cuda_cycles_match_cpu_cycles(measured):
    instance = load_scenario('circle', 12, seed=0)
    cpu = BeliefPlanner(preset('enbp', {'device': 'cpu'}))
    gpu = BeliefPlanner(preset('enbp', {'device': 'cuda'}))
    scene = instance.scene
    for _ in range(3):
        a, b = cpu.solve(scene), gpu.solve(scene)
        error = (a.states - b.states.cpu()).abs().max()
        covariance = ((a.current_covariance - b.current_covariance.cpu()).abs().max()
                      / a.current_covariance.abs().max())
        measured('planning cycle CUDA vs CPU, states (m)', error)
        measured('planning cycle CUDA vs CPU, covariance (rel)', covariance)
        assert error < 1e-6 and covariance < 1e-6
        positions = scene.positions + 0.1 * a.plan.velocities
        scene = dataclasses.replace(scene, positions=positions, time=scene.time + 0.1)
