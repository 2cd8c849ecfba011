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

"""Random inputs shared by the core tests (seeded through a generator)."""

import torch


def random_spd(*shape, n, generator, dtype=torch.float64, device='cpu', floor=0.1):
    """Random SPD matrices of shape ``(*shape, n, n)`` with eigenvalues above ``floor``."""
    a = torch.randn(*shape, n, n, generator=generator, dtype=torch.float64)
    spd = a @ a.transpose(-1, -2) / n + floor * torch.eye(n, dtype=torch.float64)
    return spd.to(dtype=dtype, device=device)


def random_psd(*shape, n, rank, generator, dtype=torch.float64):
    """Random PSD matrices of shape ``(*shape, n, n)`` and exact rank ``rank``."""
    a = torch.randn(*shape, n, rank, generator=generator, dtype=torch.float64)
    return (a @ a.transpose(-1, -2)).to(dtype)


def relative_error(actual, expected):
    """``max|actual - expected| / max(1, max|expected|)`` as a float."""
    actual = actual.detach().to(torch.float64).cpu()
    expected = expected.detach().to(torch.float64).cpu()
    scale = max(1.0, float(expected.abs().max())) if expected.numel() else 1.0
    return float((actual - expected).abs().max()) / scale if actual.numel() else 0.0
