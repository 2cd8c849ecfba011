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

"""Build a planner's frozen config dataclass from a plain mapping (YAML, CLI)."""

import dataclasses
import math
from typing import Any, Mapping, Optional, Type, TypeVar

__all__ = ['config_from_mapping']

T = TypeVar('T')


def config_from_mapping(cls: Type[T], mapping: Optional[Mapping[str, Any]], where: str) -> T:
    """
    Return ``cls(**mapping)`` after checking keys and value types.

    Unknown keys, non-numbers for numeric fields, non-integers for integer
    fields, and non-finite or negative numbers raise :class:`ValueError`
    naming ``where`` and the key. Missing keys keep the dataclass defaults.
    """
    if mapping is None:
        return cls()
    if isinstance(mapping, cls):
        return mapping
    if not isinstance(mapping, Mapping):
        raise ValueError(f'{where}: config must be a mapping, got {type(mapping).__name__}')
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise ValueError(f'{where}: unknown options {unknown}; known: {sorted(fields)}')
    values = {}
    for key, value in mapping.items():
        default = fields[key].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f'{where}.{key} must be true or false, got {value!r}')
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f'{where}.{key} must be a number, got {value!r}')
            if not math.isfinite(value) or value < 0:
                raise ValueError(f'{where}.{key} must be finite and >= 0, got {value!r}')
            if isinstance(default, int):
                if not float(value).is_integer():
                    raise ValueError(f'{where}.{key} must be an integer, got {value!r}')
                value = int(value)
            else:
                value = float(value)
        values[key] = value
    return cls(**values)
