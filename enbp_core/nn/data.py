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
Training factors harvested from closed-loop simulations.

The network must be good where the planner actually calls it, so its
training factors are not drawn from a made-up distribution: the analytic
ENBP planner (the ``enbp`` preset with its two side hypotheses) drives the
simulator's scenarios (:mod:`enbp_core.sim.scenarios`), and every few control
cycles each distance factor of the cycle's graph is recorded with

- its :class:`~enbp_core.factors.hypotheses.DistanceContext` at the final
  belief means (what a message model is called with), and
- the cavity law ``N(m, C)`` of its offset: each end's belief divided by
  the factor's last message, projected by the factor's ``A``.

These are then turned into reference tilted distributions by
:func:`enbp_core.nn.reference.reference_set`.

Recording at the final belief means leaves a gap: a converged plan rarely
lets bodies overlap (1% of harvested factors have ``|d0| < 0.58 s``, ``s``
the safety distance), but the message model is called at every iteration,
and the first ones linearise at the warm start, where crossing straight-line
plans overlap deeply (``|d0| = 0.2 s`` is common at the start of a circle).
The deep factors that are harvested are mostly far-horizon states with wide
cavities, whose exact tilted distribution moves far; a network fitted to
them alone learned, for every deep offset, a pull ``4 s`` away with an
isotropic precision of ``800 / s^2``, which against the narrow cavities of
the first iterations froze whole teams short of each other (held-out KL of
83 nats on deep copies, against 0.7 for the linearised hinge).
:func:`pushed_together` adds copies of harvested factors whose bodies overlap
deeper, so that the network must be right for both kinds of deep factor. It
cannot see the cavity, so it gives up the wide-cavity gain there (measured
in the README) and keeps its gain near contact.
"""

from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

from enbp_core.factors.hypotheses import DistanceContext
from enbp_core.planning import make_planner
from enbp_core.planning.planner import CycleResult
from enbp_core.sim.scenarios import load_scenario
import torch

__all__ = ['concatenate', 'Episode', 'FactorRecord', 'harvest', 'harvest_cycle',
           'pushed_together']


class Episode(NamedTuple):
    """A closed-loop run to harvest: scenario name, number of agents, seed."""

    scenario: str
    agents: int
    seed: int


class FactorRecord(NamedTuple):
    """``F`` distance factors: their contexts and the cavity law of their offsets."""

    context: DistanceContext
    cavity_mean: torch.Tensor
    cavity_covariance: torch.Tensor


class _Recorder:
    """Wrap a message model and keep the last context it was called with."""

    def __init__(self, model):
        self.model = model
        self.num_components = model.num_components
        self.last: Optional[DistanceContext] = None

    def __call__(self, context: DistanceContext):
        self.last = context
        return self.model(context)


def harvest_cycle(cycle: CycleResult, recorder: _Recorder) -> Optional[FactorRecord]:
    """Return the distance factors of one planning cycle (None if it has none)."""
    result = cycle.bp_result
    means, beliefs = result.means, result.beliefs
    parts: List[FactorRecord] = []
    for group in cycle.planning.graph.groups:
        if group.name not in ('interagent', 'obstacle') or not len(group):
            continue
        group.potential(means[group.variables])
        context = recorder.last
        message = result.messages[group.name]
        eta = beliefs.eta[group.variables] - message.eta
        precision = beliefs.precision[group.variables] - message.precision
        covariance = torch.linalg.inv(0.5 * (precision + precision.transpose(-1, -2)))
        mean = (covariance @ eta[..., None])[..., 0]
        positions, spreads = mean[..., :3], covariance[..., :3, :3]
        if group.name == 'interagent':
            offset_mean = positions[:, 0] - positions[:, 1]
            offset_covariance = spreads[:, 0] + spreads[:, 1]
        else:
            centre = means[group.variables[:, 0], :3] - context.offset
            offset_mean = positions[:, 0] - centre
            offset_covariance = spreads[:, 0]
        context = context._replace(prior_log_weights=torch.zeros_like(context.prior_log_weights))
        parts.append(FactorRecord(context, offset_mean,
                                  0.5 * (offset_covariance + offset_covariance.transpose(1, 2))))
    if not parts:
        return None
    return concatenate(parts)


def concatenate(records: Sequence[FactorRecord]) -> FactorRecord:
    """Concatenate records along the factor axis."""
    context = DistanceContext(*(torch.cat(parts) for parts in zip(*(r.context for r in records))))
    return FactorRecord(context, torch.cat([r.cavity_mean for r in records]),
                        torch.cat([r.cavity_covariance for r in records]))


def _valid(record: FactorRecord) -> torch.Tensor:
    """Factors with a finite, proper cavity and a defined offset."""
    eigenvalues = torch.linalg.eigvalsh(record.cavity_covariance)
    return (torch.isfinite(record.cavity_mean).all(-1) & torch.isfinite(eigenvalues).all(-1)
            & (eigenvalues[:, 0] > 1e-10) & (eigenvalues[:, -1] < 1e4)
            & (record.context.offset.norm(dim=-1) > 1e-6))


def harvest(episodes: Sequence[Episode], every: int = 4, per_cycle: int = 48,
            time_limit: float = 40.0, seed: int = 0,
            progress: Optional[Callable[[int, int, str], None]] = None) -> FactorRecord:
    """
    Run closed-loop episodes with the analytic planner and record their distance factors.

    Parameters
    ----------
    episodes : sequence of Episode
        What to run.
    every : int
        Record every this many planning cycles.
    per_cycle : int
        Keep at most this many factors per recorded cycle (drawn at random).
    time_limit : float
        Cap on each episode's simulated time, s.
    seed : int
        Seed of the subsampling.
    progress : callable, optional
        ``progress(done, total, label)`` after each episode.

    Returns
    -------
    FactorRecord
        In float64.

    """
    generator = torch.Generator().manual_seed(seed)
    records: List[FactorRecord] = []
    for number, episode in enumerate(episodes):
        instance = load_scenario(episode.scenario, episode.agents, seed=episode.seed)
        planner = make_planner('enbp', {'message_model': 'side'})
        recorder = _Recorder(planner.model)
        planner.model = recorder
        cycles = [0]

        def on_cycle(simulator, planner=planner, recorder=recorder, cycles=cycles):
            cycles[0] += 1
            if cycles[0] % every or planner.last is None:
                return
            record = harvest_cycle(planner.last, recorder)
            if record is None:
                return
            keep = _valid(record).nonzero()[:, 0]
            keep = keep[torch.randperm(len(keep), generator=generator)[:per_cycle]]
            records.append(_select(record, keep))

        limit = min(time_limit, instance.sim.time_limit)
        instance.simulator(time_limit=limit).run(planner, on_cycle=on_cycle)
        if progress is not None:
            progress(number + 1, len(episodes), f'{episode.scenario} N={episode.agents}')
    return concatenate(records)


def _select(record: FactorRecord, index: torch.Tensor) -> FactorRecord:
    return FactorRecord(DistanceContext(*(t[index] for t in record.context)),
                        record.cavity_mean[index], record.cavity_covariance[index])


def pushed_together(record: FactorRecord, generator: torch.Generator, fraction: float = 0.25,
                    depth: Tuple[float, float] = (0.1, 1.0)) -> FactorRecord:
    """
    Return copies of a random ``fraction`` of the factors, pushed deeper into contact.

    Per copy, the linearisation offset ``d0`` and the cavity mean are scaled
    by the same ``lambda ~ U(depth)``: the bodies overlap further along the
    same direction, and side axis, velocities and cavity covariance keep
    their geometry. The exact tilted distribution of each copy is computed
    like any other factor's; only the geometry is synthetic.

    Parameters
    ----------
    record : FactorRecord
        Harvested factors, float64.
    generator : torch.Generator
        Seeded CPU generator (which factors, and their ``lambda``).
    fraction : float
        Copies per harvested factor, in ``[0, 1]`` (each factor at most once).
    depth : (float, float)
        Range of ``lambda``, ``0 < low <= high <= 1``.

    """
    low, high = depth
    if not 0 < low <= high <= 1:
        raise ValueError(f'depth must satisfy 0 < low <= high <= 1, got {depth}')
    if not 0 <= fraction <= 1:
        raise ValueError(f'fraction must be in [0, 1], got {fraction}')
    total = len(record.cavity_mean)
    chosen = _select(record, torch.randperm(total, generator=generator)[
        :int(round(fraction * total))])
    shrink = low + (high - low) * torch.rand(len(chosen.cavity_mean), 1, generator=generator,
                                             dtype=chosen.cavity_mean.dtype)
    context = chosen.context._replace(offset=shrink * chosen.context.offset)
    return FactorRecord(context, shrink * chosen.cavity_mean, chosen.cavity_covariance)
