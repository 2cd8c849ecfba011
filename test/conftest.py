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
Fixtures shared by the test suite, and the measured-error report.

Tests record the errors they measure with the ``measured`` fixture; the
largest value per name is printed in a table at the end of the run, so CI logs
show the figures and not only pass/fail.
"""

import collections

import pytest
import torch

_MEASURED = collections.defaultdict(float)

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])

# Relative tolerances per dtype for results that should agree to round-off.
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}


@pytest.fixture(params=[torch.float32, torch.float64], ids=['float32', 'float64'])
def dtype(request):
    """Run a test in both precisions."""
    return request.param


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test on the CPU and, when present, on CUDA."""
    return torch.device(request.param)


@pytest.fixture
def generator(request):
    """Return a seeded CPU generator, distinct per test."""
    seed = sum(ord(c) for c in request.node.nodeid) % (2 ** 31)
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def measured():
    """Return a recorder of measured errors: call it with a name and a value."""
    def record(name, value):
        value = float(value)
        _MEASURED[name] = max(_MEASURED[name], value)
        return value
    return record


def pytest_terminal_summary(terminalreporter):
    """Print the largest error measured under each name."""
    if not _MEASURED:
        return
    terminalreporter.section('measured errors (max over draws)')
    width = max(len(name) for name in _MEASURED)
    for name in sorted(_MEASURED):
        terminalreporter.write_line(f'{name:<{width}}  {_MEASURED[name]:.3e}')
