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

from enbp_core import bp
from enbp_core.bp.messages import gaussian_messages, projected_gaussian_messages
from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
import pytest
import torch

DTYPE = torch.float64


def _spd(generator, *shape, scale=1.0):
    a = torch.randn(*shape, shape[-1], generator=generator, dtype=DTYPE)
    return scale * (a @ a.transpose(-1, -2) / shape[-1]
                    + 0.1 * torch.eye(shape[-1], dtype=DTYPE))


def _rank_deficient(generator, f, q):
    """PSD potentials of rank 1 .. q, like linearised hinges (rank 1)."""
    rank = torch.randint(1, q + 1, (f,), generator=generator)
    vectors = torch.randn(f, q, q, generator=generator, dtype=DTYPE)
    vectors = vectors * (torch.arange(q)[None, None, :] < rank[:, None, None])
    return 1e3 * vectors @ vectors.transpose(-1, -2)


@pytest.mark.parametrize('arity', [1, 2])
def test_projected_messages_equal_the_lifted_schur_messages(arity, generator, measured):
    f, d, q = 200, 6, 3
    projection = torch.randn(q, arity * d, generator=generator, dtype=DTYPE)
    precision = _rank_deficient(generator, f, q)
    potential = Gaussian(torch.randn(f, q, generator=generator, dtype=DTYPE) * 10, precision)
    # Cavities as in planning: some pinned (1e6), some nearly flat (1e-2).
    scale = 10.0 ** torch.randint(-2, 7, (f, arity, 1, 1), generator=generator).to(DTYPE)
    cavities = Gaussian(torch.randn(f, arity, d, generator=generator, dtype=DTYPE),
                        _spd(generator, f, arity, d) * scale)
    lifted = Gaussian(potential.eta @ projection,
                      projection.T @ potential.precision @ projection)
    expected, _ = gaussian_messages(lifted, cavities)
    got, bad = projected_gaussian_messages(potential, projection, cavities)
    assert bad == 0
    norm = expected.precision.flatten(-2).abs().amax(-1).clamp_min(1.0)
    error = measured(f'bp projected messages vs lifted Schur messages (arity {arity})', max(
        float(((got.precision - expected.precision).flatten(-2).abs().amax(-1) / norm).max()),
        float(((got.eta - expected.eta).abs().amax(-1)
               / expected.eta.abs().amax(-1).clamp_min(1.0)).max())))
    # Cavity scales span 1e-2 .. 1e6: either computation carries ~1e8 x eps of round-off.
    assert error < 1e-7


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
