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
``enbp-train``: harvest factors, compute reference messages, fit and ship the networks.

The pipeline, each step seeded from ``--seed``:

1. :func:`enbp_core.nn.data.harvest` runs the analytic ENBP planner on the
   simulator's scenarios (training and held-out episodes use different
   scenario seeds) and records every few cycles the distance factors with
   the cavity law of their offsets; copies of a quarter of the training
   factors, pushed deeper into contact, are added
   (:func:`enbp_core.nn.data.pushed_together`: the regime of the planner's
   first iterations, which converged plans rarely record);
2. :func:`enbp_core.nn.reference.reference_set` draws each factor's exact
   tilted distribution by importance sampling; factors whose sample is too
   poor (effective size below ``--min-ess``) are dropped and counted;
3. each architecture (the e3nn network, and the MLP baseline with random
   rotation augmentation) is trained with Adam on the weighted negative
   log-likelihood of the reference samples under the model's tilted mixture
   (the KL up to a constant), same steps, batch and learning rate;
4. the held-out KL of every message model (linearised, analytic side
   hypotheses, e3nn, MLP) is measured, on the held-out factors and on all of
   them pushed together, and the weights are written with
   their training record (:mod:`enbp_core.nn.weights`).
"""

import argparse
import json
import math
from pathlib import Path
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

from enbp_core import se3
from enbp_core.factors.hypotheses import DistanceContext, Linearised, SideHypotheses
from enbp_core.nn import data as harvesting
from enbp_core.nn.data import Episode, FactorRecord
from enbp_core.nn.network import ARCHITECTURES, NeuralHypotheses
from enbp_core.nn.reference import kl_divergence, reference_set, ReferenceSet, subset
from enbp_core.nn.weights import default_weights_path, save_message_model
import torch

__all__ = ['HELD_OUT_EPISODES', 'TRAIN_EPISODES', 'evaluate', 'fit', 'main', 'rotate',
           'synthetic_factors']

TRAIN_EPISODES = (
    Episode('circle', 8, 1), Episode('circle', 14, 2), Episode('circle', 20, 3),
    Episode('circle_obstacles', 10, 4), Episode('circle_obstacles', 16, 5),
    Episode('sphere', 10, 6), Episode('sphere', 16, 7),
    Episode('junction', 12, 8), Episode('random', 12, 9),
)
HELD_OUT_EPISODES = (
    Episode('circle', 12, 101), Episode('circle_obstacles', 12, 102),
    Episode('sphere', 12, 103), Episode('random', 10, 104),
)


class _Bar:
    """A one-line progress bar on stderr (one line per stage when not a TTY)."""

    def __init__(self, stream=None, width: int = 24):
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.started = time.monotonic()
        self.interactive = bool(getattr(self.stream, 'isatty', lambda: False)())

    def show(self, stage: str, done: int, total: int, detail: str = '') -> None:
        fraction = done / max(total, 1)
        bar = '#' * int(round(fraction * self.width))
        text = (f'{stage:<22} [{bar:<{self.width}}] {done}/{total} {detail} '
                f'{time.monotonic() - self.started:6.1f} s')
        if self.interactive:
            self.stream.write('\r' + text.ljust(100))
            if done == total:
                self.stream.write('\n')
        elif done == total:
            self.stream.write(text + '\n')
        self.stream.flush()


def synthetic_factors(count: int, generator: torch.Generator,
                      dtype: torch.dtype = torch.float64) -> FactorRecord:
    """
    Draw ``count`` random distance factors near contact, with small random cavities.

    For smoke tests of the training code (no simulation); the shipped weights
    are trained on harvested factors only.
    """
    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=dtype)
    safe = 2.2 + 0.5 * torch.rand(count, generator=generator, dtype=dtype)
    direction = torch.nn.functional.normalize(normal(count, 3), dim=-1)
    offset = direction * safe[:, None] * (0.6 + 0.8 * torch.rand(
        count, 1, generator=generator, dtype=dtype))
    side = torch.nn.functional.normalize(torch.linalg.cross(direction, normal(count, 3)), dim=-1)
    context = DistanceContext(offset, normal(count, 3), 2 * normal(count, 3), side, safe,
                              torch.full_like(safe, 0.01), safe.new_zeros(count, 2))
    root = 0.05 * normal(count, 3, 3)
    covariance = root @ root.transpose(1, 2) + 1e-3 * torch.eye(3, dtype=dtype)
    return FactorRecord(context, offset + 0.05 * normal(count, 3), covariance)


def rotate(data: ReferenceSet, rotation: torch.Tensor) -> ReferenceSet:
    """Return ``data`` rotated by per-factor rotations ``(F, 3, 3)`` (augmentation)."""
    def vec(v):
        return (rotation @ v[..., None])[..., 0]
    context = data.context._replace(offset=vec(data.context.offset),
                                    velocity=vec(data.context.velocity),
                                    track=vec(data.context.track), side=vec(data.context.side))
    covariance = rotation @ data.cavity_covariance @ rotation.transpose(1, 2)
    samples = data.samples @ rotation.transpose(1, 2)
    return data._replace(context=context, cavity_mean=vec(data.cavity_mean),
                         cavity_covariance=covariance, samples=samples)


def fit(model: NeuralHypotheses, data: ReferenceSet, steps: int, batch_size: int = 256,
        learning_rate: float = 3e-3, seed: int = 0, augment: bool = False,
        progress: Optional[Callable[[int, int, float], None]] = None) -> List[float]:
    """
    Train ``model`` on ``data`` by Adam on the mean KL; return the loss per step.

    Parameters
    ----------
    model : NeuralHypotheses
        Trained in place, in ``data``'s dtype.
    data : ReferenceSet
        Training factors.
    steps, batch_size, learning_rate : int, int, float
        Adam with a cosine learning-rate decay to a tenth.
    seed : int
        Seed of the batches and rotations.
    augment : bool
        Rotate every batch by random rotations (the MLP baseline's augmentation).
    progress : callable, optional
        ``progress(step, steps, loss)``.

    """
    generator = torch.Generator().manual_seed(seed)
    dtype = data.cavity_mean.dtype
    model.network.to(dtype).train()
    optimiser = torch.optim.Adam(model.network.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
    losses = []
    for step in range(steps):
        index = torch.randint(data.num_factors, (batch_size,), generator=generator)
        batch = subset(data, index)
        if augment:
            batch = rotate(batch, se3.random_rotation(batch_size, generator=generator,
                                                      dtype=dtype))
        loss = kl_divergence(model.potentials(batch.context), batch).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.network.parameters(), 10.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step + 1, steps, losses[-1])
    model.network.eval()
    model.refresh()
    return losses


def evaluate(models: Dict[str, Callable], data: ReferenceSet,
             chunk: int = 2048) -> Dict[str, Dict[str, float]]:
    """
    Return held-out KL figures per message model.

    ``mean``/``median`` over all factors, ``contact_mean``/``contact_median``
    over the factors that bite (the exact factor removes more than 1% of the
    cavity's mass, ``log Z < log 0.99``), ``deep_mean`` over those of them
    whose bodies overlap deeply (``|d0| < 0.8 s``), and the three counts.
    """
    contact = data.log_evidence < math.log(0.99)
    deep = contact & (data.context.offset.norm(dim=-1) < 0.8 * data.context.safe_distance)
    figures = {}
    for name, model in models.items():
        parts = []
        with torch.no_grad():
            for start in range(0, data.num_factors, chunk):
                part = subset(data, slice(start, start + chunk))
                parts.append(kl_divergence(model(part.context), part))
        kl = torch.cat(parts)
        figures[name] = {'mean': float(kl.mean()), 'median': float(kl.median()),
                         'contact_mean': float(kl[contact].mean()),
                         'contact_median': float(kl[contact].median()),
                         'deep_mean': float(kl[deep].mean()) if deep.any() else math.nan,
                         'count': int(len(kl)), 'contact_count': int(contact.sum()),
                         'deep_count': int(deep.sum())}
    return figures


def _references(record: FactorRecord, samples: int, min_ess: float, seed: int,
                chunk: int = 4096) -> ReferenceSet:
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for start in range(0, len(record.cavity_mean), chunk):
        index = slice(start, start + chunk)
        context = DistanceContext(*(t[index] for t in record.context))
        parts.append(reference_set(context, record.cavity_mean[index],
                                   record.cavity_covariance[index], samples, generator))
    merged = ReferenceSet(DistanceContext(*(torch.cat(p) for p in zip(
        *(part.context for part in parts)))), *(torch.cat(p) for p in zip(
            *(part[1:] for part in parts))))
    keep = (merged.effective_size >= min_ess).nonzero()[:, 0]
    return subset(merged, keep)


def _harvest(episodes: Sequence[Episode], bar: _Bar, stage: str, seed: int,
             every: int, per_cycle: int, time_limit: float) -> FactorRecord:
    bar.show(stage, 0, len(episodes))
    return harvesting.harvest(episodes, every=every, per_cycle=per_cycle,
                              time_limit=time_limit, seed=seed,
                              progress=lambda done, total, label: bar.show(
                                  stage, done, total, label))


def _plain(record: FactorRecord) -> Dict[str, torch.Tensor]:
    return {**record.context._asdict(), 'cavity_mean': record.cavity_mean,
            'cavity_covariance': record.cavity_covariance}


def _read_cache(path: Optional[Path], key: str):
    if path is None or not path.is_file():
        return None
    payload = torch.load(path, weights_only=True)
    if payload.get('key') != key:
        return None

    def record(plain):
        context = DistanceContext(*(plain[name] for name in DistanceContext._fields))
        return FactorRecord(context, plain['cavity_mean'], plain['cavity_covariance'])
    return record(payload['train']), record(payload['held_out'])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``enbp-train``; return the exit status."""
    parser = argparse.ArgumentParser(
        prog='enbp-train', description=__doc__.strip().splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--architectures', nargs='+', default=['equivariant', 'mlp'],
                        choices=sorted(ARCHITECTURES))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--steps', type=int, default=3000)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--learning-rate', type=float, default=3e-3)
    parser.add_argument('--samples', type=int, default=192,
                        help='importance samples per factor (multiple of 3)')
    parser.add_argument('--min-ess', type=float, default=16.0,
                        help='drop factors whose importance sample is poorer than this')
    parser.add_argument('--every', type=int, default=4, help='record every this many cycles')
    parser.add_argument('--per-cycle', type=int, default=48,
                        help='factors kept per recorded cycle')
    parser.add_argument('--time-limit', type=float, default=40.0,
                        help='simulated seconds per harvested episode')
    parser.add_argument('--pushed-fraction', type=float, default=0.25,
                        help='add copies of this fraction of the training factors, pushed '
                             'deeper into contact (enbp_core.nn.data.pushed_together)')
    parser.add_argument('--quick', action='store_true',
                        help='two short episodes and 20 steps: a smoke run, not for shipping')
    parser.add_argument('--output-dir', type=Path, default=default_weights_path().parent,
                        help='where <architecture>.pt is written (default: the package)')
    parser.add_argument('--report', type=Path, default=None,
                        help='also write the training and held-out figures as JSON here')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads; the tensors are small, so one thread '
                             'is fastest and does not fight other processes for the cores')
    parser.add_argument('--cache', type=Path, default=None,
                        help='keep the harvested factors in this file and reuse them when '
                             'the harvest settings match (the harvest is most of the time)')
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error('--threads must be at least 1')
    if not 0 <= args.pushed_fraction <= 1:
        parser.error('--pushed-fraction must be in [0, 1]')
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_episodes, held_episodes = TRAIN_EPISODES, HELD_OUT_EPISODES
    if args.quick:
        train_episodes, held_episodes = TRAIN_EPISODES[:1], HELD_OUT_EPISODES[:1]
        args.steps, args.time_limit = min(args.steps, 20), min(args.time_limit, 25.0)
    started = time.perf_counter()
    bar = _Bar()
    key = repr((train_episodes, held_episodes, args.seed, args.every, args.per_cycle,
                args.time_limit))
    cached = _read_cache(args.cache, key)
    if cached is not None:
        train_record, held_record = cached
    else:
        train_record = _harvest(train_episodes, bar, 'harvest (train)', args.seed, args.every,
                                args.per_cycle, args.time_limit)
        held_record = _harvest(held_episodes, bar, 'harvest (held-out)', args.seed + 1,
                               args.every, args.per_cycle, args.time_limit)
        if args.cache is not None:
            args.cache.parent.mkdir(parents=True, exist_ok=True)
            torch.save({'key': key, 'train': _plain(train_record),
                        'held_out': _plain(held_record)}, args.cache)
    harvested = time.perf_counter()
    pushing = torch.Generator().manual_seed(args.seed + 4)
    train_record = harvesting.concatenate(
        [train_record, harvesting.pushed_together(train_record, pushing, args.pushed_fraction)])
    train_set = _references(train_record, args.samples, args.min_ess, args.seed + 2)
    held_set = _references(held_record, args.samples, args.min_ess, args.seed + 3)
    held_pushed = _references(harvesting.pushed_together(held_record, pushing, 1.0),
                              args.samples, args.min_ess, args.seed + 5)
    referenced = time.perf_counter()
    report = {'seed': args.seed, 'steps': args.steps, 'batch_size': args.batch_size,
              'learning_rate': args.learning_rate, 'samples': args.samples,
              'pushed_fraction': args.pushed_fraction,
              'train_factors': train_set.num_factors, 'held_out_factors': held_set.num_factors,
              'held_out_pushed_factors': held_pushed.num_factors,
              'dropped_factors': (2 * len(held_record.cavity_mean) + len(train_record.cavity_mean)
                                  - train_set.num_factors - held_set.num_factors
                                  - held_pushed.num_factors),
              'harvest_s': harvested - started, 'reference_s': referenced - harvested,
              'train_episodes': [list(e) for e in train_episodes],
              'held_out_episodes': [list(e) for e in held_episodes], 'architectures': {}}
    models: Dict[str, Callable] = {'linearised': Linearised(0.0),
                                   'linearised (ramp)': Linearised(0.25),
                                   'side hypotheses': SideHypotheses(0.5, 0.25)}
    trained = {}
    for offset, name in enumerate(args.architectures):
        torch.manual_seed(args.seed + 10 + offset)
        model = NeuralHypotheses(ARCHITECTURES[name](), name)
        probe = subset(train_set, slice(0, 4096))
        before = evaluate({name: model}, probe)[name]['mean']
        fit_started = time.perf_counter()
        losses = fit(model, train_set, args.steps, args.batch_size, args.learning_rate,
                     seed=args.seed + 20 + offset, augment=name == 'mlp',
                     progress=lambda step, steps, loss, name=name: bar.show(
                         f'train ({name})', step, steps, f'KL {loss:8.4f}')
                     if step % 10 == 0 or step == steps else None)
        train_s = time.perf_counter() - fit_started
        # Loss figures on a fixed probe of the training set (batch losses are noisy).
        report['architectures'][name] = {
            'train_s': train_s, 'initial_loss': before,
            'final_loss': evaluate({name: model}, probe)[name]['mean'],
            'last_batch_losses': losses[-5:],
            'parameters': sum(p.numel() for p in model.network.parameters())}
        trained[name] = model
        models[name] = model
    report['held_out_kl'] = evaluate(models, held_set.to(torch.float64))
    report['held_out_pushed_kl'] = evaluate(models, held_pushed.to(torch.float64))
    report['total_s'] = time.perf_counter() - started
    for name, model in trained.items():
        record = dict(report['architectures'][name], seed=args.seed, steps=args.steps,
                      train_factors=train_set.num_factors,
                      held_out_kl=report['held_out_kl'][name],
                      held_out_pushed_kl=report['held_out_pushed_kl'][name])
        path = save_message_model(model, args.output_dir / f'{name}.pt', training=record)
        print(f'wrote {path} ({path.stat().st_size / 1024:.0f} KiB)')
    print(_table(report))
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2))
    return 0


def _table(report) -> str:
    lines = [f'train factors {report["train_factors"]}, held-out {report["held_out_factors"]} '
             f'and {report["held_out_pushed_factors"]} pushed together '
             f'(dropped {report["dropped_factors"]} with poor importance samples); '
             f'total {report["total_s"]:.0f} s']
    for key, title in (('held_out_kl', 'held-out'), ('held_out_pushed_kl', 'pushed')):
        lines.append(f'{title + " KL(p || q), nats":<26} {"mean":>9} {"median":>9} '
                     f'{"contact mean":>13} {"contact median":>15} {"deep mean":>10}')
        for name, kl in report[key].items():
            lines.append(f'{name:<26} {kl["mean"]:9.4f} {kl["median"]:9.4f} '
                         f'{kl["contact_mean"]:13.4f} {kl["contact_median"]:15.4f} '
                         f'{kl["deep_mean"]:10.4f}')
    for name, arch in report['architectures'].items():
        lines.append(f'{name}: {arch["parameters"]} parameters, trained in '
                     f'{arch["train_s"]:.0f} s, KL {arch["initial_loss"]:.4f} -> '
                     f'{arch["final_loss"]:.4f}')
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
