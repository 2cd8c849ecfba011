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
Benchmark scenarios from YAML files: starts, goals, limits and obstacles.

A scenario file (``config/scenarios/<name>.yaml``, each documented in its
comments) names a *generator* and its parameters::

    generator: circle          # circle | sphere | junction | random
    dimensions: 2              # 2: planar (z = 0), 3: 3-D
    agents: {radius: 1.0, max_speed: 2.0, max_acceleration: 2.0}
    layout: {...}              # generator-specific geometry
    obstacles: {...}           # optional: random spheres / vertical cylinders
    simulation: {dt: 0.1, control_period_steps: 1, goal_tolerance: 0.5,
                 time_limit: {per_ideal: 3.0, minimum: 60.0},
                 noise: {position: 0.0, velocity: 0.0}, covariance_floor: 1.0e-4}

:func:`load_scenario` reads a file, validates every value (unknown keys,
wrong types and out-of-range values raise :class:`ValueError` naming the
key), lays out ``N`` agents with a seeded generator and returns a
:class:`ScenarioInstance`: the initial :class:`~enbp_core.scene.Scene`
(agents at rest at their starts), the acceleration limits and the
:class:`~enbp_core.sim.simulator.SimConfig`. The same name, ``N`` and seed
give the same instance on every machine (``torch.Generator`` on the CPU).

Generators (geometry rules in the YAML files):

- ``circle``: evenly on a circle of radius ``max(min_radius, radius_per_agent N)``
  in z = 0, goals antipodal.
- ``sphere``: Fibonacci-lattice points on a sphere of radius
  ``max(min_radius, spacing sqrt(N / 4 pi))``, goals antipodal.
- ``junction``: 2-4 streams crossing at the origin, formation kept.
- ``random``: uniform starts and goals in a box with minimum separations.

Scenario files are looked up in ``$ENBP_CONFIG_DIR/scenarios``, then in the
source tree's ``config/scenarios`` (editable installs), then in the ament
share directory of the ``enbp`` package (ROS installs).
"""

import copy
import dataclasses
from dataclasses import dataclass, field
import math
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from enbp_core.scene import Obstacles, Scene
from enbp_core.sim.metrics import ideal_time
from enbp_core.sim.simulator import SimConfig, Simulator
import torch
import yaml

__all__ = [
    'GENERATORS',
    'ScenarioInstance',
    'available_scenarios',
    'config_dir',
    'fibonacci_sphere',
    'load_scenario',
    'scenario_path',
]

GENERATORS = ('circle', 'sphere', 'junction', 'random')

_DTYPE = torch.float64


def config_dir() -> Path:
    """
    Return the folder that holds the package's YAML files (``scenarios/``, ``baselines/``).

    Looks in ``$ENBP_CONFIG_DIR``, then the source tree, then the ament share
    directory of ``enbp``; raises :class:`FileNotFoundError` if none exists.
    """
    candidates = []
    if os.environ.get('ENBP_CONFIG_DIR'):
        candidates.append(Path(os.environ['ENBP_CONFIG_DIR']))
    candidates.append(Path(__file__).resolve().parents[2] / 'config')
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.append(Path(get_package_share_directory('enbp')) / 'config')
    except Exception:  # noqa: B902 (not a ROS install, or enbp not in its index)
        pass
    for candidate in candidates:
        if (candidate / 'scenarios').is_dir():
            return candidate
    raise FileNotFoundError(
        'no config/scenarios folder found in ' + ', '.join(str(c) for c in candidates)
        + ' (set ENBP_CONFIG_DIR)')


def available_scenarios() -> Tuple[str, ...]:
    """Return the names of the scenario files shipped with the package, sorted."""
    return tuple(sorted(p.stem for p in (config_dir() / 'scenarios').glob('*.yaml')))


def scenario_path(name_or_path: Union[str, Path]) -> Path:
    """Resolve a scenario name (``'circle'``) or a path to a YAML file."""
    text = str(name_or_path)
    if text.endswith(('.yaml', '.yml')) or os.sep in text or Path(text).is_file():
        path = Path(text)
        if not path.is_file():
            raise ValueError(f'scenario file {text!r} does not exist')
        return path
    path = config_dir() / 'scenarios' / f'{text}.yaml'
    if not path.is_file():
        raise ValueError(f'unknown scenario {text!r}; available: '
                         f'{", ".join(available_scenarios())} (or give a path to a YAML file)')
    return path


@dataclass(frozen=True)
class ScenarioInstance:
    """
    One laid-out scenario: what a simulator needs to run an episode.

    Attributes
    ----------
    name : str
        Scenario name (the file's stem).
    num_agents : int
        ``N``.
    seed : int
        The seed that laid it out (also the measurement-noise seed).
    scene : Scene
        Initial scene: agents at rest at their starts, goals, radii, maximum
        speeds, obstacles; covariances from the noise settings.
    max_accelerations : torch.Tensor
        Shape ``(N,)``, m/s².
    sim : SimConfig
        Step, control period, goal tolerance, time limit, noise, planarity.
    parameters : dict
        The validated YAML content (after overrides).
    layout : dict
        Derived geometry, e.g. ``{'circle_radius': 25.0}``.
    source : str
        Path of the YAML file.

    """

    name: str
    num_agents: int
    seed: int
    scene: Scene
    max_accelerations: torch.Tensor
    sim: SimConfig
    parameters: Dict[str, Any] = field(default_factory=dict)
    layout: Dict[str, float] = field(default_factory=dict)
    source: str = ''

    @property
    def planar(self) -> bool:
        """Whether agents live on the z = 0 plane."""
        return self.sim.planar

    @property
    def starts(self) -> torch.Tensor:
        """Return the start positions, ``(N, 3)``."""
        return self.scene.positions

    @property
    def goals(self) -> torch.Tensor:
        """Return the goals, ``(N, 3)``."""
        return self.scene.goals

    def simulator(self, **changes) -> Simulator:
        """Return a :class:`Simulator` of this instance (``changes`` replace SimConfig fields)."""
        config = dataclasses.replace(self.sim, **changes) if changes else self.sim
        return Simulator(self.scene, self.max_accelerations, config, seed=self.seed)


# --- validation of the YAML -------------------------------------------------------------

def _section(doc: Mapping, key: str, where: str, allowed: Tuple[str, ...],
             required: bool = True) -> Dict[str, Any]:
    """Return ``doc[key]`` as a dict whose keys are all in ``allowed``."""
    if key not in doc or doc[key] is None:
        if required:
            raise ValueError(f'{where}: missing section {key!r}')
        return {}
    value = doc[key]
    if not isinstance(value, Mapping):
        raise ValueError(f'{where}.{key} must be a mapping, got {type(value).__name__}')
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f'{where}.{key}: unknown keys {unknown}; allowed: {sorted(allowed)}')
    return dict(value)


def _number(section: Mapping, key: str, where: str, minimum: Optional[float] = None,
            strict: bool = True, integer: bool = False, maximum: Optional[float] = None):
    """Return a required number ``section[key]``, checked against its range."""
    if key not in section:
        raise ValueError(f'{where}: missing {key!r}')
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{where}.{key} must be a number, got {value!r} '
                         '(write exponents with a dot, e.g. 1.0e-4)')
    if integer and not (isinstance(value, int) or float(value).is_integer()):
        raise ValueError(f'{where}.{key} must be an integer, got {value!r}')
    if not math.isfinite(value):
        raise ValueError(f'{where}.{key} must be finite, got {value!r}')
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValueError(f'{where}.{key} must be {">" if strict else ">="} {minimum}, '
                         f'got {value!r}')
    if maximum is not None and value > maximum:
        raise ValueError(f'{where}.{key} must be <= {maximum}, got {value!r}')
    return int(value) if integer else float(value)


_LAYOUT_KEYS = {
    'circle': ('min_radius', 'radius_per_agent', 'start_jitter'),
    'sphere': ('min_radius', 'spacing', 'start_jitter'),
    'junction': ('streams', 'lanes', 'lane_spacing', 'row_spacing', 'lane_offset',
                 'approach_distance', 'start_jitter'),
    'random': ('min_side', 'area_per_agent', 'min_separation', 'min_travel'),
}
_DIMENSIONS = {'circle': (2,), 'sphere': (3,), 'junction': (2,), 'random': (2, 3)}


def _merge(base: Dict[str, Any], changes: Mapping) -> Dict[str, Any]:
    """Deep-merge ``changes`` into a copy of ``base``."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _validated(doc: Any, where: str) -> Dict[str, Any]:
    """Check the whole document; return it with numbers normalised."""
    if not isinstance(doc, Mapping):
        raise ValueError(f'{where}: a scenario file must hold a mapping, got '
                         f'{type(doc).__name__}')
    allowed = ('generator', 'description', 'dimensions', 'agents', 'layout', 'obstacles',
               'simulation')
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise ValueError(f'{where}: unknown keys {unknown}; allowed: {sorted(allowed)}')
    generator = doc.get('generator')
    if generator not in GENERATORS:
        raise ValueError(f'{where}.generator must be one of {list(GENERATORS)}, '
                         f'got {generator!r}')
    out: Dict[str, Any] = {'generator': generator}
    dimensions = _number(doc, 'dimensions', where, integer=True, minimum=None)
    if dimensions not in _DIMENSIONS[generator]:
        raise ValueError(f'{where}.dimensions must be one of {list(_DIMENSIONS[generator])} '
                         f'for generator {generator!r}, got {dimensions}')
    out['dimensions'] = dimensions

    agents = _section(doc, 'agents', where, ('radius', 'max_speed', 'max_acceleration'))
    out['agents'] = {k: _number(agents, k, f'{where}.agents', minimum=0.0)
                     for k in ('radius', 'max_speed', 'max_acceleration')}

    layout = _section(doc, 'layout', where, _LAYOUT_KEYS[generator])
    lw = f'{where}.layout'
    checked: Dict[str, Any] = {}
    for key in _LAYOUT_KEYS[generator]:
        if key in ('streams', 'lanes'):
            checked[key] = _number(layout, key, lw, minimum=1, strict=False, integer=True,
                                   maximum=4 if key == 'streams' else None)
        elif key in ('start_jitter', 'radius_per_agent', 'spacing', 'lane_offset',
                     'min_travel'):
            checked[key] = _number(layout, key, lw, minimum=0.0, strict=False)
        else:
            checked[key] = _number(layout, key, lw, minimum=0.0)
    out['layout'] = checked

    obstacles = _section(doc, 'obstacles', where, (
        'spheres', 'cylinders', 'radius_range', 'region', 'min_gap', 'clearance'),
        required=False)
    if obstacles:
        ow = f'{where}.obstacles'
        checked = {
            'spheres': _number(obstacles, 'spheres', ow, minimum=0, strict=False, integer=True),
            'cylinders': _number(obstacles, 'cylinders', ow, minimum=0, strict=False,
                                 integer=True),
            'region': _number(obstacles, 'region', ow, minimum=0.0),
            'min_gap': _number(obstacles, 'min_gap', ow, minimum=0.0, strict=False),
            'clearance': _number(obstacles, 'clearance', ow, minimum=0.0, strict=False),
        }
        bounds = obstacles.get('radius_range')
        if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2):
            raise ValueError(f'{ow}.radius_range must be a list [min, max] of radii in m, '
                             f'got {bounds!r}')
        low = _number({'min': bounds[0]}, 'min', f'{ow}.radius_range', minimum=0.0)
        high = _number({'max': bounds[1]}, 'max', f'{ow}.radius_range', minimum=0.0)
        if high < low:
            raise ValueError(f'{ow}.radius_range must have min <= max, got {list(bounds)}')
        checked['radius_range'] = [low, high]
        out['obstacles'] = checked

    sim = _section(doc, 'simulation', where, (
        'dt', 'control_period_steps', 'goal_tolerance', 'time_limit', 'noise',
        'covariance_floor'))
    sw = f'{where}.simulation'
    out_sim: Dict[str, Any] = {
        'dt': _number(sim, 'dt', sw, minimum=0.0),
        'control_period_steps': _number(sim, 'control_period_steps', sw, minimum=1,
                                        strict=False, integer=True),
        'goal_tolerance': _number(sim, 'goal_tolerance', sw, minimum=0.0),
        'covariance_floor': _number(sim, 'covariance_floor', sw, minimum=0.0),
    }
    limit = sim.get('time_limit')
    if isinstance(limit, Mapping):
        limit = _section(sim, 'time_limit', sw, ('per_ideal', 'minimum'))
        out_sim['time_limit'] = {
            'per_ideal': _number(limit, 'per_ideal', f'{sw}.time_limit', minimum=0.0),
            'minimum': _number(limit, 'minimum', f'{sw}.time_limit', minimum=0.0,
                               strict=False)}
    else:
        out_sim['time_limit'] = _number(sim, 'time_limit', sw, minimum=0.0)
    noise = _section(sim, 'noise', sw, ('position', 'velocity'), required=False)
    out_sim['noise'] = {k: _number(noise, k, f'{sw}.noise', minimum=0.0, strict=False)
                        if k in noise else 0.0 for k in ('position', 'velocity')}
    out['simulation'] = out_sim
    if 'description' in doc:
        out['description'] = str(doc['description'])
    return out


# --- layouts ----------------------------------------------------------------------------

def _zeros_z(xy: torch.Tensor) -> torch.Tensor:
    return torch.cat([xy, torch.zeros_like(xy[..., :1])], dim=-1)


def _jitter(n: int, amount: float, dimensions: int, generator: torch.Generator) -> torch.Tensor:
    """Offsets uniform in a disk (2-D, z = 0) or ball (3-D) of radius ``amount``."""
    direction = torch.randn(n, dimensions, generator=generator, dtype=_DTYPE)
    direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    radius = amount * torch.rand(n, 1, generator=generator, dtype=_DTYPE) ** (1 / dimensions)
    offset = direction * radius
    return _zeros_z(offset) if dimensions == 2 else offset


def _circle(n: int, layout: Mapping, dimensions: int, generator: torch.Generator):
    radius = max(layout['min_radius'], layout['radius_per_agent'] * n)
    angle = 2 * math.pi * torch.arange(n, dtype=_DTYPE) / n
    nominal = _zeros_z(radius * torch.stack([angle.cos(), angle.sin()], dim=-1))
    starts = nominal + _jitter(n, layout['start_jitter'], 2, generator)
    return starts, -nominal, {'circle_radius': radius, 'extent': radius}


def fibonacci_sphere(n: int) -> torch.Tensor:
    """Return ``n`` evenly spread unit vectors (the Fibonacci lattice), ``(n, 3)``."""
    i = torch.arange(n, dtype=_DTYPE)
    z = 1 - 2 * (i + 0.5) / n
    ring = torch.sqrt((1 - z * z).clamp_min(0))
    phi = i * math.pi * (3 - math.sqrt(5))
    return torch.stack([ring * phi.cos(), ring * phi.sin(), z], dim=-1)


def _sphere(n: int, layout: Mapping, dimensions: int, generator: torch.Generator):
    radius = max(layout['min_radius'], layout['spacing'] * math.sqrt(n / (4 * math.pi)))
    nominal = radius * fibonacci_sphere(n)
    starts = nominal + _jitter(n, layout['start_jitter'], 3, generator)
    return starts, -nominal, {'sphere_radius': radius, 'extent': radius}


def _junction(n: int, layout: Mapping, dimensions: int, generator: torch.Generator):
    streams, lanes = layout['streams'], layout['lanes']
    sizes = [n // streams + (1 if k < n % streams else 0) for k in range(streams)]
    starts, goals = [], []
    for k, size in enumerate(sizes):
        if size == 0:
            continue
        angle = k * math.pi / 2
        travel = torch.tensor([math.cos(angle), math.sin(angle), 0.0], dtype=_DTYPE)
        right = torch.tensor([math.sin(angle), -math.cos(angle), 0.0], dtype=_DTYPE)
        j = torch.arange(size, dtype=_DTYPE)
        lane, row = j % lanes, torch.div(j, lanes, rounding_mode='floor')
        rows = math.ceil(size / lanes)
        lateral = layout['lane_offset'] + (lane - (lanes - 1) / 2) * layout['lane_spacing']
        behind = layout['approach_distance'] + row * layout['row_spacing']
        beyond = layout['approach_distance'] + (rows - 1 - row) * layout['row_spacing']
        starts.append(-behind[:, None] * travel + lateral[:, None] * right)
        goals.append(beyond[:, None] * travel + lateral[:, None] * right)
    starts = torch.cat(starts) + _jitter(n, layout['start_jitter'], 2, generator)
    extent = layout['approach_distance']
    return starts, torch.cat(goals), {'extent': extent, 'streams': float(streams)}


def _scatter(n: int, side: float, dimensions: int, min_separation: float,
             generator: torch.Generator, what: str,
             away_from: Optional[torch.Tensor] = None, min_travel: float = 0.0,
             attempts: int = 2000) -> torch.Tensor:
    """Uniform points in a centred box, each ``min_separation`` from the previous ones."""
    points = torch.zeros(n, 3, dtype=_DTYPE)
    for i in range(n):
        for _ in range(attempts // 50):
            candidates = (torch.rand(50, dimensions, generator=generator, dtype=_DTYPE)
                          - 0.5) * side
            if dimensions == 2:
                candidates = _zeros_z(candidates)
            ok = torch.ones(50, dtype=torch.bool)
            if i:
                ok &= torch.cdist(candidates, points[:i]).min(dim=-1).values >= min_separation
            if away_from is not None:
                ok &= (candidates - away_from[i]).norm(dim=-1) >= min_travel
            if bool(ok.any()):
                points[i] = candidates[int(ok.nonzero()[0])]
                break
        else:
            raise ValueError(
                f'random scenario: could not place {what} {i} of {n} with min_separation '
                f'{min_separation} m in a box of side {side:.1f} m after {attempts} draws; '
                'increase area_per_agent or min_side, or lower min_separation/min_travel')
    return points


def _random(n: int, layout: Mapping, dimensions: int, generator: torch.Generator):
    side = max(layout['min_side'], (n * layout['area_per_agent']) ** (1 / dimensions))
    starts = _scatter(n, side, dimensions, layout['min_separation'], generator, 'start')
    goals = _scatter(n, side, dimensions, layout['min_separation'], generator, 'goal',
                     away_from=starts, min_travel=layout['min_travel'])
    return starts, goals, {'box_side': side, 'extent': side / 2}


_LAYOUTS = {'circle': _circle, 'sphere': _sphere, 'junction': _junction, 'random': _random}


def _place_obstacles(spec: Mapping, extent: float, dimensions: int, starts: torch.Tensor,
                     goals: torch.Tensor, agent_radius: float,
                     generator: torch.Generator) -> Obstacles:
    """Rejection-sample spheres then cylinders near the origin, clear of starts and goals."""
    anchors = torch.cat([starts, goals])
    low, high = spec['radius_range']
    region = spec['region'] * extent
    placed = []  # (kind, centre (3,), radius)
    for kind in ['sphere'] * spec['spheres'] + ['cylinder'] * spec['cylinders']:
        for _ in range(1000):
            in_3d = kind == 'sphere' and dimensions == 3
            axes = 3 if in_3d else 2
            direction = torch.randn(axes, generator=generator, dtype=_DTYPE)
            direction = direction / direction.norm().clamp_min(1e-12)
            distance = region * float(torch.rand(1, generator=generator, dtype=_DTYPE)) ** (
                1 / axes)
            centre = direction * distance
            centre = centre if in_3d else _zeros_z(centre)
            radius = low + (high - low) * float(torch.rand(1, generator=generator,
                                                           dtype=_DTYPE))
            if kind == 'sphere':
                gap_anchor = (anchors - centre).norm(dim=-1)
            else:
                gap_anchor = (anchors[:, :2] - centre[:2]).norm(dim=-1)
            if float(gap_anchor.min()) < radius + agent_radius + spec['clearance']:
                continue
            if any(_surface_gap(kind, centre, radius, k2, c2, r2) < spec['min_gap']
                   for k2, c2, r2 in placed):
                continue
            placed.append((kind, centre, radius))
            break
        else:
            raise ValueError(
                f'obstacles: could not place {spec["spheres"]} spheres and {spec["cylinders"]}'
                f' cylinders within {region:.1f} m of the centre with min_gap '
                f'{spec["min_gap"]} m and clearance {spec["clearance"]} m after 1000 draws; '
                'use fewer or smaller obstacles or a larger region')
    spheres = [torch.cat([c, torch.tensor([r], dtype=_DTYPE)]) for k, c, r in placed
               if k == 'sphere']
    cylinders = [torch.cat([c[:2], torch.tensor([r], dtype=_DTYPE)]) for k, c, r in placed
                 if k == 'cylinder']
    return Obstacles(torch.stack(spheres) if spheres else torch.zeros(0, 4, dtype=_DTYPE),
                     torch.stack(cylinders) if cylinders else torch.zeros(0, 3, dtype=_DTYPE))


def _surface_gap(kind_a, centre_a, radius_a, kind_b, centre_b, radius_b) -> float:
    """Smallest distance between two obstacle surfaces (cylinders compare in xy)."""
    if kind_a == 'sphere' and kind_b == 'sphere':
        distance = float((centre_a - centre_b).norm())
    else:
        distance = float((centre_a[:2] - centre_b[:2]).norm())
    return distance - radius_a - radius_b


def _check_separation(points: torch.Tensor, radius: float, what: str, where: str) -> None:
    """Raise if two agents' bodies overlap at ``points``."""
    if points.shape[0] < 2:
        return
    distance = torch.cdist(points, points) + torch.eye(points.shape[0], dtype=_DTYPE) * 1e9
    closest = float(distance.min())
    if closest <= 2 * radius:
        i, j = divmod(int(torch.argmin(distance)), points.shape[0])
        raise ValueError(f'{where}: {what} of agents {i} and {j} are {closest:.3f} m apart, '
                         f'less than two agent radii ({2 * radius} m); the layout is too '
                         'dense for this many agents (or the start jitter too large)')


def load_scenario(name_or_path: Union[str, Path], num_agents: int, seed: int = 0,
                  overrides: Optional[Mapping[str, Any]] = None) -> ScenarioInstance:
    """
    Lay out a scenario from its YAML file.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped scenario name (``'circle'``, ``'circle_obstacles'``,
        ``'sphere'``, ``'junction'``, ``'random'``) or a path to a YAML file.
    num_agents : int
        ``N >= 1``.
    seed : int
        ``>= 0``: seeds the layout's randomness (jitter, obstacles, random
        points) and the simulator's measurement noise.
    overrides : mapping, optional
        Deep-merged into the file's content before validation, e.g.
        ``{'simulation': {'time_limit': 30.0}}``.

    Returns
    -------
    ScenarioInstance

    Raises
    ------
    ValueError
        For an unknown scenario, a bad value in the file (naming the key), or
        a layout that cannot hold ``N`` agents.

    """
    if isinstance(num_agents, bool) or not isinstance(num_agents, int) or num_agents < 1:
        raise ValueError(f'num_agents must be an integer >= 1, got {num_agents!r}')
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f'seed must be an integer >= 0, got {seed!r}')
    path = scenario_path(name_or_path)
    where = path.stem
    try:
        raw = yaml.safe_load(path.read_text(encoding='utf-8'))
    except yaml.YAMLError as error:
        raise ValueError(f'{path}: not valid YAML: {error}') from None
    if overrides:
        raw = _merge(raw if isinstance(raw, Mapping) else {}, overrides)
    params = _validated(raw, where)
    n, dimensions = num_agents, params['dimensions']
    agents = params['agents']
    generator = torch.Generator().manual_seed(seed)
    starts, goals, layout = _LAYOUTS[params['generator']](
        n, params['layout'], dimensions, generator)
    _check_separation(starts, agents['radius'], 'starts', where)
    _check_separation(goals, agents['radius'], 'goals', where)
    obstacles = Obstacles.empty(_DTYPE)
    if 'obstacles' in params:
        obstacles = _place_obstacles(params['obstacles'], layout['extent'], dimensions,
                                     starts, goals, agents['radius'], generator)
        if obstacles.count:
            inside = obstacles.clearance(goals) < agents['radius']
            if bool(inside.any()):
                raise ValueError(f'{where}: a goal lies inside an obstacle')

    sim = params['simulation']
    radii = torch.full((n,), agents['radius'], dtype=_DTYPE)
    speeds = torch.full((n,), agents['max_speed'], dtype=_DTYPE)
    accelerations = torch.full((n,), agents['max_acceleration'], dtype=_DTYPE)
    limit = sim['time_limit']
    if isinstance(limit, Mapping):
        ideal = ideal_time((goals - starts).norm(dim=-1) - sim['goal_tolerance'], speeds,
                           accelerations)
        limit = float(max(limit['minimum'], math.ceil(limit['per_ideal'] * float(ideal.max()))))
    layout['time_limit'] = limit
    config = SimConfig(
        dt=sim['dt'], control_period=sim['control_period_steps'], time_limit=limit,
        goal_tolerance=sim['goal_tolerance'], position_noise=sim['noise']['position'],
        velocity_noise=sim['noise']['velocity'], covariance_floor=sim['covariance_floor'],
        planar=dimensions == 2)
    variances = torch.tensor(
        [max(config.position_noise ** 2, config.covariance_floor)] * 3
        + [max(config.velocity_noise ** 2, config.covariance_floor)] * 3, dtype=_DTYPE)
    scene = Scene(
        ids=tuple(f'agent_{i}' for i in range(n)),
        positions=starts, velocities=torch.zeros(n, 3, dtype=_DTYPE),
        covariances=torch.diag(variances).expand(n, 6, 6).clone(), goals=goals,
        radii=radii, max_speeds=speeds, obstacles=obstacles, time=0.0)
    try:
        scene.validate()
    except ValueError as error:
        raise ValueError(f'{where} with N = {n}, seed {seed}: {error}') from None
    return ScenarioInstance(name=where, num_agents=n, seed=seed, scene=scene,
                            max_accelerations=accelerations, sim=config, parameters=params,
                            layout=layout, source=str(path))
