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
Properties of the planning factors and message models (:mod:`enbp_core.factors`).

Jacobians against central finite differences in float64; the dynamics
precision against the inverse of the continuous white-noise covariance;
message models for exact equivariance under random rotations.
"""

from enbp_core import mixture, se3
from enbp_core.factors import distance, dynamics, hypotheses, priors, speed
from enbp_core.factors.hypotheses import DistanceContext
import pytest
import torch

DTYPE = torch.float64


def test_dynamics_precision_is_the_inverse_white_noise_covariance(generator, measured):
    dt = torch.rand(20, generator=generator, dtype=DTYPE) + 0.05
    potential = dynamics.constant_velocity(dt, 0.1)
    worst = 0.0
    for e, step in enumerate(dt.tolist()):
        q = 0.1 ** 2 * torch.tensor([[step ** 3 / 3, step ** 2 / 2], [step ** 2 / 2, step]],
                                    dtype=DTYPE)
        q_inv = torch.kron(torch.linalg.inv(q).contiguous(), torch.eye(3, dtype=DTYPE))
        f = torch.kron(torch.tensor([[1.0, step], [0.0, 1.0]], dtype=DTYPE),
                       torch.eye(3, dtype=DTYPE))
        b = torch.cat([f, -torch.eye(6, dtype=DTYPE)], -1)
        expected = b.T @ q_inv @ b
        worst = max(worst, float((potential.precision[e] - expected).abs().max()
                                 / expected.abs().max()))
    assert measured('factors dynamics precision vs inverse white-noise covariance',
                    worst) < 1e-12
    # A state moving at constant velocity has zero residual: it is in the null space.
    x0 = torch.randn(6, generator=generator, dtype=DTYPE)
    x1 = torch.cat([x0[:3] + dt[0] * x0[3:], x0[3:]])
    joint = torch.cat([x0, x1])
    assert float((joint @ potential.precision[0] @ joint).abs()) < 1e-8


def _finite_difference(fn, x, eps=1e-6):
    columns = []
    for i in range(x.shape[-1]):
        step = torch.zeros_like(x)
        step[..., i] = eps
        columns.append((fn(x + step) - fn(x - step)) / (2 * eps))
    return torch.stack(columns, -1)


def test_hinge_jacobian_matches_finite_differences(generator, measured):
    offset = torch.randn(50, 3, generator=generator, dtype=DTYPE)
    safe = torch.full((50,), 1.5, dtype=DTYPE)
    _, jacobian = distance.hinge_residual(offset, safe)
    numeric = _finite_difference(lambda x: distance.hinge_residual(x, safe)[0], offset)
    error = measured('factors hinge Jacobian vs finite differences',
                     float((jacobian - numeric).abs().max()))
    assert error < 1e-8
    assert bool((distance.hinge_residual(offset * 10, safe)[0] == 0).all())


def test_speed_jacobian_matches_finite_differences(generator, measured):
    velocity = 2 * torch.randn(50, 3, generator=generator, dtype=DTYPE)
    limit = torch.full((50,), 2.0, dtype=DTYPE)
    _, jacobian = speed.speed_residual(velocity, limit)
    numeric = _finite_difference(lambda v: speed.speed_residual(v, limit)[0], velocity)
    error = measured('factors speed Jacobian vs finite differences',
                     float((jacobian - numeric).abs().max()))
    assert error < 1e-8


def test_linearised_potential_is_the_gauss_newton_quadratic(generator):
    """``-log phi(d) = (h0 + J (d - d0))^2 / 2 sigma^2`` up to a constant."""
    offset = 0.5 * torch.randn(30, 3, generator=generator, dtype=DTYPE)
    safe = torch.full((30,), 2.2, dtype=DTYPE)
    sigma = torch.full((30,), 0.01, dtype=DTYPE)
    context = DistanceContext(offset, torch.zeros_like(offset), torch.zeros_like(offset),
                              torch.zeros_like(offset), safe, sigma, torch.zeros(30, 1,
                                                                                 dtype=DTYPE))
    potential = hypotheses.Linearised()(context)
    h0, jacobian = distance.hinge_residual(offset, safe)
    for d in (offset, offset + 0.1 * torch.randn(30, 3, generator=generator, dtype=DTYPE)):
        expected = -0.5 * ((h0 + ((d - offset) * jacobian).sum(-1)) / sigma) ** 2
        quadratic = (-0.5 * (d[:, None, :] @ potential.precision[:, 0] @ d[..., None])[..., 0, 0]
                     + (potential.eta[:, 0] * d).sum(-1))
        # Peak one: the log potential equals the quadratic minus its maximum.
        peak = 0.5 * (potential.eta[:, 0, None, :] @ torch.linalg.pinv(
            potential.precision[:, 0], hermitian=True) @ potential.eta[:, 0, :, None])[:, 0, 0]
        assert torch.allclose(quadratic - peak, expected, rtol=1e-9, atol=1e-6)


def _context(generator, count, dtype=DTYPE, k=2):
    offset = 1.5 * torch.randn(count, 3, generator=generator, dtype=DTYPE)
    track = 2 * torch.randn(count, 3, generator=generator, dtype=DTYPE)
    side = hypotheses.side_axis(offset + 0.3 * torch.randn(count, 3, generator=generator,
                                                           dtype=DTYPE), track)
    return DistanceContext(
        offset, torch.randn(count, 3, generator=generator, dtype=DTYPE), track, side,
        torch.full((count,), 2.2, dtype=DTYPE), torch.full((count,), 0.05, dtype=DTYPE),
        torch.randn(count, k, generator=generator, dtype=DTYPE)), dtype


@pytest.mark.parametrize('model', [hypotheses.Linearised(), hypotheses.SideHypotheses(0.5)],
                         ids=['linearised', 'side'])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64], ids=['float32', 'float64'])
def test_message_models_are_rotation_equivariant(model, dtype, generator, measured):
    context, _ = _context(generator, 64, k=model.num_components)
    context = DistanceContext(*(t.to(dtype) for t in context))
    rotation = se3.random_rotation(64, generator=generator, dtype=dtype)

    def rotate(v):
        return (rotation @ v[..., None])[..., 0]

    moved = DistanceContext(rotate(context.offset), rotate(context.velocity),
                            rotate(context.track), rotate(context.side), context.safe_distance,
                            context.sigma, context.prior_log_weights)
    out, out_moved = model(context), model(moved)
    expected_eta = (rotation[:, None] @ out.eta[..., None])[..., 0]
    expected_precision = rotation[:, None] @ out.precision @ rotation[:, None].transpose(-1, -2)
    scale = max(1.0, float(out.precision.abs().max()))
    error = max(float((out_moved.eta - expected_eta).abs().max()) / max(
                    1.0, float(out.eta.abs().max())),
                float((out_moved.precision - expected_precision).abs().max()) / scale,
                float((out_moved.log_weights - out.log_weights).abs().max()))
    error = measured(f'factors {type(model).__name__} SO(3) equivariance ({dtype})', error)
    assert error < (1e-5 if dtype == torch.float32 else 1e-12)


def test_side_hypotheses_reduce_to_vanilla_on_the_current_side(generator):
    context, _ = _context(generator, 40)
    lateral = (context.offset * context.side).sum(-1)
    clear = lateral.abs() >= 0.5 * 2.2
    side = hypotheses.SideHypotheses(0.5)(context)
    vanilla = hypotheses.Linearised()(context)
    current = torch.where(lateral >= 0, 0, 1)
    pick = torch.arange(40)
    same = torch.isclose(side.precision[pick, current], vanilla.precision[:, 0],
                         atol=1e-9).flatten(1).all(-1)
    assert bool(same[clear].all())
    # Without a side axis (head-on) both hypotheses are vanilla GBP.
    flat = context._replace(side=torch.zeros_like(context.side))
    both = hypotheses.SideHypotheses(0.5)(flat)
    assert torch.allclose(both.precision[:, 0], vanilla.precision[:, 0])
    assert torch.allclose(both.precision[:, 1], vanilla.precision[:, 0])


def test_side_hypotheses_push_to_opposite_sides(generator):
    offset = torch.tensor([[0.0, 0.2, 0.0]], dtype=DTYPE)      # nearly head-on, slightly left
    track = torch.tensor([[4.0, 0.0, 0.0]], dtype=DTYPE)
    side = hypotheses.side_axis(offset, track)
    assert torch.allclose(side, torch.tensor([[0.0, 1.0, 0.0]], dtype=DTYPE))
    context = DistanceContext(offset, torch.zeros_like(offset), track, side,
                              torch.tensor([2.2], dtype=DTYPE), torch.tensor([0.01], dtype=DTYPE),
                              torch.zeros(1, 2, dtype=DTYPE))
    potential = hypotheses.SideHypotheses(0.5)(context)
    targets = mixture.component_moments(mixture.Mixture(
        potential.log_weights, potential.eta,
        potential.precision + 1e-9 * torch.eye(3, dtype=DTYPE)))[0]
    assert float(targets[0, 0, 1]) > 1.0 and float(targets[0, 1, 1]) < -1.0


def test_inactive_factors_are_flat(generator):
    context, _ = _context(generator, 10)
    far = context._replace(offset=context.offset * 100)
    for model in (hypotheses.Linearised(), hypotheses.SideHypotheses()):
        potential = model(far._replace(prior_log_weights=torch.zeros(10, model.num_components,
                                                                     dtype=DTYPE)))
        assert float(potential.precision.abs().max()) == 0.0


def test_speed_limit_pulls_only_when_exceeded():
    state = torch.tensor([[0, 0, 0, 1.0, 0, 0], [0, 0, 0, 3.0, 4.0, 0]], dtype=DTYPE)
    limit = torch.tensor([2.0, 2.0], dtype=DTYPE)
    g = speed.speed_limit(state, limit, 0.1)
    assert float(g.precision[0].abs().max()) == 0.0
    # The potential's peak is at speed 2 along the current direction.
    lam = g.precision[1, 3:, 3:]
    target = torch.linalg.pinv(lam, hermitian=True) @ g.eta[1, 3:]
    assert torch.allclose(target, torch.tensor([1.2, 1.6, 0.0], dtype=DTYPE))


def test_priors_and_refusals():
    p = priors.position_prior(torch.tensor([[1.0, 2.0, 3.0]], dtype=DTYPE),
                              torch.tensor([0.5], dtype=DTYPE))
    assert float(p.precision[0, 3:].abs().max()) == 0.0
    assert torch.allclose(p.eta[0, :3], torch.tensor([4.0, 8.0, 12.0], dtype=DTYPE))
    with pytest.raises(ValueError):
        dynamics.constant_velocity(torch.tensor([0.1, 0.0], dtype=DTYPE), 0.1)
    with pytest.raises(ValueError):
        dynamics.constant_velocity(torch.tensor([0.1], dtype=DTYPE), -1.0)
    with pytest.raises(ValueError):
        hypotheses.SideHypotheses(1.5)
