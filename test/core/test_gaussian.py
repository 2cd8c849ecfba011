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
Properties of :mod:`enbp_core.gaussian`.

References: dense float64 moment-form formulas, numerical integration on a
grid (2-D), ``torch.distributions`` for densities and KL, and the limit of a
vanishing ridge for improper Gaussians.
"""

import math

from enbp_core import gaussian, se3
from enbp_core.gaussian import Gaussian
import numpy as np
import pytest
from random_inputs import random_psd, random_spd, relative_error
import torch


def _random_gaussian(*shape, n, generator, dtype=torch.float64, scale=2.0):
    mean = scale * torch.randn(*shape, n, generator=generator, dtype=torch.float64)
    covariance = random_spd(*shape, n=n, generator=generator, floor=0.3)
    g = gaussian.from_moments(mean, covariance)
    return Gaussian(g.eta.to(dtype), g.precision.to(dtype))


def _grid(half_width=12.0, points=801):
    axis = np.linspace(-half_width, half_width, points)
    xx, yy = np.meshgrid(axis, axis, indexing='ij')
    return axis, torch.from_numpy(np.stack([xx, yy], -1))


def test_moments_round_trip(generator, measured):
    mean = torch.randn(20, 6, generator=generator, dtype=torch.float64)
    covariance = random_spd(20, n=6, generator=generator)
    back_mean, back_cov = gaussian.moments(gaussian.from_moments(mean, covariance))
    error = measured('gaussian moments round trip (float64)',
                     max(relative_error(back_mean, mean), relative_error(back_cov, covariance)))
    assert error < 1e-12


def test_log_density_matches_torch_distributions(dtype, generator, measured):
    mean = torch.randn(10, 6, generator=generator, dtype=torch.float64)
    covariance = random_spd(10, n=6, generator=generator)
    x = torch.randn(10, 6, generator=generator, dtype=torch.float64)
    reference = torch.distributions.MultivariateNormal(mean, covariance).log_prob(x)
    g = gaussian.from_moments(mean.to(dtype), covariance.to(dtype))
    error = measured(f'gaussian log_density vs torch.distributions ({dtype})',
                     relative_error(gaussian.log_density(g, x.to(dtype)), reference))
    assert error < (1e-4 if dtype == torch.float32 else 1e-12)


def test_log_normalizer_matches_grid_integration(generator, measured):
    g = _random_gaussian(n=2, generator=generator, scale=1.0)
    axis, grid = _grid()
    log_phi = (-0.5 * (grid[..., None, :] @ g.precision @ grid[..., None])[..., 0, 0]
               + (g.eta * grid).sum(-1))
    integral = np.trapezoid(np.trapezoid(np.exp(log_phi.numpy()), axis), axis)
    error = measured('gaussian log_normalizer vs 2-D grid quadrature',
                     abs(float(gaussian.log_normalizer(g)) - math.log(integral)))
    assert error < 1e-6


def test_product_is_pointwise_product_with_grid_normaliser(generator, measured):
    p = _random_gaussian(n=2, generator=generator, scale=1.0)
    q = _random_gaussian(n=2, generator=generator, scale=1.0)
    r = gaussian.product(p, q)
    axis, grid = _grid()
    density = (gaussian.log_density(p, grid) + gaussian.log_density(q, grid)).exp()
    integral = np.trapezoid(np.trapezoid(density.numpy(), axis), axis)
    log_scale = (gaussian.log_normalizer(r) - gaussian.log_normalizer(p)
                 - gaussian.log_normalizer(q))
    error = measured('gaussian product normaliser vs 2-D grid quadrature',
                     abs(float(log_scale) - math.log(integral)))
    assert error < 1e-6
    pointwise = gaussian.log_density(r, grid) + log_scale
    assert relative_error(pointwise, gaussian.log_density(p, grid)
                          + gaussian.log_density(q, grid)) < 1e-10


def test_marginal_matches_moment_form_and_grid(generator, measured):
    g = _random_gaussian(30, n=6, generator=generator)
    mean, covariance = gaussian.moments(g)
    keep = [4, 0, 2]
    m_mean, m_cov = gaussian.moments(gaussian.marginal(g, keep))
    error = measured('gaussian marginal vs moment-form reference (float64)', max(
        relative_error(m_mean, mean[:, keep]),
        relative_error(m_cov, covariance[:, keep][:, :, keep])))
    assert error < 1e-11
    # A 2-D joint integrated over its second coordinate on a grid.
    g2 = _random_gaussian(n=2, generator=generator, scale=1.0)
    axis, grid = _grid()
    joint = gaussian.log_density(g2, grid).exp().numpy()
    numeric = np.trapezoid(joint, axis, axis=1)
    ours = gaussian.log_density(gaussian.marginal(g2, [0]), torch.from_numpy(axis)[:, None])
    error = measured('gaussian marginal density vs grid integration',
                     float(np.abs(ours.exp().numpy() - numeric).max()))
    assert error < 1e-8


def test_marginal_of_an_improper_joint_is_the_vanishing_ridge_limit(generator, measured):
    """Integrating out a block with no information equals the limit of a tiny prior."""
    # Rank-4 precision over 6 coordinates whose kept block (0, 1, 2) is full rank.
    precision = random_psd(n=6, rank=4, generator=generator)
    eta = precision @ torch.randn(6, generator=generator, dtype=torch.float64)
    improper = gaussian.marginal(Gaussian(eta, precision), [0, 1, 2])
    ridge = 1e-9 * torch.eye(6, dtype=torch.float64)
    limit = gaussian.marginal(Gaussian(eta, precision + ridge), [0, 1, 2])
    error = measured('gaussian improper marginal vs ridge limit (1e-9)', max(
        relative_error(improper.precision, limit.precision),
        relative_error(improper.eta, limit.eta)))
    assert error < 1e-5


def test_condition_matches_moment_form(generator, measured):
    g = _random_gaussian(12, n=6, generator=generator)
    mean, cov = gaussian.moments(g)
    observed, rest = [3, 4, 5], [0, 1, 2]
    value = torch.randn(12, 3, generator=generator, dtype=torch.float64)
    c_mean, c_cov = gaussian.moments(gaussian.condition(g, observed, value))
    gain = cov[:, rest][:, :, observed] @ torch.linalg.inv(cov[:, observed][:, :, observed])
    ref_mean = mean[:, rest] + (gain @ (value - mean[:, observed])[..., None])[..., 0]
    ref_cov = cov[:, rest][:, :, rest] - gain @ cov[:, observed][:, :, rest]
    error = measured('gaussian condition vs moment-form reference (float64)',
                     max(relative_error(c_mean, ref_mean), relative_error(c_cov, ref_cov)))
    assert error < 1e-10


def test_improper_log_normalizer_is_the_range_normaliser(generator, measured):
    basis, _ = torch.linalg.qr(torch.randn(4, 4, generator=generator, dtype=torch.float64))
    range_basis = basis[:, :2]
    reduced = random_spd(n=2, generator=generator)
    reduced_eta = torch.randn(2, generator=generator, dtype=torch.float64)
    improper = Gaussian(range_basis @ reduced_eta, range_basis @ reduced @ range_basis.T)
    error = measured('gaussian improper log_normalizer vs range normaliser', abs(float(
        gaussian.log_normalizer(improper)
        - gaussian.log_normalizer(Gaussian(reduced_eta, reduced)))))
    assert error < 1e-10


def test_kl_divergence_matches_torch_distributions(generator, measured):
    p = _random_gaussian(10, n=6, generator=generator)
    q = _random_gaussian(10, n=6, generator=generator)
    reference = torch.distributions.kl_divergence(
        torch.distributions.MultivariateNormal(*gaussian.moments(p)),
        torch.distributions.MultivariateNormal(*gaussian.moments(q)))
    error = measured('gaussian KL vs torch.distributions (float64)',
                     relative_error(gaussian.kl_divergence(p, q), reference))
    assert error < 1e-10


def test_moments_match_sampling(generator):
    g = _random_gaussian(n=3, generator=generator)
    mean, covariance = gaussian.moments(g)
    draws = torch.distributions.MultivariateNormal(mean, covariance).sample((200000,))
    sigma = covariance.diagonal().sqrt()
    assert bool(((draws.mean(0) - mean).abs() < 5 * sigma / 200000 ** 0.5).all())
    assert relative_error(torch.cov(draws.T), covariance) < 0.02


@pytest.mark.parametrize('shape', [(), (7,), (2, 3)])
def test_kernels_commute_with_rigid_motions(shape, generator, measured):
    g = _random_gaussian(*shape, n=6, generator=generator, dtype=torch.float32)
    h = _random_gaussian(*shape, n=6, generator=generator, dtype=torch.float32)
    motion = se3.random_rigid_motion(*shape, generator=generator, translation_scale=5.0)

    def move(x):
        return Gaussian(*motion.information(*x, layout='pv'))

    prod = gaussian.product(move(g), move(h))
    expected = move(gaussian.product(g, h))
    error = relative_error(prod.precision, expected.precision)
    mean, cov = gaussian.moments(move(g))
    mean0, cov0 = gaussian.moments(g)
    error = max(error, relative_error(mean, motion.states(mean0)),
                relative_error(cov, motion.covariances(cov0)))
    position_motion = se3.RigidMotion(*motion)
    marg = gaussian.moments(gaussian.marginal(move(g), [0, 1, 2]))
    marg0 = gaussian.moments(gaussian.marginal(g, [0, 1, 2]))
    error = max(error, relative_error(marg[0], position_motion.points(marg0[0])),
                relative_error(marg[1], position_motion.covariances(marg0[1], 'p')))
    # Densities are invariant: a rigid motion has unit Jacobian.
    x = torch.randn(shape + (6,), generator=generator)
    invariant = relative_error(gaussian.log_density(move(g), motion.states(x)),
                               gaussian.log_density(g, x))
    error = measured('gaussian product/moments/marginal/density SE(3) equivariance (float32)',
                     max(error, invariant))
    assert error < 1e-5


def test_validate_refuses_bad_input():
    good = Gaussian(torch.zeros(3), torch.eye(3))
    gaussian.validate(good)
    with pytest.raises(ValueError, match='non-finite'):
        gaussian.validate(Gaussian(torch.tensor([0.0, float('nan'), 0.0]), torch.eye(3)))
    with pytest.raises(ValueError, match='not symmetric'):
        gaussian.validate(Gaussian(torch.zeros(3), torch.eye(3) + torch.triu(torch.ones(3, 3), 1)))
    with pytest.raises(ValueError, match='positive semi-definite'):
        gaussian.validate(Gaussian(torch.zeros(3), -torch.eye(3)))
    with pytest.raises(ValueError, match='shape'):
        gaussian.validate(Gaussian(torch.zeros(4), torch.eye(3)))
    with pytest.raises(ValueError, match='shape'):
        gaussian.validate(Gaussian(torch.zeros(3), torch.ones(3, 2)))
    with pytest.raises(ValueError, match='broadcast'):
        gaussian.validate(Gaussian(torch.zeros(2, 3), torch.eye(3).expand(5, 3, 3)))


def test_from_moments_refuses_singular_or_bad_covariance():
    with pytest.raises(ValueError, match='singular'):
        gaussian.from_moments(torch.zeros(2), torch.diag(torch.tensor([1.0, 0.0])))
    with pytest.raises(ValueError, match='positive semi-definite'):
        gaussian.from_moments(torch.zeros(2), torch.diag(torch.tensor([1.0, -1.0])))
    with pytest.raises(ValueError, match='non-finite'):
        gaussian.from_moments(torch.tensor([0.0, float('inf')]), torch.eye(2))


@pytest.mark.parametrize('keep', [[], [0, 0], [3], slice(0, 0)])
def test_marginal_refuses_bad_indices(keep):
    with pytest.raises(ValueError, match='keep'):
        gaussian.marginal(Gaussian(torch.zeros(3), torch.eye(3)), keep)
