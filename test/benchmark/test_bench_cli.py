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

"""The enbp-bench command line, end to end, and its method registry."""

import io
import json
import math
from pathlib import Path
import subprocess
import sys

from enbp_core.benchmark import cli
from enbp_core.benchmark.methods import (
    make_method, method_unavailable, METHODS, MethodUnavailableError)
from enbp_core.benchmark.progress import Progress
from enbp_core.benchmark.runner import Case, run_case
import pytest


def _console_script():
    return Path(sys.executable).parent / 'enbp-bench'


def test_cli_smoke_writes_json_and_plots(tmp_path):
    json_path = tmp_path / 'out' / 'bench.json'
    plot_dir = tmp_path / 'plots'
    script = _console_script()
    command = ([str(script)] if script.exists() else [sys.executable, '-m',
                                                      'enbp_core.benchmark.cli'])
    result = subprocess.run(
        command + ['--scenario', 'circle', '--agents', '4', '--methods', 'straight', 'orca',
                   '--json', str(json_path), '--plot', str(plot_dir)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    # Progress goes to stderr as plain lines (not a TTY here); the table to stdout.
    assert '[1/2] circle N=4 straight seed=0' in result.stderr
    assert '[2/2] circle N=4 orca seed=0' in result.stderr
    assert 'x_ideal' in result.stdout and 'no avoidance: collisions expected' in result.stdout
    document = json.loads(json_path.read_text())
    assert document['machine']['cpu_count'] >= 1 and document['machine']['torch']
    runs = {r['method']: r for r in document['runs']}
    assert set(runs) == {'straight', 'orca'}
    assert runs['straight']['metrics']['colliding_pairs'] == 6
    assert runs['orca']['metrics']['colliding_pairs'] == 0
    assert runs['orca']['metrics']['success'] == 1
    assert runs['orca']['metrics']['settling_median_m'] is None  # NaN -> null
    assert document['aggregates'][0]['seeds'] == 1
    for name in ('trajectories_circle.png', 'metrics_circle.png'):
        assert (plot_dir / name).stat().st_size > 1000


def test_cli_seeds_and_3d_skip(tmp_path, capsys):
    json_path = tmp_path / 'b.json'
    code = cli.main(['--scenario', 'sphere', '--agents', '3', '--methods', 'straight', 'orca',
                     '--seeds', '2', '--time-limit', '40', '--json', str(json_path),
                     '--quiet'])
    assert code == 0
    out = capsys.readouterr()
    assert out.err == ''  # --quiet
    assert 'orca is planar; skipped on a 3-D scenario' in out.out
    assert 'mean2' in out.out
    document = json.loads(json_path.read_text())
    assert [r['seed'] for r in document['runs']] == [0, 0, 1, 1]
    assert {r['status'] for r in document['runs'] if r['method'] == 'orca'} == {'skipped'}
    assert document['settings']['time_limit_override'] == 40.0


@pytest.mark.parametrize('argv, message', [
    (['--agents', '0', '--methods', 'straight'], '--agents must be at least 1'),
    (['--methods', 'magic'], 'invalid choice'),
    (['--scenario', 'nowhere', '--methods', 'straight'], "unknown scenario 'nowhere'"),
    (['--seed', '1', '--seeds', '2'], 'not allowed with'),
    (['--method-config', 'orca', '--methods', 'orca'], 'METHOD=FILE'),
])
def test_cli_rejects_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_method_config(tmp_path, capsys):
    config = tmp_path / 'orca.yaml'
    config.write_text('time_horizon: 2.0\nradius_margin: 0.3\n')
    code = cli.main(['--scenario', 'circle', '--agents', '3', '--methods', 'orca',
                     '--method-config', f'orca={config}', '--json', str(tmp_path / 'o.json'),
                     '--quiet'])
    assert code == 0
    document = json.loads((tmp_path / 'o.json').read_text())
    assert document['settings']['method_configs']['orca'] == {
        'time_horizon': 2.0, 'radius_margin': 0.3}
    assert document['runs'][0]['metrics']['min_separation_m'] > 0.25
    config.write_text('horizon: 2.0\n')
    assert cli.main(['--scenario', 'circle', '--agents', '3', '--methods', 'orca',
                     '--method-config', f'orca={config}', '--quiet']) == 1
    assert "unknown options ['horizon']" in capsys.readouterr().out


def test_bp_methods_need_enbp_core_planning(monkeypatch):
    monkeypatch.setitem(sys.modules, 'enbp_core.planning', None)  # as if it did not exist
    for name in ('enbp', 'enbp-analytic', 'enbp-mlp', 'enbp-neural', 'gbp', 'gbp-damped',
                 'gbp-margin'):
        with pytest.raises(MethodUnavailableError, match=f'method {name} needs '
                                                         'enbp_core.planning'):
            make_method(name)
        assert 'needs enbp_core.planning' in method_unavailable(name)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(['--methods', 'enbp', 'orca'])
    assert exit_info.value.code == 2


def test_registry_knows_every_method():
    assert METHODS == ('enbp', 'enbp-analytic', 'enbp-mlp', 'enbp-neural', 'gbp', 'gbp-damped',
                       'gbp-margin', 'orca', 'straight')
    assert method_unavailable('orca') is None and method_unavailable('straight') is None
    assert 'unknown method' in method_unavailable('rrt')
    with pytest.raises(ValueError, match="unknown method 'rrt'"):
        make_method('rrt')
    assert make_method('orca').name == 'orca' and make_method('straight').name == 'straight'


def test_a_failing_planner_is_recorded_not_raised(monkeypatch):
    import enbp_core.benchmark.runner as runner

    class Broken:
        name = 'straight'

        def reset(self):
            pass

        def plan(self, scene):
            raise RuntimeError('boom')

    monkeypatch.setattr(runner, 'make_method', lambda name, config: Broken())
    record, sample = run_case(Case('circle', 3, 'straight', 0))
    assert record['status'] == 'error' and 'RuntimeError: boom' in record['note']
    assert 'Traceback' in record['traceback'] and sample is None


def test_progress_plain_and_in_place():
    plain = io.StringIO()
    progress = Progress(2, stream=plain, interactive=False)
    progress.start('circle N=4 orca seed=0')
    progress.update(1.0, 10.0)
    progress.finish('done')
    progress.close()
    assert plain.getvalue() == '[1/2] circle N=4 orca seed=0: done\n'
    live = io.StringIO()
    progress = Progress(2, stream=live, interactive=True)
    progress.start('a')
    progress.update(5.0, 10.0)
    progress.finish('ok')
    progress.close()
    text = live.getvalue()
    assert text.startswith('\r[') and '\n' not in text[:-1] and text.endswith('\n')
    silent = io.StringIO()
    progress = Progress(2, stream=silent, enabled=False)
    progress.start('a')
    progress.finish('ok')
    progress.close()
    assert silent.getvalue() == ''


def test_run_case_records_scenario_info():
    record, sample = run_case(Case('circle_obstacles', 4, 'orca', 1), keep_trajectory=True)
    assert record['status'] == 'ok'
    assert record['scenario_info']['obstacles'] == 8
    assert record['scenario_info']['circle_radius'] == 25.0
    assert sample.positions.shape[1:] == (4, 3) and sample.planar
    assert math.isfinite(record['metrics']['plan_time_median_s'])


def test_equivariance_report_separates_e3nn_from_mlp(tmp_path, capsys, measured):
    json_path = tmp_path / 'equivariance.json'
    assert cli.main(['--equivariance', '--draws', '4', '--methods', 'enbp-neural', 'enbp-mlp',
                     '--json', str(json_path), '--plot', str(tmp_path)]) == 0
    assert 'planning cycle' in capsys.readouterr().out
    assert (tmp_path / 'equivariance.png').stat().st_size > 0
    rows = {(r['level'], r['method'], r['dtype']): r
            for r in json.loads(json_path.read_text())['rows']}
    assert len(rows) == 8
    neural = rows[('message model', 'enbp-neural', 'float64')]['max']
    mlp = rows[('message model', 'enbp-mlp', 'float64')]['median']
    cycle = rows[('planning cycle', 'enbp-neural', 'float64')]['max']
    measured('bench --equivariance: e3nn message model, max (float64)', neural)
    measured('bench --equivariance: e3nn planning cycle, max (float64, m)', cycle)
    assert neural < 1e-9 and cycle < 1e-6 and mlp > 1e-2


def test_equivariance_report_refuses_other_methods():
    with pytest.raises(SystemExit):
        cli.main(['--equivariance', '--methods', 'gbp'])
