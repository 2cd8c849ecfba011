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
Properties of :mod:`enbp_core.reduction` (greedy Runnalls reduction).

The batched, incrementally updated implementation is checked against a
straightforward float64 reference that loops over mixtures and pairs and
recomputes every cost at every step.
"""

import itertools

from enbp_core import mixture, reduction, se3
from enbp_core.mixture import Mixture
import numpy as np
import pytest
from random_inputs import relative_error
from test_mixture import random_mixture
import torch


def _reference_reduce(weights, means, covariances, max_components):
    """Greedy Runnalls reduction of one mixture, in NumPy, the textbook way."""
    comps = [(w, m, c) for w, m, c in zip(weights, means, covariances)]
    slots = list(range(len(comps)))
    merges = []
    while len(slots) > max_components:
        best = None
        for i, j in itertools.combinations(slots, 2):
            (wi, mi, ci), (wj, mj, cj) = comps[i], comps[j]
            w = wi + wj
            d = mi - mj
            c = (wi * ci + wj * cj) / w + wi * wj / w ** 2 * np.outer(d, d)
            cost = 0.5 * (w * np.linalg.slogdet(c)[1] - wi * np.linalg.slogdet(ci)[1]
                          - wj * np.linalg.slogdet(cj)[1])
            if best is None or cost < best[0]:
                best = (cost, i, j, (w, (wi * mi + wj * mj) / w, c))
        _, i, j, merged = best
        comps[i] = merged
        slots.remove(j)
        merges.append((i, j))
    return [comps[s] for s in slots], merges


@pytest.mark.parametrize('shape', [(), (6,), (2, 3)])
def test_matches_the_textbook_reference(shape, generator, measured):
    m = random_mixture(*shape, k=9, n=6, generator=generator, spread=2.0)
    result = reduction.reduce(m, 3, prune_below=0.0)
    flat = Mixture(*(t.reshape((-1,) + t.shape[len(shape):]) for t in m))
    out = Mixture(*(t.reshape((-1,) + t.shape[len(shape):]) for t in result.mixture))
    means, covs = mixture.component_moments(flat)
    out_means, out_covs = mixture.component_moments(out)
    worst = 0.0
    for b in range(flat.log_weights.shape[0]):
        weights = flat.log_weights[b].softmax(-1).numpy()
        expected, merges = _reference_reduce(weights, means[b].numpy(), covs[b].numpy(), 3)
        expected.sort(key=lambda comp: -comp[0])
        ours_merges = [(int(i.reshape(-1)[b]), int(j.reshape(-1)[b])) for i, j in result.merges]
        assert ours_merges == merges
        for k, (w, mu, cov) in enumerate(expected):
            worst = max(worst,
                        abs(float(out.log_weights[b, k].exp()) - w),
                        relative_error(out_means[b, k], torch.from_numpy(mu)),
                        relative_error(out_covs[b, k], torch.from_numpy(cov)))
    error = measured('reduction vs textbook reference (float64)', worst)
    assert error < 1e-10


@pytest.mark.parametrize('max_components', [1, 2, 3, 5, 9, 12])
def test_respects_k_max_and_preserves_mass_and_moments(max_components, generator, measured):
    m = random_mixture(20, k=9, n=6, generator=generator)
    m = Mixture(m.log_weights + 1.7, m.eta, m.precision)  # unnormalised on purpose
    reduced = reduction.reduce(m, max_components, prune_below=0.0).mixture
    assert reduced.log_weights.shape[-1] == min(9, max_components)
    assert bool((reduced.log_weights > float('-inf')).all())
    mean, cov = mixture.moments(m)
    r_mean, r_cov = mixture.moments(reduced)
    error = measured('reduction mass/mean/covariance preservation (float64)', max(
        relative_error(mixture.log_mass(reduced), mixture.log_mass(m)),
        relative_error(r_mean, mean), relative_error(r_cov, cov)))
    assert error < 1e-10
    # Sorted heaviest first.
    assert bool((reduced.log_weights[..., :-1] >= reduced.log_weights[..., 1:]).all())


def test_runnalls_cost_bounds_the_kl_of_a_merge(generator, measured):
    """``B(i, j) >= KL(before || after)`` for the merge the greedy step picks."""
    m = random_mixture(6, k=4, n=2, generator=generator, spread=1.5)
    before = mixture.normalize(m)
    result = reduction.reduce(before, 3, prune_below=0.0)
    weights = before.log_weights.exp()
    means, covs = mixture.component_moments(before)
    logdets = torch.linalg.slogdet(covs)[1]
    i, j = result.merges[0]
    pick = torch.arange(6)
    bound = reduction.runnalls_cost(
        weights[pick, i], means[pick, i], covs[pick, i], logdets[pick, i],
        weights[pick, j], means[pick, j], covs[pick, j], logdets[pick, j])
    kl = mixture.kl_divergence_monte_carlo(before, result.mixture, 100000, generator)
    measured('reduction min slack of Runnalls bound over MC KL', float((bound - kl).min()))
    # Monte-Carlo error of 1e5 samples is about 1e-3 here.
    assert bool((bound >= kl - 5e-3).all())
    assert bool((bound >= 0).all())


def test_runnalls_cost_is_symmetric_and_zero_for_identical_components(generator):
    m = random_mixture(k=2, n=3, generator=generator)
    w = m.log_weights.exp()
    mu, cov = mixture.component_moments(m)
    ld = torch.linalg.slogdet(cov)[1]
    forward = reduction.runnalls_cost(w[0], mu[0], cov[0], ld[0], w[1], mu[1], cov[1], ld[1])
    backward = reduction.runnalls_cost(w[1], mu[1], cov[1], ld[1], w[0], mu[0], cov[0], ld[0])
    assert torch.allclose(forward, backward)
    same = reduction.runnalls_cost(w[0], mu[0], cov[0], ld[0], w[1], mu[0], cov[0], ld[0])
    assert abs(float(same)) < 1e-12


def test_prunes_negligible_weights_but_never_the_heaviest(generator):
    m = random_mixture(k=4, n=3, generator=generator)
    log_weights = torch.log(torch.tensor([0.6, 0.4 - 2e-7, 1e-7, 1e-7], dtype=torch.float64))
    kept = reduction.reduce(Mixture(log_weights, m.eta, m.precision), 4, 1e-6).mixture
    assert int((kept.log_weights > float('-inf')).sum()) == 2
    assert torch.allclose(kept.log_weights[:2].exp(), torch.tensor([0.6, 0.4]).double(),
                          atol=1e-6)
    # A threshold above every weight still keeps the heaviest component.
    only = reduction.reduce(Mixture(log_weights, m.eta, m.precision), 4, 0.9).mixture
    assert int((only.log_weights > float('-inf')).sum()) == 1
    assert torch.equal(only.eta[0], m.eta[0])
    # Absent slots copy the heaviest component, so they stay finite.
    assert torch.equal(only.eta[3], m.eta[0])


def test_untouched_mixtures_pass_through_exactly(generator):
    m = random_mixture(5, k=3, n=6, generator=generator)
    out = reduction.reduce(m, 3, prune_below=0.0).mixture
    order = m.log_weights.argsort(-1, descending=True)
    assert torch.equal(out.eta, torch.take_along_dim(m.eta, order[..., None], -2))
    assert torch.equal(out.precision,
                       torch.take_along_dim(m.precision, order[..., None, None], -3))


def test_batched_equals_looped(generator):
    m = random_mixture(2, 3, k=7, n=6, generator=generator)
    batched = reduction.reduce(m, 2).mixture
    for a in range(2):
        for b in range(3):
            single = reduction.reduce(Mixture(*(t[a, b] for t in m)), 2).mixture
            for x, y in zip(single, batched):
                assert torch.allclose(x, y[a, b], atol=1e-12)


def test_commutes_with_rigid_motions_and_picks_the_same_merges(generator, measured):
    m = random_mixture(64, k=9, n=6, generator=generator, dtype=torch.float32)
    g = se3.random_rigid_motion(64, generator=generator, translation_scale=5.0)
    reduced = reduction.reduce(m, 3)
    moved = reduction.reduce(mixture.transform(m, g), 3)
    for (i, j), (gi, gj) in zip(reduced.merges, moved.merges):
        assert torch.equal(i, gi) and torch.equal(j, gj)
    expected = mixture.transform(reduced.mixture, g)
    mean, cov = mixture.component_moments(moved.mixture)
    mean0, cov0 = mixture.component_moments(expected)
    error = measured('reduction SE(3) equivariance (float32)', max(
        relative_error(moved.mixture.log_weights.exp(), expected.log_weights.exp()),
        relative_error(mean, mean0), relative_error(cov, cov0)))
    assert error < 1e-5


@pytest.mark.parametrize('max_components, prune_below',
                         [(0, 0.0), (1.5, 0.0), (2, 1.0), (2, -0.1)])
def test_refuses_absurd_parameters(max_components, prune_below, generator):
    with pytest.raises(ValueError):
        reduction.reduce(random_mixture(k=3, n=2, generator=generator), max_components,
                         prune_below)
