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
Properties of the loopy BP engine (:mod:`enbp_core.bp`).

Linear Gaussian graphs with loops must converge to the exact marginal means
of the dense float64 solve; a mixture factor on a tree must give the exact
moment-matched posterior marginals and the exact posterior mixture.
"""

from enbp_core import bp, gaussian, mixture
from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
import pytest
import torch

DTYPE = torch.float64


def _loopy_graph(generator, num=12, dim=3):
    prior = Gaussian(torch.randn(num, dim, generator=generator, dtype=DTYPE),
                     0.5 * torch.eye(dim, dtype=DTYPE).expand(num, dim, dim).clone())
    pairs = torch.tensor([[i, (i + 1) % num] for i in range(num)] + [[0, 6], [3, 9], [2, 7]])
    a = torch.randn(len(pairs), 2 * dim, 2 * dim, generator=generator, dtype=DTYPE)
    precision = a @ a.transpose(-1, -2) / (2 * dim)
    eta = torch.randn(len(pairs), 2 * dim, generator=generator, dtype=DTYPE)
    potential = Mixture(torch.zeros(len(pairs), 1, dtype=DTYPE), eta[:, None], precision[:, None])
    graph = bp.FactorGraph(prior, [bp.FactorGroup('pair', pairs, lambda m: potential,
                                                  fixed=True)])
    return graph, pairs, eta, precision


def _dense_means(graph, pairs, eta, precision):
    num, dim = graph.num_variables, graph.dim
    big = torch.block_diag(*graph.prior.precision)
    vector = graph.prior.eta.reshape(-1).clone()
    for f, (u, w) in enumerate(pairs.tolist()):
        index = torch.cat([torch.arange(u * dim, u * dim + dim),
                           torch.arange(w * dim, w * dim + dim)])
        big[index[:, None], index] += precision[f]
        vector[index] += eta[f]
    return torch.linalg.solve(big, vector).reshape(num, dim)


@pytest.mark.parametrize('damping', [0.0, 0.5])
def test_linear_loopy_graph_converges_to_the_dense_solution(damping, generator, measured):
    graph, pairs, eta, precision = _loopy_graph(generator)
    result = bp.run(graph, 300, damping=damping)
    error = measured(f'bp linear loopy graph means vs dense solve (damping {damping})',
                     float((result.means - _dense_means(graph, pairs, eta, precision))
                           .abs().max()))
    assert not result.diverged
    assert error < 1e-10
    assert result.residuals[-1] < 1e-10


def test_warm_start_resumes_where_it_stopped(generator):
    graph, *_ = _loopy_graph(generator)
    converged = bp.run(graph, 300)
    warm = bp.run(graph, 1, messages=converged.messages)
    cold = bp.run(graph, 1)
    assert warm.residuals[0] < 1e-10 < cold.residuals[0]


def _tree_with_mixture_factor(generator, dim=2, k=3):
    """Two variables with Gaussian priors joined by one 3-component mixture potential."""
    means = torch.randn(2, dim, generator=generator, dtype=DTYPE)
    a = torch.randn(2, dim, dim, generator=generator, dtype=DTYPE)
    prior = gaussian.from_moments(means, a @ a.transpose(-1, -2) + torch.eye(dim, dtype=DTYPE))
    # Potentials over y = x_0 - x_1 (rank dim in 2 dim), different centres and shapes.
    b = torch.randn(k, dim, dim, generator=generator, dtype=DTYPE)
    lam_y = b @ b.transpose(-1, -2) + 0.5 * torch.eye(dim, dtype=DTYPE)
    centres = 2 * torch.randn(k, dim, generator=generator, dtype=DTYPE)
    eta_y = (lam_y @ centres[..., None])[..., 0]
    log_peaks = torch.randn(k, generator=generator, dtype=DTYPE)
    potential_y = mixture.from_potentials(log_peaks, eta_y, lam_y)
    lift = torch.cat([torch.eye(dim, dtype=DTYPE), -torch.eye(dim, dtype=DTYPE)], -1)
    potential_x = mixture.from_potentials(log_peaks, eta_y @ lift, lift.T @ lam_y @ lift)
    return prior, potential_y, potential_x, lift


@pytest.mark.parametrize('projected', [False, True])
def test_mixture_factor_on_a_tree_is_exact(projected, generator, measured):
    prior, potential_y, potential_x, lift = _tree_with_mixture_factor(generator)
    dim = prior.eta.shape[-1]
    if projected:
        group = bp.FactorGroup('mix', torch.tensor([[0, 1]]), lambda m: Mixture(
            *(t[None] for t in potential_y)), projection=lift)
    else:
        group = bp.FactorGroup('mix', torch.tensor([[0, 1]]), lambda m: Mixture(
            *(t[None] for t in potential_x)))
    graph = bp.FactorGraph(prior, [group])
    result = bp.run(graph, 3, psd_messages=False)
    # Exact posterior: joint prior times the mixture, a 3-component mixture in 2 dim.
    joint = Mixture(torch.zeros(1, dtype=DTYPE), prior.eta.reshape(1, -1),
                    torch.block_diag(*prior.precision)[None])
    posterior = mixture.normalize(mixture.product(joint, potential_x))
    worst = 0.0
    beliefs = bp.mixture_beliefs(graph, result, max_components=3, prune_below=0.0)
    for end in range(2):
        keep = list(range(end * dim, (end + 1) * dim))
        exact = mixture.marginal(posterior, keep)
        mean, cov = mixture.moments(exact)
        ours_mean, ours_cov = gaussian.moments(Gaussian(result.beliefs.eta[end],
                                                        result.beliefs.precision[end]))
        worst = max(worst, float((ours_mean - mean).abs().max()),
                    float((ours_cov - cov).abs().max()))
        # The mixture belief is the exact posterior marginal mixture.
        x = torch.randn(5, dim, generator=generator, dtype=DTYPE)
        belief = Mixture(*(t[end] for t in beliefs))
        worst = max(worst, float((mixture.log_density(belief, x)
                                  - mixture.log_density(exact, x)).abs().max()))
    error = measured(f'bp mixture factor on a tree vs exact posterior (projected={projected})',
                     worst)
    assert error < 1e-9
    # With the PSD guard the mixture beliefs stay exact (the guard only drops
    # directions from the Gaussian messages).
    guarded = bp.mixture_beliefs(graph, bp.run(graph, 3), max_components=3, prune_below=0.0)
    assert all(torch.allclose(p, q, atol=1e-9) for p, q in zip(guarded, beliefs))
    # Asking for some variables gives exactly their rows of the full answer.
    for variables in (torch.tensor([1]), torch.tensor([1, 0])):
        some = bp.mixture_beliefs(graph, result, max_components=3, prune_below=0.0,
                                  variables=variables)
        assert all(torch.equal(p, q[variables]) for p, q in zip(some, beliefs))


def test_both_ends_of_a_mixture_factor_see_the_same_weights(generator):
    prior, potential_y, _, lift = _tree_with_mixture_factor(generator)
    graph = bp.FactorGraph(prior, [bp.FactorGroup('mix', torch.tensor([[0, 1]]), lambda m: (
        Mixture(*(t[None] for t in potential_y))), projection=lift)])
    result = bp.run(graph, 2)
    messages = bp.mixture_messages(graph, result)['mix']
    # The hypotheses' posterior weights, recovered at each end from the cavity times
    # the mixture message, agree.
    index = graph.groups[0].variables[0]
    cavities = [Gaussian(result.beliefs.eta[v] - result.messages['mix'].eta[0, end],
                         result.beliefs.precision[v] - result.messages['mix'].precision[0, end])
                for end, v in enumerate(index.tolist())]
    posterior = [mixture.normalize(mixture.product(mixture.from_gaussian(c),
                                                   Mixture(*(t[0, end] for t in messages))))
                 for end, c in enumerate(cavities)]
    assert torch.allclose(posterior[0].log_weights, posterior[1].log_weights, atol=1e-10)
    assert torch.allclose(posterior[0].log_weights.exp(),
                          result.hypothesis_log_weights['mix'][0].exp(), atol=1e-6)


def test_flat_potentials_give_flat_messages(generator):
    prior, potential_y, _, lift = _tree_with_mixture_factor(generator)
    flat = Mixture(potential_y.log_weights[None], torch.zeros_like(potential_y.eta)[None],
                   torch.zeros_like(potential_y.precision)[None])
    graph = bp.FactorGraph(prior, [bp.FactorGroup('mix', torch.tensor([[0, 1]]),
                                                  lambda m: flat, projection=lift)])
    result = bp.run(graph, 2)
    assert torch.equal(result.messages['mix'].precision, torch.zeros(1, 2, 2, 2, dtype=DTYPE))
    assert torch.allclose(result.beliefs.precision, prior.precision)


def test_divergence_is_detected_and_named(generator):
    graph, pairs, eta, precision = _loopy_graph(generator)
    bad = Mixture(torch.zeros(len(pairs), 1, dtype=DTYPE), eta[:, None],
                  -10 * torch.eye(6, dtype=DTYPE).expand(len(pairs), 1, 6, 6))
    graph.groups[0] = bp.FactorGroup('pair', pairs, lambda m: bad, fixed=True)
    result = bp.run(graph, 5)
    assert result.diverged and 'positive definite' in result.reason


def test_non_finite_messages_are_zeroed_not_spread(generator):
    graph, pairs, eta, precision = _loopy_graph(generator)
    eta = eta.clone()
    eta[0, 0] = float('nan')
    poisoned = Mixture(torch.zeros(len(pairs), 1, dtype=DTYPE), eta[:, None], precision[:, None])
    graph.groups[0] = bp.FactorGroup('pair', pairs, lambda m: poisoned, fixed=True)
    result = bp.run(graph, 3)
    assert result.zeroed_messages > 0
    assert bool(torch.isfinite(result.means).all()) and not result.diverged


@pytest.mark.parametrize('iterations, damping', [(0, 0.0), (2.5, 0.0), (3, 1.0), (3, -0.1)])
def test_refuses_absurd_parameters(iterations, damping, generator):
    graph, *_ = _loopy_graph(generator)
    with pytest.raises(ValueError):
        bp.run(graph, iterations, damping=damping)


def test_refuses_malformed_graphs(generator):
    graph, pairs, *_ = _loopy_graph(generator)
    group = graph.groups[0]
    for variables in (pairs + 100, torch.tensor([[1, 1]]), pairs.float()):
        graph.groups[0] = bp.FactorGroup('pair', variables, group.potential, fixed=True)
        with pytest.raises(ValueError):
            bp.run(graph, 1)
    graph.groups = [group, group]
    with pytest.raises(ValueError, match='unique'):
        bp.run(graph, 1)


def _spd(generator, *shape):
    a = torch.randn(*shape, shape[-1], generator=generator, dtype=DTYPE)
    return a @ a.transpose(-1, -2) / shape[-1] + 0.1 * torch.eye(shape[-1], dtype=DTYPE)


def test_projected_linear_loopy_graph_converges_to_the_dense_solution(generator, measured):
    num, d, q = 10, 6, 3
    prior = Gaussian(torch.randn(num, d, generator=generator, dtype=DTYPE),
                     0.5 * torch.eye(d, dtype=DTYPE).expand(num, d, d).clone())
    pairs = torch.tensor([[i, (i + 1) % num] for i in range(num)] + [[0, 5], [2, 7]])
    projection = torch.randn(q, 2 * d, generator=generator, dtype=DTYPE)
    precision = _spd(generator, len(pairs), q)
    eta = torch.randn(len(pairs), q, generator=generator, dtype=DTYPE)
    potential = Mixture(torch.zeros(len(pairs), 1, dtype=DTYPE), eta[:, None], precision[:, None])
    graph = bp.FactorGraph(prior, [bp.FactorGroup('pair', pairs, lambda m: potential, fixed=True,
                                                  projection=projection)])
    result = bp.run(graph, 400)
    big = torch.block_diag(*prior.precision)
    vector = prior.eta.reshape(-1).clone()
    for k, (u, w) in enumerate(pairs.tolist()):
        index = torch.cat([torch.arange(u * d, u * d + d), torch.arange(w * d, w * d + d)])
        big[index[:, None], index] += projection.T @ precision[k] @ projection
        vector[index] += eta[k] @ projection
    dense = torch.linalg.solve(big, vector).reshape(num, d)
    error = measured('bp projected linear loopy graph means vs dense solve',
                     float((result.means - dense).abs().max()))
    assert error < 1e-9


def test_robust_solve_isolates_matrices_that_are_not_positive_definite(generator, measured):
    """SPD entries are solved exactly; singular or indefinite ones by the pseudo-inverse."""
    spd = _spd(generator, 20, 6)
    vectors = torch.randn(4, 6, 2, generator=generator, dtype=DTYPE)
    singular = vectors @ vectors.transpose(-1, -2)                     # rank 2, PSD
    indefinite = spd[:4] - 3 * torch.eye(6, dtype=DTYPE)
    matrices = torch.cat([spd, singular, indefinite])
    rhs = torch.randn(len(matrices), 6, 7, generator=generator, dtype=DTYPE)
    solution = bp.messages.robust_solve(matrices, rhs)
    expected = torch.cat([torch.linalg.solve(spd, rhs[:20]),
                          torch.linalg.pinv(matrices[20:], hermitian=True) @ rhs[20:]])
    error = measured('bp robust_solve vs solve / pseudo-inverse',
                     float(((solution - expected).abs().amax((-1, -2))
                            / expected.abs().amax((-1, -2))).max()))
    assert error < 1e-10
