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
The benchmark's outputs: the terminal table, the aggregates and the JSON file.

The table has one row per run (scenario, N, method, seed) and, when there
are several seeds, one ``mean`` row per (scenario, N, method) that averages
each metric over the seeds that ran (plain means: a NaN makespan in one seed
makes the mean NaN, and ``success`` becomes the fraction of seeds that
succeeded). Columns and units are listed by :data:`COLUMNS`.
"""

import json
import math
import os
from pathlib import Path
import platform
import sys
import time
from typing import Any, Dict, Iterable, List, Mapping, Sequence

import torch

__all__ = ['COLUMNS', 'aggregate', 'format_table', 'machine_description', 'write_json']

# (header, metric key, format, scale): the value shown is metrics[key] * scale.
COLUMNS = (
    ('goal%', 'agents_at_goal_rate', '.0f', 100.0),
    ('succ', 'success', '.2g', 1.0),
    ('pairs', 'colliding_pairs', '.4g', 1.0),
    ('rate', 'collision_rate', '.3f', 1.0),
    ('minsep_m', 'min_separation_m', '.2f', 1.0),
    ('obst', 'obstacle_collisions', '.3g', 1.0),
    ('mkspan_s', 'makespan_s', '.1f', 1.0),
    ('x_ideal', 'makespan_ratio', '.2f', 1.0),
    ('path', 'path_ratio_mean', '.3f', 1.0),
    ('acc2', 'mean_sq_acceleration', '.2f', 1.0),
    ('plan_ms', 'plan_time_median_s', '.2f', 1e3),
    ('p95_ms', 'plan_time_p95_s', '.2f', 1e3),
    ('iter_ms', 'time_per_iteration_s', '.2f', 1e3),
    ('vplan', 'max_planned_speed', '.2f', 1.0),
    ('vexec', 'max_executed_speed', '.2f', 1.0),
    ('div', 'diverged', '.2g', 1.0),
    ('resid', 'residual_median', '.2g', 1.0),
    ('settle_m', 'settling_median_m', '.3f', 1.0),
    ('dead', 'deadlock', '.2g', 1.0),
    ('stall', 'stalled', '.2g', 1.0),
)

LEGEND = (
    'goal%: agents at goal at the end; succ: all at goal before the time limit; pairs: '
    'agent pairs that ever overlapped;\nrate: pairs / all pairs; minsep_m: min distance '
    'between bodies (negative: overlap); obst: agent-obstacle overlaps;\nmkspan_s: time the '
    'last agent arrived; x_ideal: makespan / straight-line ideal; path: path length / '
    'straight line;\nacc2: mean squared acceleration (m^2/s^4); plan_ms, p95_ms: planning '
    'time per control cycle (median, 95th pct);\niter_ms: time per BP iteration; vplan, '
    'vexec: max planned and executed speed (m/s); div: diverged (NaN/inf, non-PD, blow-up);'
    '\nresid: median final residual; settle_m: median plan change at the last iteration; '
    'dead: deadlock (no agent not at goal moved 1 cm in 10 s);\nstall: stalled (no agent not '
    'at goal got 0.5 m closer to it in 10 s; includes deadlock).')


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def aggregate(runs: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """
    Mean of every numeric metric over seeds, per (scenario, N, method).

    Only runs with status ``'ok'`` enter the means; ``seeds`` counts them,
    ``runs`` counts all. Groups keep the order of first appearance.
    """
    groups: Dict[tuple, List[Mapping[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run['scenario'], run['num_agents'], run['method']), []).append(run)
    out = []
    for (scenario, n, method), members in groups.items():
        ok = [r for r in members if r['status'] == 'ok']
        metrics: Dict[str, Any] = {}
        if ok:
            for key, value in ok[0]['metrics'].items():
                if _numeric(value):
                    values = [float(r['metrics'][key]) for r in ok]
                    metrics[key] = sum(values) / len(values)
        notes = sorted({r['note'] for r in members if r['note']})
        out.append({'scenario': scenario, 'num_agents': n, 'method': method,
                    'seeds': len(ok), 'runs': len(members),
                    'seed_list': [r['seed'] for r in members], 'metrics': metrics,
                    'note': '; '.join(notes)})
    return out


def _cell(value: Any, fmt: str, scale: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    if isinstance(value, float) and math.isinf(value):
        return 'inf'
    return format(value * scale, fmt)


def format_table(runs: Sequence[Mapping[str, Any]],
                 aggregates: Iterable[Mapping[str, Any]] = ()) -> str:
    """Return the table: one row per run, then ``mean`` rows when there are several seeds."""
    header = ['scenario', 'N', 'method', 'seed'] + [c[0] for c in COLUMNS] + ['note']
    rows = []

    def row(entry, seed_label):
        metrics = entry.get('metrics') or {}
        status = entry.get('status', 'ok')
        cells = [str(entry['scenario']), str(entry['num_agents']), entry['method'],
                 seed_label]
        if status in ('skipped', 'error') or not metrics:
            cells += ['-'] * len(COLUMNS)
        else:
            cells += [_cell(metrics.get(key), fmt, scale) for _, key, fmt, scale in COLUMNS]
        note = entry.get('note', '')
        if status == 'error':
            note = f'ERROR {note}'
        cells.append(note[:70])
        return cells

    for run in runs:
        rows.append(row(run, str(run['seed'])))
    means = [a for a in aggregates if a['runs'] > 1]
    if means:
        rows.append(None)
        for entry in means:
            rows.append(row(entry, f'mean{entry["seeds"]}'))
    widths = [len(h) for h in header]
    for cells in rows:
        if cells:
            widths = [max(w, len(c)) for w, c in zip(widths, cells)]
    left = {0, 2, len(header) - 1}

    def line(cells):
        return '  '.join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    text = [line(header), '  '.join('-' * w for w in widths)]
    for cells in rows:
        text.append('  '.join('-' * w for w in widths) if cells is None else line(cells))
    return '\n'.join(text)


def _cpu_model() -> str:
    try:
        for entry in Path('/proc/cpuinfo').read_text().splitlines():
            if entry.lower().startswith('model name'):
                return entry.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def machine_description() -> Dict[str, Any]:
    """Return the machine the figures were measured on."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    import numpy
    return {
        'platform': platform.platform(),
        'machine': platform.machine(),
        'cpu_model': _cpu_model(),
        'cpu_count': os.cpu_count(),
        'cpus_usable': usable,
        'torch_threads': torch.get_num_threads(),
        'python': sys.version.split()[0],
        'torch': torch.__version__,
        'numpy': numpy.__version__,
        'cuda_available': torch.cuda.is_available(),
    }


def _plain(value: Any) -> Any:
    """JSON-safe copy: NaN and inf become None, tensors lists, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        return _plain(value.tolist())
    return value


def write_json(path: Path, runs: Sequence[Mapping[str, Any]],
               aggregates: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> None:
    """Write every run's metrics, the aggregates, the settings and the machine to ``path``."""
    document = {
        'format': 'enbp-bench/1',
        'created': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
        'machine': machine_description(),
        'settings': settings,
        'metric_notes': 'NaN values are null; times in s, distances in m, speeds in m/s.',
        'runs': runs,
        'aggregates': aggregates,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(document), indent=1, allow_nan=False) + '\n',
                    encoding='utf-8')
