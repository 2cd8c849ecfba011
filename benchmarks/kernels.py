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
Benchmark of the math kernels against baselines measured in the same run.

Run ``.venv/bin/python benchmarks/kernels.py`` (or ``make bench``). Each row
times one kernel and its baseline with ``torch.utils.benchmark`` on the same
inputs and reports the ratio; absolute times depend on the machine, ratios
much less so.

Rows:

- ``spd_inverse`` backward (Daleckii–Krein) vs back-propagating through
  ``torch.linalg.eigh``, on random SPD matrices; plus how many gradients each
  returns non-finite on isotropic ``s I`` matrices, the case it exists for.
- ``spd_inverse`` forward vs ``torch.cholesky_inverse`` (a cheaper, non-spectral
  inverse), to show the price of going through ``eigh``.
- mixture ``product`` and Runnalls ``reduce`` batched over many mixtures vs
  the same function called in a Python loop over them.
"""

import argparse
import sys

from enbp_core import mixture, reduction, spectral
from enbp_core.demo import random_beliefs, random_position_messages
from enbp_core.mixture import Mixture
import torch
import torch.utils.benchmark as tb


def _time(statement, env, min_run_time):
    return tb.Timer(stmt=statement, globals=env).blocked_autorange(
        min_run_time=min_run_time).median


def _eigh_inverse(a):
    lam, q = torch.linalg.eigh(a)
    return (q / lam.unsqueeze(-2)) @ q.transpose(-1, -2)


def main(argv=None) -> int:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, default=2000)
    parser.add_argument('--loop-batch', type=int, default=100,
                        help='mixtures in the Python-loop baselines (they are slow)')
    parser.add_argument('--min-run-time', type=float, default=0.5)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 6, 6, dtype=torch.float64)
    spd = x @ x.transpose(-1, -2) / 6 + 0.1 * torch.eye(6, dtype=torch.float64)
    upstream = torch.randn_like(spd)
    rows = []

    def backward(fn):
        a = spd.clone().requires_grad_()
        (fn(a) * upstream).sum().backward()

    env = {'backward': backward, 'spectral': spectral, '_eigh_inverse': _eigh_inverse}
    ours = _time('backward(spectral.spd_inverse)', env, args.min_run_time)
    base = _time('backward(_eigh_inverse)', env, args.min_run_time)
    iso = (2.0 * torch.eye(6, dtype=torch.float64)).expand(args.batch, 6, 6).clone()
    bad = {}
    for name, fn in (('ours', spectral.spd_inverse), ('eigh', _eigh_inverse)):
        a = iso.clone().requires_grad_()
        (fn(a) * upstream).sum().backward()
        bad[name] = int((~torch.isfinite(a.grad)).flatten(1).any(1).sum())
    rows.append((f'spd_inverse fwd+bwd, {args.batch} 6x6', 'eigh autograd', ours, base,
                 f'non-finite grads at sI: ours {bad["ours"]}, eigh {bad["eigh"]}'))

    env = {'spectral': spectral, 'spd': spd, 'torch': torch}
    ours = _time('spectral.spd_inverse(spd)', env, args.min_run_time)
    base = _time('torch.cholesky_inverse(torch.linalg.cholesky(spd))', env, args.min_run_time)
    rows.append((f'spd_inverse fwd, {args.batch} 6x6', 'cholesky_inverse', ours, base, ''))

    beliefs = random_beliefs(args.batch, 3, generator)
    messages = random_position_messages(args.batch, 3, generator)
    product = mixture.product(beliefs, messages)
    n = args.loop_batch

    def looped(fn, *mixtures):
        for i in range(n):
            fn(*(Mixture(*(t[i] for t in m)) for m in mixtures))

    env = {'mixture': mixture, 'reduction': reduction, 'looped': looped, 'n': n,
           'beliefs': Mixture(*(t[:n] for t in beliefs)),
           'messages': Mixture(*(t[:n] for t in messages)),
           'product': Mixture(*(t[:n] for t in product))}
    ours = _time('mixture.product(beliefs, messages)', env, args.min_run_time)
    base = _time('looped(mixture.product, beliefs, messages)', env, args.min_run_time)
    rows.append((f'product 3x3 comps, {n} mixtures', 'Python loop', ours, base, ''))
    ours = _time('reduction.reduce(product, 3)', env, args.min_run_time)
    base = _time('looped(lambda m: reduction.reduce(m, 3), product)', env, args.min_run_time)
    rows.append((f'reduce 9 -> 3 comps, {n} mixtures', 'Python loop', ours, base, ''))

    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, float64, CPU')
    print(f'{"kernel":<34} {"baseline":<18} {"ours ms":>9} {"base ms":>9} {"base/ours":>9}  note')
    for name, baseline, t_ours, t_base, note in rows:
        print(f'{name:<34} {baseline:<18} {1e3 * t_ours:>9.3f} {1e3 * t_base:>9.3f} '
              f'{t_base / t_ours:>9.2f}  {note}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
