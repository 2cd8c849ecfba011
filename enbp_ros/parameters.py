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
ROS parameters: declared once with descriptors, validated on every set.

A :class:`ParameterSpec` is one parameter: name, default, description, range, whether it
may change at run time. :func:`planner_parameter_specs` derives the planner's parameters
from :class:`enbp_core.planning.PlannerConfig` (names, defaults of the chosen method's
preset, and the descriptions written in its docstring), so the ROS names, the YAML keys
and the library fields are one list. Values are checked twice: by the descriptor ranges
(rclpy refuses out-of-range and NaN values) and by the node's on-set callback, which
builds the candidate :class:`PlannerConfig` and returns its error as the reason.
"""

from dataclasses import dataclass, fields
import inspect
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from enbp_core.planning import PlannerConfig, preset
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.parameter import Parameter

__all__ = ['declare_parameters', 'ParameterSpec', 'planner_parameter_specs',
           'PLANNER_READ_ONLY']

# Planner fields fixed for the node's lifetime: they choose tensors' dtype and device.
PLANNER_READ_ONLY = ('dtype', 'device')

# Ranges the descriptors advertise (the config's own checks are the final word).
_PLANNER_RANGES: Dict[str, Tuple[float, float]] = {
    'dt': (1e-3, 10.0),
    'horizon_variables': (2, 200),
    'lookahead_multiple': (1, 100),
    'iterations': (1, 1000),
    'damping': (0.0, 0.99),
    'max_components': (1, 16),
    'lateral_floor': (0.0, 1.0),
    'hysteresis': (0.0, 100.0),
    'safety_factor': (0.1, 10.0),
    'activation_margin': (0.0, 100.0),
    'hinge_ramp': (0.0, 10.0),
}


@dataclass(frozen=True)
class ParameterSpec:
    """
    One ROS parameter.

    Attributes
    ----------
    name : str
        Parameter name.
    default : Any
        Default value; a :class:`rclpy.parameter.Parameter.Type` declares a typed
        parameter with no default (e.g. an empty string array).
    description : str
        What it means, with units.
    read_only : bool
        Fixed after start-up.
    low, high : float, optional
        Inclusive range advertised in the descriptor and enforced by rclpy.
    constraints : str
        Further constraints, in words.

    """

    name: str
    default: Any
    description: str
    read_only: bool = False
    low: Optional[float] = None
    high: Optional[float] = None
    constraints: str = ''

    def descriptor(self) -> ParameterDescriptor:
        """Return the ``rcl_interfaces/ParameterDescriptor`` of this parameter."""
        descriptor = ParameterDescriptor(name=self.name, description=self.description,
                                         read_only=self.read_only,
                                         additional_constraints=self.constraints)
        if self.low is not None and self.high is not None:
            kind = self.default if isinstance(self.default, Parameter.Type) else None
            if kind is Parameter.Type.INTEGER or (
                    kind is None and isinstance(self.default, int)
                    and not isinstance(self.default, bool)):
                descriptor.integer_range = [IntegerRange(
                    from_value=int(self.low), to_value=int(self.high), step=1)]
            else:
                descriptor.floating_point_range = [FloatingPointRange(
                    from_value=float(self.low), to_value=float(self.high), step=0.0)]
        return descriptor


def _attribute_docs(cls) -> Dict[str, str]:
    """Map each name of a NumPy-style ``Attributes`` section to its one-paragraph text."""
    doc = inspect.cleandoc(cls.__doc__ or '')
    section = doc.split('Attributes\n----------\n', 1)[-1]
    docs: Dict[str, str] = {}
    for match in re.finditer(r'^(\w+(?:, \w+)*) : [^\n]+\n((?:    [^\n]*\n?)+)', section,
                             re.MULTILINE):
        text = ' '.join(line.strip() for line in match.group(2).splitlines())
        for name in match.group(1).split(', '):
            docs[name] = text
    return docs


def planner_parameter_specs(method: str) -> List[ParameterSpec]:
    """Return one spec per :class:`PlannerConfig` field, defaults from ``preset(method)``."""
    config = preset(method)
    docs = _attribute_docs(PlannerConfig)
    specs = []
    for field in fields(PlannerConfig):
        value = getattr(config, field.name)
        low, high = _PLANNER_RANGES.get(field.name, (None, None))
        specs.append(ParameterSpec(
            name=field.name, default=value,
            description=docs.get(field.name, field.name) + f' (preset {method!r}: {value!r})',
            read_only=field.name in PLANNER_READ_ONLY, low=low, high=high,
            constraints='validated by enbp_core.planning.PlannerConfig'))
    return specs


def declare_parameters(node, specs: Iterable[ParameterSpec]) -> Dict[str, Any]:
    """Declare ``specs`` on ``node``; return their values (YAML and overrides applied)."""
    values = {}
    for spec in specs:
        parameter = node.declare_parameter(spec.name, spec.default, spec.descriptor())
        values[spec.name] = parameter.value
    return values


def values_by_name(parameters: Sequence[Parameter]) -> Dict[str, Any]:
    """Return ``{name: value}`` of a list of rclpy parameters."""
    return {p.name: p.value for p in parameters}
