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
PNG figures of a benchmark: trajectories per method, metrics against N.

Matplotlib runs on the Agg backend (no display needed). Files written:

- ``trajectories_<scenario>.png``: for each scenario, one panel per method
  showing one run (the largest N, the first seed): every agent's path
  coloured by agent, starts as dots, goals as crosses, obstacles in grey and
  the positions where agents touched in red. Top view (x, y) for planar
  scenarios, a 3-D view for the others.
- ``metrics_<scenario>.png``: for each scenario, the seed-mean of key
  metrics against N, one line per method.
"""

import math
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

from enbp_core.benchmark.runner import TrajectorySample

__all__ = ['METRIC_PANELS', 'plot_metrics', 'plot_trajectories']

# (metric key, axis label, scale, y axis: 'linear', 'log' or 'symlog')
METRIC_PANELS = (
    ('colliding_pairs', 'colliding pairs', 1.0, 'symlog'),
    ('min_separation_m', 'min separation (m)', 1.0, 'linear'),
    ('agents_at_goal_rate', 'agents at goal (%)', 100.0, 'linear'),
    ('makespan_ratio', 'makespan / ideal', 1.0, 'linear'),
    ('plan_time_median_s', 'planning time per cycle, median (ms)', 1e3, 'log'),
    ('settling_median_m', 'settling at last iteration (m)', 1.0, 'linear'),
)


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _draw_obstacles_2d(axes, sample: TrajectorySample) -> None:
    from matplotlib.patches import Circle
    spheres, cylinders = sample.obstacles
    for x, y, z, r in spheres.tolist():
        if abs(z) < r:
            axes.add_patch(Circle((x, y), math.sqrt(r * r - z * z), color='0.6', alpha=0.7))
    for x, y, r in cylinders.tolist():
        axes.add_patch(Circle((x, y), r, color='0.4', alpha=0.7))


def plot_trajectories(samples: Sequence[TrajectorySample], directory: Path) -> List[Path]:
    """Write one ``trajectories_<scenario>.png`` per scenario; return the paths."""
    plt = _pyplot()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    by_scenario: Dict[str, List[TrajectorySample]] = {}
    for sample in samples:
        by_scenario.setdefault(sample.case.scenario, []).append(sample)
    written = []
    for scenario, group in by_scenario.items():
        cols = min(3, len(group))
        rows = math.ceil(len(group) / cols)
        planar = group[0].planar
        fig = plt.figure(figsize=(5.2 * cols, 5.0 * rows))
        for k, sample in enumerate(group):
            positions = sample.positions.numpy()
            n = positions.shape[1]
            colours = plt.cm.hsv([i / max(n, 1) for i in range(n)])
            title = (f'{sample.case.method}: {scenario}, N={sample.case.num_agents}, '
                     f'seed {sample.case.seed}')
            if planar:
                axes = fig.add_subplot(rows, cols, k + 1)
                _draw_obstacles_2d(axes, sample)
                for i in range(n):
                    axes.plot(positions[:, i, 0], positions[:, i, 1], color=colours[i],
                              linewidth=0.7)
                axes.scatter(positions[0, :, 0], positions[0, :, 1], c=colours, s=8)
                axes.scatter(sample.goals[:, 0], sample.goals[:, 1], c=colours, s=14,
                             marker='x', linewidths=0.8)
                if sample.contacts.shape[0]:
                    axes.scatter(sample.contacts[:, 0], sample.contacts[:, 1], c='red', s=4,
                                 label='contact')
                    axes.legend(loc='upper right', fontsize=7)
                axes.set_aspect('equal')
                axes.set_xlabel('x (m)')
                axes.set_ylabel('y (m)')
            else:
                axes = fig.add_subplot(rows, cols, k + 1, projection='3d')
                for i in range(n):
                    axes.plot(positions[:, i, 0], positions[:, i, 1], positions[:, i, 2],
                              color=colours[i], linewidth=0.6)
                axes.scatter(positions[0, :, 0], positions[0, :, 1], positions[0, :, 2],
                             c=colours, s=6)
                if sample.contacts.shape[0]:
                    c = sample.contacts
                    axes.scatter(c[:, 0], c[:, 1], c[:, 2], c='red', s=3)
                axes.set_xlabel('x (m)')
                axes.set_ylabel('y (m)')
                axes.set_zlabel('z (m)')
            axes.set_title(title, fontsize=9)
        fig.tight_layout()
        path = directory / f'trajectories_{Path(scenario).stem}.png'
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_metrics(aggregates: Sequence[Mapping], directory: Path) -> List[Path]:
    """Write one ``metrics_<scenario>.png`` per scenario (seed means vs N); return the paths."""
    plt = _pyplot()
    from matplotlib.ticker import NullLocator, ScalarFormatter
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    by_scenario: Dict[str, List[Mapping]] = {}
    for entry in aggregates:
        if entry['seeds']:
            by_scenario.setdefault(entry['scenario'], []).append(entry)
    written = []
    for scenario, group in by_scenario.items():
        methods = list(dict.fromkeys(e['method'] for e in group))
        fig, panels = plt.subplots(2, 3, figsize=(14, 7.5))
        for axes, (key, label, scale, yscale) in zip(panels.flat, METRIC_PANELS):
            for method in methods:
                points = sorted((e['num_agents'], e['metrics'].get(key, math.nan) * scale)
                                for e in group if e['method'] == method)
                points = [(n, v) for n, v in points if v is not None and math.isfinite(v)]
                if points:
                    axes.plot([p[0] for p in points], [p[1] for p in points], marker='o',
                              label=method)
            if not axes.has_data():
                axes.text(0.5, 0.5, 'not reported by these methods', ha='center',
                          va='center', transform=axes.transAxes, color='0.5')
                axes.set_xlabel('agents N')
                continue
            if yscale == 'symlog':
                axes.set_yscale('symlog', linthresh=1.0)
            elif yscale == 'log':
                axes.set_yscale('log')
            sizes = sorted({e['num_agents'] for e in group})
            if len(sizes) > 1 and sizes[-1] > 3 * sizes[0]:
                axes.set_xscale('log')
                axes.xaxis.set_minor_locator(NullLocator())
            axes.set_xticks(sizes)
            axes.xaxis.set_major_formatter(ScalarFormatter())
            axes.set_xlabel('agents N')
            axes.set_ylabel(label)
            axes.grid(alpha=0.3)
        panels.flat[0].legend(fontsize=8)
        fig.suptitle(f'{scenario}: mean over seeds')
        fig.tight_layout()
        path = directory / f'metrics_{Path(scenario).stem}.png'
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
