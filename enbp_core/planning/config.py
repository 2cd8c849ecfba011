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
Planner parameters: one validated dataclass, and the presets of each method.

Every field is documented where it is declared; the same names are the keys
of ``config/planner.yaml`` and of the ROS parameters. Defaults follow
gbpplanner (Patwardhan et al., RA-L 2022) lifted to 3-D where they are its
parameters, so that ``gbp`` is that planner and the other methods differ from
it only in the fields their presets name.
"""

from dataclasses import asdict, dataclass, fields, replace
import math
from typing import Any, Dict, Mapping, Optional, Tuple

__all__ = ['MESSAGE_MODELS', 'METHODS', 'PlannerConfig', 'preset']

MESSAGE_MODELS = ('linearised', 'side', 'neural', 'mlp')


@dataclass(frozen=True)
class PlannerConfig:
    """
    Parameters of a belief-propagation planner.

    Attributes
    ----------
    dt : float
        Time unit of the horizon spacing and the control period, s.
    horizon_variables : int
        States per agent over the horizon, the current one included.
    lookahead_multiple : int
        gbpplanner's spacing: each gap between horizon states (in units of
        ``dt``) is used this many times before it grows by one.
    sigma_dynamics : float
        Constant-velocity noise intensity.
    sigma_interrobot : float
        Standard deviation of the inter-agent hinge residual.
    sigma_obstacle : float
        Standard deviation of the obstacle hinge residual.
    sigma_horizon : float
        Standard deviation of the horizon-target prior on the last state, m.
    sigma_speed : float
        Standard deviation of the speed-limit residual, m/s.
    speed_limit : bool
        Add the speed-limit factor on every planned state.
    safety_factor : float
        Safety distance of a pair as a multiple of the sum of radii (2.2 m for
        two 1 m robots at 1.1); for an obstacle, its radius plus this multiple
        of the agent's radius, plus ``hinge_ramp``.
    comm_radius : float
        Agents farther apart than this now are not connected, m.
    activation_margin : float
        A pair (or agent-obstacle) factor is created for a horizon step when
        the bodies are within safety distance plus this margin at the start
        of the cycle; inside the iterations it is active only within the
        safety distance.
    hinge_ramp : float
        Depth over which distance (m) and speed (m/s) hinge factors fade in;
        0 is gbpplanner's hard switch. Positive values make the cycle a
        continuous function of the scene (see
        :func:`enbp_core.factors.distance.activation`). Obstacle hinges fade
        in outside the obstacle's safety distance, so that they are at full
        strength there (an obstacle cannot give way, and its margin beyond
        the body is half a pair's).
    iterations : int
        Synchronous BP iterations per control cycle.
    damping : float
        Message damping in ``[0, 1)``.
    message_model : str
        ``'linearised'`` (vanilla GBP), ``'side'`` (two analytic side
        hypotheses), ``'neural'`` (the same two hypotheses from the shipped
        e3nn network, :mod:`enbp_core.nn`) or ``'mlp'`` (the shipped
        non-equivariant MLP baseline).
    lateral_floor : float
        Side hypotheses: minimum lateral offset of a hypothesis, fraction of
        the safety distance.
    hysteresis : float
        Side hypotheses: prior log weight given to the side a pair chose in
        the previous cycle, nats.
    max_components : int
        Components kept in mixture beliefs (``K_max``).
    weak_prior_sigma : float
        Standard deviation of the weak prior on every state, m (and m/s).
    dtype : str
        ``'float64'`` or ``'float32'``.
    device : str
        ``'cpu'``, ``'cuda'`` or ``'auto'`` (CUDA when available).

    """

    dt: float = 0.1
    horizon_variables: int = 15
    lookahead_multiple: int = 3
    sigma_dynamics: float = 0.1
    sigma_interrobot: float = 0.01
    sigma_obstacle: float = 0.01
    sigma_horizon: float = 0.01
    sigma_speed: float = 0.05
    speed_limit: bool = False
    safety_factor: float = 1.1
    comm_radius: float = 20.0
    activation_margin: float = 2.0
    hinge_ramp: float = 0.0
    iterations: int = 10
    damping: float = 0.0
    message_model: str = 'linearised'
    lateral_floor: float = 0.5
    hysteresis: float = 5.0
    max_components: int = 1
    weak_prior_sigma: float = 10.0
    dtype: str = 'float64'
    device: str = 'cpu'

    def __post_init__(self):
        """Refuse absurd values with the field name and the reason."""
        positive = ('dt', 'sigma_dynamics', 'sigma_interrobot', 'sigma_obstacle',
                    'sigma_horizon', 'sigma_speed', 'safety_factor', 'comm_radius',
                    'weak_prior_sigma')
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f'{name} must be a positive finite number, got {value!r}')
        for name, low in (('horizon_variables', 2), ('lookahead_multiple', 1),
                          ('iterations', 1), ('max_components', 1)):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise ValueError(f'{name} must be an integer >= {low}, got {value!r}')
        if not (isinstance(self.damping, (int, float)) and 0 <= self.damping < 1):
            raise ValueError(f'damping must be in [0, 1), got {self.damping!r}')
        if not (isinstance(self.hinge_ramp, (int, float)) and math.isfinite(self.hinge_ramp)
                and self.hinge_ramp >= 0):
            raise ValueError(f'hinge_ramp must be >= 0, got {self.hinge_ramp!r}')
        if not (isinstance(self.activation_margin, (int, float))
                and math.isfinite(self.activation_margin) and self.activation_margin >= 0):
            raise ValueError(f'activation_margin must be >= 0, got {self.activation_margin!r}')
        if not 0 <= self.lateral_floor <= 1:
            raise ValueError(f'lateral_floor must be in [0, 1], got {self.lateral_floor!r}')
        if not (math.isfinite(self.hysteresis) and self.hysteresis >= 0):
            raise ValueError(f'hysteresis must be >= 0, got {self.hysteresis!r}')
        if self.message_model not in MESSAGE_MODELS:
            raise ValueError(f'message_model must be one of {MESSAGE_MODELS}, '
                             f'got {self.message_model!r}')
        if self.dtype not in ('float64', 'float32'):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        if self.device not in ('cpu', 'cuda', 'auto'):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {self.device!r}")

    def horizon_offsets(self) -> Tuple[int, ...]:
        """
        Return the horizon states' times in units of ``dt``, starting at 0.

        gbpplanner's rule: gaps of 1 repeated ``lookahead_multiple`` times,
        then gaps of 2, and so on (0, 1, 2, 3, 5, 7, 9, 12, ... for 3).
        """
        offsets, gap = [0], 1
        while len(offsets) < self.horizon_variables:
            for _ in range(self.lookahead_multiple):
                if len(offsets) == self.horizon_variables:
                    break
                offsets.append(offsets[-1] + gap)
            gap += 1
        return tuple(offsets)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any],
                     base: Optional['PlannerConfig'] = None) -> 'PlannerConfig':
        """Return ``base`` (defaults if omitted) updated from a mapping; unknown keys raise."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f'unknown planner parameters {unknown}; known: {sorted(known)}')
        return replace(base or cls(), **dict(values))

    def as_dict(self) -> Dict[str, Any]:
        """Return the parameters as a plain dictionary."""
        return asdict(self)


# ENBP's engine settings, shared by its message models.
_ENBP = {'damping': 0.5, 'safety_factor': 1.25, 'max_components': 2, 'hinge_ramp': 0.25}

# Each benchmark method is gbpplanner's design plus the changes named here.
# ENBP's message model is the learned one; ``enbp-analytic`` keeps the hand-made
# side hypotheses the network was harvested with.
METHODS: Dict[str, Dict[str, Any]] = {
    'gbp': {},
    'gbp-damped': {'damping': 0.5},
    'gbp-margin': {'damping': 0.5, 'safety_factor': 1.25},
    'enbp': {**_ENBP, 'message_model': 'neural'},
    'enbp-analytic': {**_ENBP, 'message_model': 'side'},
    'enbp-neural': {**_ENBP, 'message_model': 'neural'},
    'enbp-mlp': {**_ENBP, 'message_model': 'mlp'},
}


def preset(method: str, overrides: Optional[Mapping[str, Any]] = None) -> PlannerConfig:
    """Return the configuration of a benchmark method, with optional overrides."""
    if method not in METHODS:
        raise ValueError(f'unknown method {method!r}; known: {sorted(METHODS)}')
    config = PlannerConfig.from_mapping(METHODS[method])
    return PlannerConfig.from_mapping(overrides or {}, base=config)
