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
The benchmark's method registry: a planner for each method name.

``enbp`` (with the learned e3nn message model, also named ``enbp-neural``), its
message-model variants ``enbp-analytic`` (hand-made side hypotheses) and
``enbp-mlp`` (the MLP baseline), and
``gbp``, ``gbp-damped`` and ``gbp-margin`` come from
:func:`enbp_core.planning.make_planner`, resolved lazily (imported on first
use), so that the simulator and the baselines work without it. ``orca`` and
``straight`` are :mod:`enbp_core.baselines`.
"""

import importlib
import importlib.util
from typing import Any, Dict, Mapping, Optional

from enbp_core.scene import Planner

__all__ = [
    'BASELINE_METHODS',
    'DEFAULT_METHODS',
    'METHODS',
    'MethodUnavailableError',
    'PLANAR_ONLY',
    'PLANNING_METHODS',
    'make_method',
    'method_unavailable',
    'scenario_config',
]

PLANNING_METHODS = ('enbp', 'enbp-analytic', 'enbp-mlp', 'enbp-neural', 'gbp', 'gbp-damped',
                    'gbp-margin')
BASELINE_METHODS = ('orca', 'straight')
METHODS = PLANNING_METHODS + BASELINE_METHODS
DEFAULT_METHODS = ('enbp', 'gbp', 'gbp-damped', 'gbp-margin', 'orca')
PLANAR_ONLY = frozenset({'orca'})


class MethodUnavailableError(RuntimeError):
    """A known method whose implementation cannot be loaded here."""


def _planning_factory(name: str):
    """Return ``enbp_core.planning.make_planner`` or raise :class:`MethodUnavailableError`."""
    try:
        module = importlib.import_module('enbp_core.planning')
    except ModuleNotFoundError as error:
        if error.name != 'enbp_core.planning':
            raise  # planning exists but one of its own imports is missing: show that
        raise MethodUnavailableError(
            f'method {name} needs enbp_core.planning, which is not available') from None
    factory = getattr(module, 'make_planner', None)
    if factory is None:
        raise MethodUnavailableError(
            f'method {name} needs enbp_core.planning.make_planner, which is not defined')
    return factory


def method_unavailable(name: str) -> Optional[str]:
    """Return why ``name`` cannot run here, or None if it can."""
    if name not in METHODS:
        return f'unknown method {name!r}; known: {", ".join(METHODS)}'
    if name in PLANNING_METHODS:
        try:
            _planning_factory(name)
        except MethodUnavailableError as error:
            return str(error)
    if name == 'orca' and importlib.util.find_spec('pyrvo') is None:
        return 'method orca needs the pyrvo package (pip install pyrvo)'
    return None


def make_method(name: str, config: Optional[Mapping[str, Any]] = None) -> Planner:
    """
    Return a fresh planner for method ``name``.

    Parameters
    ----------
    name : str
        One of :data:`METHODS`.
    config : mapping, optional
        The planner's options (for ``orca`` see
        :class:`~enbp_core.baselines.orca.OrcaConfig`; for the BP methods,
        whatever :func:`enbp_core.planning.make_planner` accepts).

    Raises
    ------
    ValueError
        For an unknown name or bad options.
    MethodUnavailableError
        When the method's implementation is missing (``enbp_core.planning``
        for the BP methods, ``pyrvo`` for ``orca``).

    """
    if name == 'orca':
        from enbp_core.baselines.orca import OrcaPlanner
        try:
            return OrcaPlanner(config)
        except RuntimeError as error:
            raise MethodUnavailableError(str(error)) from None
    if name == 'straight':
        from enbp_core.baselines.straight import StraightPlanner
        return StraightPlanner(config)
    if name in PLANNING_METHODS:
        factory = _planning_factory(name)
        return factory(name, None if config is None else dict(config))
    raise ValueError(f'unknown method {name!r}; known: {", ".join(METHODS)}')


def scenario_config(name: str, control_period_s: float, max_acceleration: float,
                    config: Optional[Mapping[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """
    Add what a baseline must know of the scenario to the user's options.

    ``orca`` and ``straight`` get ``time_step`` (the control period, s) and
    ``max_acceleration`` (m/s², for braking) unless the options set them; the
    BP methods get the user's options unchanged (None: their defaults).
    """
    if name in BASELINE_METHODS:
        merged: Dict[str, Any] = {'time_step': control_period_s,
                                  'max_acceleration': max_acceleration}
        merged.update(config or {})
        return merged
    return None if config is None else dict(config)
