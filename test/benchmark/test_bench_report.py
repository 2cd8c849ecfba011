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

"""Table, aggregation and JSON of the benchmark report."""

import json
import math

from enbp_core.benchmark.report import aggregate, format_table, machine_description, write_json


def _run(seed, method='orca', status='ok', **metrics):
    base = {'colliding_pairs': 0, 'success': 1, 'makespan_s': 30.0,
            'agents_at_goal_rate': 1.0, 'end_reason': 'goals'}
    base.update(metrics)
    return {'scenario': 'circle', 'num_agents': 5, 'method': method, 'seed': seed,
            'status': status, 'note': '', 'metrics': base if status == 'ok' else {}}


def test_aggregate_means_over_ok_seeds():
    runs = [_run(0, colliding_pairs=2, makespan_s=30.0),
            _run(1, colliding_pairs=4, makespan_s=math.nan, success=0),
            _run(2, status='error')]
    (entry,) = aggregate(runs)
    assert entry['seeds'] == 2 and entry['runs'] == 3 and entry['seed_list'] == [0, 1, 2]
    assert entry['metrics']['colliding_pairs'] == 3.0
    assert entry['metrics']['success'] == 0.5
    assert math.isnan(entry['metrics']['makespan_s'])
    assert 'end_reason' not in entry['metrics']


def test_table_has_a_row_per_run_and_mean_rows():
    runs = [_run(0), _run(1), _run(0, method='straight', colliding_pairs=10)]
    runs[2]['note'] = 'no avoidance: collisions expected'
    table = format_table(runs, aggregate(runs))
    lines = table.splitlines()
    assert lines[0].split()[:4] == ['scenario', 'N', 'method', 'seed']
    assert len(lines) == 2 + 3 + 1 + 1  # header, rule, runs, rule, one mean row (orca)
    assert 'mean2' in lines[-1] and 'orca' in lines[-1]
    assert 'no avoidance' in table


def test_json_is_strict_and_complete(tmp_path):
    runs = [_run(0, makespan_s=math.nan, min_separation_m=math.inf)]
    path = tmp_path / 'sub' / 'r.json'
    write_json(path, runs, aggregate(runs), {'seeds': [0]})

    def refuse(constant):
        raise AssertionError(f'non-standard JSON constant {constant}')

    document = json.loads(path.read_text(), parse_constant=refuse)
    assert document['runs'][0]['metrics']['makespan_s'] is None
    assert document['format'] == 'enbp-bench/1'
    machine = machine_description()
    assert set(document['machine']) == set(machine)
    assert machine['cpu_count'] >= 1 and machine['torch']
