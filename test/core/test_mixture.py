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
Properties of :mod:`enbp_core.mixture`.

References: ``torch.distributions.MixtureSameFamily`` (an independent
implementation) for densities, moments and sampling; 2-D grid quadrature for
the evidence of a product; the vanishing-ridge limit for improper components.
"""

import math

from enbp_core import gaussian, mixture, se3
from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
import numpy as np
import pytest
from random_inputs import random_psd, random_spd, relative_error
import torch


def random_mixture(*shape, k, n, generator, dtype=torch.float64, spread=3.0):
    """Random normalised mixture with well-separated components."""
    log_weights = torch.log_softmax(
        torch.randn(*shape, k, generator=generator, dtype=torch.float64), -1)
    means = spread * torch.randn(*shape, k, n, generator=generator, dtype=torch.float64)
    covariances = random_spd(*shape, k, n=n, generator=generator, floor=0.3)
    m = mixture.from_moments(log_weights, means, covariances)
    return Mixture(*(t.to(dtype) for t in m))


def _reference(m: Mixture):
    means, covariances = mixture.component_moments(m)
    return torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=m.log_weights),
        torch.distributions.MultivariateNormal(means, covariances))


def test_log_density_matches_torch_distributions(dtype, generator, measured):
    m = random_mixture(5, k=4, n=6, generator=generator)
    x = 3 * torch.randn(5, 6, generator=generator, dtype=torch.float64)
    reference = _reference(m).log_prob(x)
    ours = mixture.log_density(Mixture(*(t.to(dtype) for t in m)), x.to(dtype))
    error = measured(f'mixture log_density vs MixtureSameFamily ({dtype})',
                     relative_error(ours, reference))
    assert error < (1e-4 if dtype == torch.float32 else 1e-12)


@pytest.mark.parametrize('shape', [(), (4,), (2, 3)])
def test_product_density_is_the_pointwise_product(shape, generator, measured):
    a = random_mixture(*shape, k=3, n=6, generator=generator)
    b = random_mixture(*shape, k=2, n=6, generator=generator)
    product = mixture.product(a, b)
    assert product.log_weights.shape == shape + (6,)
    x = 2 * torch.randn(shape + (6,), generator=generator, dtype=torch.float64)
    error = measured('mixture product vs pointwise product of densities (float64)', relative_error(
        mixture.log_density(product, x), mixture.log_density(a, x) + mixture.log_density(b, x)))
    assert error < 1e-10


def test_product_evidence_matches_grid_quadrature(generator, measured):
    a = random_mixture(k=3, n=2, generator=generator, spread=1.5)
    b = random_mixture(k=2, n=2, generator=generator, spread=1.5)
    axis = np.linspace(-14, 14, 1001)
    grid = torch.from_numpy(np.stack(np.meshgrid(axis, axis, indexing='ij'), -1))
    density = (mixture.log_density(a, grid) + mixture.log_density(b, grid)).exp().numpy()
    integral = np.trapezoid(np.trapezoid(density, axis), axis)
    error = measured('mixture product evidence vs 2-D grid quadrature',
                     abs(float(mixture.log_mass(mixture.product(a, b))) - math.log(integral)))
    assert error < 1e-6


def test_product_with_improper_components_is_the_vanishing_ridge_limit(generator, measured):
    """Weights of a product with a position-only message (singular precisions)."""
    belief = random_mixture(k=2, n=6, generator=generator)
    # Two components that inform the position block only: same null space.
    position_precision = random_spd(2, n=3, generator=generator)
    precision = torch.zeros(2, 6, 6, dtype=torch.float64)
    precision[:, :3, :3] = position_precision
    eta = torch.zeros(2, 6, dtype=torch.float64)
    eta[:, :3] = (position_precision @ torch.randn(2, 3, 1, generator=generator,
                                                   dtype=torch.float64))[..., 0]
    log_weights = torch.log(torch.tensor([0.3, 0.7], dtype=torch.float64))
    improper = Mixture(log_weights, eta, precision)
    ridge = 1e-8 * torch.eye(6, dtype=torch.float64)
    proper = Mixture(log_weights, eta, precision + ridge)
    exact = mixture.normalize(mixture.product(belief, improper))
    limit = mixture.normalize(mixture.product(belief, proper))
    error = measured('mixture improper product weights vs ridge limit (1e-8)',
                     relative_error(exact.log_weights, limit.log_weights))
    assert error < 1e-5


def test_moments_match_independent_reference(generator, measured):
    m = random_mixture(3, k=4, n=3, generator=generator)
    mean, covariance = mixture.moments(m)
    reference = _reference(m)
    assert relative_error(mean, reference.mean) < 1e-12
    assert relative_error(covariance.diagonal(dim1=-2, dim2=-1), reference.variance) < 1e-12
    draws = reference.sample((400000,))
    centred = draws - draws.mean(0)
    sampled = torch.einsum('sbi,sbj->bij', centred, centred) / draws.shape[0]
    error = measured('mixture covariance vs 4e5 samples (relative)',
                     relative_error(covariance, sampled))
    assert error < 0.03


def test_sample_reproduces_the_moments(generator):
    m = random_mixture(2, k=3, n=3, generator=generator)
    draws = mixture.sample(m, 200000, generator)
    mean, covariance = mixture.moments(m)
    assert draws.shape == (200000, 2, 3)
    assert relative_error(draws.mean(0), mean) < 0.05
    assert relative_error(torch.stack([torch.cov(d.T) for d in draws.unbind(1)]),
                          covariance) < 0.03


def test_collapse_and_marginal(generator, measured):
    m = random_mixture(6, k=3, n=6, generator=generator)
    mean, covariance = mixture.moments(m)
    c_mean, c_cov = gaussian.moments(mixture.collapse(m))
    marg_mean, marg_cov = mixture.moments(mixture.marginal(m, [0, 1, 2]))
    error = measured('mixture collapse/marginal moments (float64)', max(
        relative_error(c_mean, mean), relative_error(c_cov, covariance),
        relative_error(marg_mean, mean[:, :3]), relative_error(marg_cov, covariance[:, :3, :3])))
    assert error < 1e-11


def test_absent_components_change_nothing(generator):
    m = random_mixture(k=3, n=6, generator=generator)
    padded = Mixture(torch.cat([m.log_weights, torch.tensor([float('-inf')]).double()]),
                     torch.cat([m.eta, m.eta[:1]]), torch.cat([m.precision, m.precision[:1]]))
    x = torch.randn(6, generator=generator, dtype=torch.float64)
    assert torch.allclose(mixture.log_density(padded, x), mixture.log_density(m, x))
    assert all(torch.allclose(p, q) for p, q in zip(mixture.moments(padded), mixture.moments(m)))


def test_kl_monte_carlo_is_consistent(generator, measured):
    p = random_mixture(k=1, n=3, generator=generator)
    q = random_mixture(k=1, n=3, generator=generator)
    closed = gaussian.kl_divergence(
        Gaussian(p.eta[0], p.precision[0]), Gaussian(q.eta[0], q.precision[0]))
    estimate = mixture.kl_divergence_monte_carlo(p, q, 200000, generator)
    error = measured('mixture KL Monte Carlo vs closed form, K=1 (relative)',
                     abs(float(estimate - closed)) / float(closed))
    assert error < 0.05
    assert abs(float(mixture.kl_divergence_monte_carlo(p, p, 1000, generator))) < 1e-12


@pytest.mark.parametrize('shape', [(), (5,), (2, 3)])
def test_mixture_kernels_commute_with_rigid_motions(shape, generator, measured):
    a = random_mixture(*shape, k=3, n=6, generator=generator, dtype=torch.float32)
    b = random_mixture(*shape, k=2, n=6, generator=generator, dtype=torch.float32)
    g = se3.random_rigid_motion(*shape, generator=generator, translation_scale=5.0)
    moved_product = mixture.product(mixture.transform(a, g), mixture.transform(b, g))
    product_moved = mixture.transform(mixture.product(a, b), g)
    # Weights are compared after normalisation: the log mass is exactly invariant in
    # exact arithmetic, and in float32 both carry the same round-off.
    errors = [
        relative_error(mixture.normalize(moved_product).log_weights.exp(),
                       mixture.normalize(product_moved).log_weights.exp()),
        relative_error(moved_product.precision, product_moved.precision),
    ]
    mean, cov = mixture.moments(mixture.transform(a, g))
    mean0, cov0 = mixture.moments(a)
    errors += [relative_error(mean, g.states(mean0)), relative_error(cov, g.covariances(cov0))]
    x = torch.randn(shape + (6,), generator=generator)
    errors.append(relative_error(mixture.log_density(mixture.transform(a, g), g.states(x)),
                                 mixture.log_density(a, x)))
    error = measured('mixture product/moments/density SE(3) equivariance (float32)',
                     max(errors))
    assert error < 1e-5


def test_validate_refuses_bad_mixtures(generator):
    good = random_mixture(k=2, n=3, generator=generator)
    mixture.validate(good)
    nan_weights = good.log_weights.clone()
    nan_weights[0] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        mixture.validate(Mixture(nan_weights, good.eta, good.precision))
    with pytest.raises(ValueError, match='absent'):
        mixture.validate(Mixture(torch.full((2,), float('-inf')).double(), good.eta,
                                 good.precision))
    with pytest.raises(ValueError, match='shape'):
        mixture.validate(Mixture(good.log_weights[:1], good.eta, good.precision))
    bad_precision = good.precision.clone()
    bad_precision[1] = -bad_precision[1]
    with pytest.raises(ValueError, match='positive semi-definite'):
        mixture.validate(Mixture(good.log_weights, good.eta, bad_precision))
    with pytest.raises(ValueError, match='non-finite'):
        mixture.validate(Mixture(good.log_weights, good.eta * float('inf'), good.precision))


def test_psd_precisions_pass_validation(generator):
    precision = random_psd(2, n=6, rank=3, generator=generator)
    mixture.validate(Mixture(torch.zeros(2, dtype=torch.float64),
                             torch.zeros(2, 6, dtype=torch.float64), precision))
