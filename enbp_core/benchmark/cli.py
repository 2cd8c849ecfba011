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
``enbp-bench``: run the closed-loop benchmark and report it.

Runs every combination of ``--scenario``, ``--agents``, ``--seed`` and
``--methods`` in one process (methods side by side on the same scenes),
shows progress on stderr, prints the table on stdout and optionally writes a
JSON file (every metric, the settings and the machine) and PNG plots. With
no options: every shipped scenario, N in 5 10 15 20 30 50 100 150, methods
enbp gbp gbp-damped gbp-margin orca, seed 0 (ORCA is skipped on 3-D
scenarios, with a note in the table).

``--equivariance`` measures instead the SE(3) equivariance error of the
message models and of a planning cycle
(:mod:`enbp_core.benchmark.equivariance`).

Exit status: 0 when every run finished, 1 when some planner raised (its row
says ERROR; the JSON holds the traceback), 2 for bad options or a method that
cannot be loaded here.
"""

import argparse
from pathlib import Path
import sys
from typing import Any, Dict, List, Optional

from enbp_core.benchmark import equivariance, plots, report
from enbp_core.benchmark.methods import DEFAULT_METHODS, method_unavailable, METHODS
from enbp_core.benchmark.progress import Progress
from enbp_core.benchmark.runner import make_cases, run_case, TrajectorySample
from enbp_core.sim.scenarios import available_scenarios, config_dir, load_scenario
import yaml

__all__ = ['DEFAULT_AGENTS', 'main']

DEFAULT_AGENTS = (5, 10, 15, 20, 30, 50, 100, 150)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='enbp-bench', description=__doc__.split('\n\n')[1].replace('\n', ' '),
        epilog='Example: enbp-bench --scenario circle sphere --agents 10 20 --methods gbp '
               'orca --seeds 3 --json out/bench.json --plot out/')
    parser.add_argument('--scenario', nargs='+', metavar='NAME',
                        help='scenario names or YAML paths (default: all; see --list)')
    parser.add_argument('--agents', nargs='+', type=int, metavar='N',
                        help='numbers of agents (default: %s)' % ' '.join(
                            map(str, DEFAULT_AGENTS)))
    parser.add_argument('--methods', nargs='+', metavar='METHOD', choices=METHODS,
                        help=f'methods among {", ".join(METHODS)} '
                             f'(default: {" ".join(DEFAULT_METHODS)})')
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument('--seed', nargs='+', type=int, metavar='SEED',
                       help='seeds to run (default: 0)')
    seeds.add_argument('--seeds', type=int, metavar='COUNT',
                       help='run seeds 0 .. COUNT-1 (instead of --seed)')
    parser.add_argument('--time-limit', type=float, metavar='SECONDS',
                        help="override every scenario's time limit")
    parser.add_argument('--method-config', action='append', default=[],
                        metavar='METHOD=FILE',
                        help='YAML mapping of options for one method (repeatable); orca '
                             'reads config/baselines/orca.yaml by default')
    parser.add_argument('--json', type=Path, metavar='PATH', help='write every metric here')
    parser.add_argument('--plot', type=Path, metavar='DIR', help='write PNG plots here')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress on stderr (the table still goes to stdout)')
    parser.add_argument('--list', action='store_true',
                        help='list the scenarios and methods, then exit')
    parser.add_argument('--equivariance', action='store_true',
                        help='instead of the closed-loop benchmark, measure the SE(3) '
                             'equivariance error of the message models and of a planning '
                             'cycle (methods among %s)' % ', '.join(equivariance.METHODS))
    parser.add_argument('--draws', type=int, default=64, metavar='COUNT',
                        help='--equivariance: random rotations per message model (and an '
                             'eighth as many rigid motions per planning cycle)')
    return parser


def _read_yaml(path: Path, what: str) -> Dict[str, Any]:
    try:
        content = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f'{what}: cannot read {path}: {error}') from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ValueError(f'{what}: {path} must hold a mapping of options')
    return content


def _method_configs(entries: List[str], methods: List[str]) -> Dict[str, Dict[str, Any]]:
    configs: Dict[str, Dict[str, Any]] = {}
    default_orca = None
    try:
        default_orca = config_dir() / 'baselines' / 'orca.yaml'
    except FileNotFoundError:
        pass
    if default_orca is not None and default_orca.is_file():
        configs['orca'] = _read_yaml(default_orca, 'orca defaults')
    for entry in entries:
        method, sep, file = entry.partition('=')
        if not sep or not file:
            raise ValueError(f'--method-config takes METHOD=FILE, got {entry!r}')
        if method not in METHODS:
            raise ValueError(f'--method-config: unknown method {method!r}')
        configs[method] = _read_yaml(Path(file), f'--method-config {method}')
    return {m: c for m, c in configs.items() if m in methods}


def _summary(record: Dict[str, Any]) -> str:
    if record['status'] != 'ok':
        return f'{record["status"]}: {record["note"]}'
    m = record['metrics']
    makespan = m['makespan_s']
    makespan_text = f'{makespan:.1f} s' if makespan == makespan else 'not reached'
    return (f'{record["wall_s"]:.1f} s, at goal {100 * m["agents_at_goal_rate"]:.0f}%, '
            f'{m["colliding_pairs"]} colliding pairs, makespan {makespan_text}, '
            f'plan {1e3 * m["plan_time_median_s"]:.2f} ms')


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``enbp-bench``."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        print('scenarios: ' + ' '.join(available_scenarios()))
        print('methods:   ' + ' '.join(METHODS))
        return 0
    if args.equivariance:
        return _equivariance(parser, args, argv)
    scenarios = args.scenario or list(available_scenarios())
    agents = args.agents or list(DEFAULT_AGENTS)
    methods = list(dict.fromkeys(args.methods or DEFAULT_METHODS))
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error('--seeds must be at least 1')
        seeds = list(range(args.seeds))
    else:
        seeds = args.seed or [0]
    if any(n < 1 for n in agents):
        parser.error('--agents must be at least 1')
    if any(s < 0 for s in seeds):
        parser.error('--seed must be >= 0')
    if args.time_limit is not None and not args.time_limit > 0:
        parser.error('--time-limit must be > 0')
    missing = [reason for reason in map(method_unavailable, methods) if reason]
    if missing:
        parser.error('; '.join(missing))
    try:
        method_configs = _method_configs(args.method_config, methods)
        for scenario in scenarios:  # fail fast on bad scenario files, before any run
            load_scenario(scenario, min(agents), seeds[0])
    except ValueError as error:
        parser.error(str(error))

    cases = make_cases(scenarios, agents, methods, seeds)
    progress = Progress(len(cases), enabled=not args.quiet)
    runs: List[Dict[str, Any]] = []
    samples: Dict[tuple, TrajectorySample] = {}
    for case in cases:
        progress.start(case.label)
        keep = args.plot is not None and case.seed == seeds[0]
        try:
            record, sample = run_case(case, time_limit=args.time_limit,
                                      method_configs=method_configs, keep_trajectory=keep,
                                      on_cycle=progress.update)
        except ValueError as error:  # a layout that cannot hold this many agents
            record = {'scenario': case.scenario, 'num_agents': case.num_agents,
                      'method': case.method, 'seed': case.seed, 'status': 'error',
                      'note': str(error), 'wall_s': 0.0, 'metrics': {}}
            sample = None
        runs.append(record)
        if sample is not None:
            key = (case.scenario, case.method)
            if key not in samples or samples[key].case.num_agents <= case.num_agents:
                samples[key] = sample
        progress.finish(_summary(record))
    progress.close()

    aggregates = report.aggregate(runs)
    print(report.format_table(runs, aggregates))
    print()
    print(report.LEGEND)
    machine = report.machine_description()
    print(f'machine: {machine["cpu_model"]}, {machine["cpus_usable"]} usable CPUs, '
          f'torch {machine["torch"]} ({machine["torch_threads"]} threads), '
          f'{machine["platform"]}')
    if args.json is not None:
        settings = {'argv': sys.argv[1:] if argv is None else list(argv),
                    'scenarios': scenarios, 'agents': agents, 'methods': methods,
                    'seeds': seeds, 'time_limit_override': args.time_limit,
                    'method_configs': method_configs}
        report.write_json(args.json, runs, aggregates, settings)
        print(f'wrote {args.json}')
    if args.plot is not None:
        written = plots.plot_trajectories(list(samples.values()), args.plot)
        written += plots.plot_metrics(aggregates, args.plot)
        print(f'wrote {len(written)} plots to {args.plot}')
    return 1 if any(r['status'] == 'error' for r in runs) else 0


def _equivariance(parser: argparse.ArgumentParser, args, argv) -> int:
    methods = list(dict.fromkeys(args.methods or equivariance.METHODS))
    unknown = [m for m in methods if m not in equivariance.METHODS]
    if unknown:
        parser.error(f'--equivariance measures {", ".join(equivariance.METHODS)}; '
                     f'not {", ".join(unknown)}')
    if args.draws < 1:
        parser.error('--draws must be at least 1')
    seed = (args.seed or [0])[0]
    rows = equivariance.measure(model_draws=args.draws, cycle_draws=max(1, args.draws // 8),
                                seed=seed, methods=methods)
    print(equivariance.format_table(rows))
    if args.json is not None:
        equivariance.write_json(args.json, rows, {
            'argv': sys.argv[1:] if argv is None else list(argv), 'methods': methods,
            'draws': args.draws, 'seed': seed, 'machine': report.machine_description()})
        print(f'wrote {args.json}')
    if args.plot is not None:
        print(f'wrote {equivariance.plot(rows, args.plot)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
