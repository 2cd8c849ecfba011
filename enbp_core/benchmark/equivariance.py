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
``enbp-bench --equivariance``: measured SE(3) equivariance of each message model.

Two levels, each in float32 and float64, over many random rigid motions
(median and max of the per-motion error):

- **message model**: the mixture potential of ``F`` distance factors (random
  geometry near contact) and of the same factors rotated; the error is the
  largest of the weights' absolute difference and the means' and
  precisions' differences relative to their magnitude
  (``R eta``, ``R Lambda R^T`` expected); translations do not enter, every
  input is an offset;
- **planning cycle**: one cold planning cycle of a six-agent crossing with
  an obstacle, and of the same scene moved by a rigid motion (translations
  of 30 m); the error is the largest deviation of the planned paths from
  the moved ones, in m.

Methods: ``enbp-analytic`` (side hypotheses), ``enbp-neural`` (e3nn) and
``enbp-mlp`` (MLP with rotation augmentation).
"""

import json
import math
from pathlib import Path
import statistics
from typing import Any, Dict, List, Mapping, Sequence

from enbp_core import se3
from enbp_core.planning import make_planner, preset
from enbp_core.planning.planner import message_model
from enbp_core.scene import Obstacles, Scene
import torch

__all__ = ['METHODS', 'format_table', 'measure', 'plot', 'write_json']

METHODS = ('enbp-analytic', 'enbp-neural', 'enbp-mlp')
DTYPES = (torch.float32, torch.float64)


def _contexts(count: int, generator: torch.Generator, dtype: torch.dtype):
    from enbp_core.nn.train import synthetic_factors
    context = synthetic_factors(count, generator).context
    return context._replace(**{name: getattr(context, name).to(dtype)
                               for name in context._fields})


def _rotated(context, rotation):
    def vec(v):
        return (rotation @ v[..., None])[..., 0]
    return context._replace(offset=vec(context.offset), velocity=vec(context.velocity),
                            track=vec(context.track), side=vec(context.side))


def model_error(model, context, rotation) -> float:
    """Return the relative error of ``model`` on ``context`` under one rotation."""
    out, moved = model(context), model(_rotated(context, rotation))
    eta = (rotation @ out.eta[..., None])[..., 0]
    precision = rotation @ out.precision @ rotation.transpose(-1, -2)
    return max(float((moved.log_weights - out.log_weights).abs().max()),
               float((moved.eta - eta).abs().max() / out.eta.abs().max()),
               float((moved.precision - precision).abs().max() / out.precision.abs().max()))


def crossing_scene(n: int = 6, radius: float = 6.0, seed: int = 0) -> Scene:
    """Return ``n`` agents on a ring heading across it, past a sphere (float64)."""
    generator = torch.Generator().manual_seed(seed)
    dtype = torch.float64
    angles = torch.arange(n, dtype=dtype) * 2 * math.pi / n
    angles = angles + 0.05 * torch.randn(n, generator=generator, dtype=dtype)
    ring = torch.stack([angles.cos(), angles.sin(), 0.1 * torch.randn(
        n, generator=generator, dtype=dtype)], -1)
    positions = radius * ring
    obstacles = Obstacles(torch.tensor([[0.5, 3.5, 0.0, 0.8]], dtype=dtype),
                          torch.zeros(0, 3, dtype=dtype))
    return Scene(tuple(f'robot_{i}' for i in range(n)), positions,
                 0.3 * torch.randn(n, 3, generator=generator, dtype=dtype),
                 1e-3 * torch.eye(6, dtype=dtype).expand(n, 6, 6).clone(), -positions,
                 torch.ones(n, dtype=dtype), torch.full((n,), 2.0, dtype=dtype), obstacles)


def _summary(errors: Sequence[float]) -> Dict[str, float]:
    return {'median': statistics.median(errors), 'max': max(errors), 'draws': len(errors)}


def measure(model_draws: int = 64, cycle_draws: int = 8, factors: int = 256,
            seed: int = 0, methods: Sequence[str] = METHODS) -> List[Dict[str, Any]]:
    """
    Return one row per (level, method, dtype) with the median and max error.

    Parameters
    ----------
    model_draws, cycle_draws : int
        Random rotations per message model, rigid motions per planning cycle.
    factors : int
        Distance factors per message-model draw.
    seed : int
        Seed of the geometry and the motions.
    methods : sequence of str
        Among :data:`METHODS`.

    """
    rows = []
    for method in methods:
        model = message_model(preset(method))
        for dtype in DTYPES:
            generator = torch.Generator().manual_seed(seed)
            errors = []
            for _ in range(model_draws):
                context = _contexts(factors, generator, dtype)
                rotation = se3.random_rotation(generator=generator, dtype=dtype)
                errors.append(model_error(model, context, rotation))
            rows.append({'level': 'message model', 'method': method,
                         'dtype': str(dtype).replace('torch.', ''), 'unit': 'relative',
                         **_summary(errors)})
    scene = crossing_scene()
    for method in methods:
        for dtype in DTYPES:
            generator = torch.Generator().manual_seed(seed + 1)
            name = str(dtype).replace('torch.', '')
            ours = make_planner(method, {'dtype': name}).solve(scene).plan.paths.double()
            errors = []
            for _ in range(cycle_draws):
                motion = se3.random_rigid_motion(generator=generator, dtype=torch.float64,
                                                 translation_scale=30.0)
                moved = make_planner(method, {'dtype': name}).solve(scene.transformed(motion))
                errors.append(float((moved.plan.paths.double()
                                     - motion.points(ours)).abs().max()))
            rows.append({'level': 'planning cycle', 'method': method, 'dtype': name,
                         'unit': 'm', **_summary(errors)})
    return rows


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Return the rows as a plain-text table."""
    lines = [f'{"level":<16} {"method":<15} {"dtype":<8} {"median":>10} {"max":>10} '
             f'{"unit":<8} draws']
    for row in rows:
        lines.append(f'{row["level"]:<16} {row["method"]:<15} {row["dtype"]:<8} '
                     f'{row["median"]:10.2e} {row["max"]:10.2e} {row["unit"]:<8} '
                     f'{row["draws"]}')
    return '\n'.join(lines)


def write_json(path: Path, rows: Sequence[Mapping[str, Any]],
               settings: Mapping[str, Any]) -> None:
    """Write the rows and the settings to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'format': 'enbp-bench-equivariance/1', 'settings': settings,
                                'rows': list(rows)}, indent=1) + '\n', encoding='utf-8')


def plot(rows: Sequence[Mapping[str, Any]], directory: Path) -> Path:
    """Write ``equivariance.png`` (median bars, max whiskers, log scale) and return its path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figure, panels = plt.subplots(1, 2, figsize=(11, 4))
    for axes, level in zip(panels, ('message model', 'planning cycle')):
        chosen = [r for r in rows if r['level'] == level]
        labels = [f'{r["method"]}\n{r["dtype"]}' for r in chosen]
        medians = [max(r['median'], 1e-18) for r in chosen]
        maxima = [max(r['max'], 1e-18) for r in chosen]
        positions = range(len(chosen))
        axes.bar(positions, medians, color=['C0' if 'float32' in lab else 'C1'
                                            for lab in labels])
        axes.scatter(positions, maxima, marker='_', s=200, color='k', label='max')
        axes.set_yscale('log')
        axes.set_xticks(list(positions))
        axes.set_xticklabels(labels, fontsize=7)
        unit = chosen[0]['unit'] if chosen else ''
        axes.set_title(f'{level} SE(3) equivariance error ({unit})')
        axes.legend()
    figure.tight_layout()
    path = directory / 'equivariance.png'
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
