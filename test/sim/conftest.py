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

"""Fixtures of the simulator tests."""

from enbp_core.scene import Obstacles, Scene
import pytest
import torch


def make_scene(positions, goals=None, radius=1.0, max_speed=2.0, obstacles=None,
               ids=None) -> Scene:
    """Build a float64 scene of agents at rest from lists of points."""
    positions = torch.as_tensor(positions, dtype=torch.float64)
    n = positions.shape[0]
    goals = positions.clone() if goals is None else torch.as_tensor(goals, dtype=torch.float64)
    return Scene(
        ids=tuple(f'a{i}' for i in range(n)) if ids is None else tuple(ids),
        positions=positions, velocities=torch.zeros(n, 3, dtype=torch.float64),
        covariances=(1e-4 * torch.eye(6, dtype=torch.float64)).expand(n, 6, 6).clone(),
        goals=goals, radii=torch.full((n,), radius, dtype=torch.float64),
        max_speeds=torch.full((n,), max_speed, dtype=torch.float64),
        obstacles=Obstacles.empty() if obstacles is None else obstacles)


@pytest.fixture
def scene_factory():
    """Return :func:`make_scene`."""
    return make_scene
