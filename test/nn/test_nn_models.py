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
Properties of the learned message models (:mod:`enbp_core.nn`).

The e3nn network commutes with O(3) to round-off, its precisions rotate as
``R Lambda R^T``, stay SPD within the conditioning bounds and are
differentiable (gradcheck, at exactly repeated eigenvalues too); the MLP
baseline, trained with rotation augmentation, is measurably not
equivariant. Errors are recorded with ``measured``.
"""

import math

from enbp_core import se3
from enbp_core.factors import hypotheses
from enbp_core.factors.distance import activation
from enbp_core.factors.hypotheses import DistanceContext
from enbp_core.nn import load_message_model, synthesise_precision
from enbp_core.nn.network import (EquivariantHypothesisNet, HypothesisHead, IRREPS_IN,
                                  IRREPS_OUT, NeuralHypotheses, PRECISION_BOUNDS)
import pytest
import torch

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-9}


def _context(generator, count, dtype):
    def normal(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)
    offset = 2.5 * normal(count, 3)
    track = 2 * normal(count, 3)
    side = hypotheses.side_axis(offset + 0.3 * normal(count, 3), track)
    context = DistanceContext(offset, normal(count, 3), track, side,
                              torch.full((count,), 2.5, dtype=torch.float64),
                              torch.full((count,), 0.01, dtype=torch.float64),
                              normal(count, 2))
    return DistanceContext(*(t.to(dtype) for t in context))


def _random_network(seed=0):
    torch.manual_seed(seed)
    network = EquivariantHypothesisNet()
    with torch.no_grad():  # the readout starts at zero: give it weights to test
        for parameter in network.readout.parameters():
            parameter.normal_()
    return network


def _moved(context, rotation):
    def vec(v):
        return (rotation @ v[..., None])[..., 0]
    return context._replace(offset=vec(context.offset), velocity=vec(context.velocity),
                            track=vec(context.track), side=vec(context.side))


def _message_error(model, context, rotation):
    """Relative error of weights, means and precisions of ``model`` under ``rotation``."""
    out, moved = model(context), model(_moved(context, rotation))
    r = rotation[:, None]
    expected_eta = (r @ out.eta[..., None])[..., 0]
    expected_precision = r @ out.precision @ r.transpose(-1, -2)
    return max(float((moved.log_weights - out.log_weights).abs().max())
               / max(1.0, float(out.log_weights.abs().max())),
               float((moved.eta - expected_eta).abs().max()) / float(out.eta.abs().max()),
               float((moved.precision - expected_precision).abs().max())
               / float(out.precision.abs().max()))


@pytest.mark.parametrize('parity', [1.0, -1.0], ids=['rotation', 'improper'])
def test_network_is_o3_equivariant(dtype, parity, generator, measured):
    network = _random_network().to(dtype)
    features = torch.randn(256, IRREPS_IN.dim, generator=generator, dtype=torch.float64)
    rotation = parity * se3.random_rotation(generator=generator, dtype=torch.float64)
    d_in = IRREPS_IN.D_from_matrix(rotation)
    d_out = IRREPS_OUT.D_from_matrix(rotation)
    with torch.no_grad():
        out = network(features.to(dtype)).double()
        moved = network((features @ d_in.T).to(dtype)).double()
    error = float((moved - out @ d_out.T).abs().max() / out.abs().max())
    name = 'rotation' if parity > 0 else 'rotation+inversion'
    error = measured(f'nn e3nn network O(3) equivariance, relative ({name}, {dtype})', error)
    assert error < TOLERANCE[dtype]


def test_cartesian_layout_is_e3nn_layout():
    # The features put x, y, z vectors straight into 1o slots: e3nn's 1o basis
    # must be Cartesian (D(R) = R), or every vector would be silently scrambled.
    rotation = se3.random_rotation(generator=torch.Generator().manual_seed(1),
                                   dtype=torch.float64)
    d_in = IRREPS_IN.D_from_matrix(rotation)
    assert torch.allclose(d_in[:3, :3], rotation, atol=1e-12)


@pytest.mark.parametrize('kind', ['random', 'shipped'])
def test_message_model_weights_means_precisions_transform(kind, dtype, generator, measured):
    model = (NeuralHypotheses(_random_network()) if kind == 'random'
             else load_message_model('equivariant'))
    context = _context(generator, 256, dtype)
    rotation = se3.random_rotation(256, generator=generator, dtype=dtype)
    error = measured(f'nn message model (e3nn, {kind}) SE(3) equivariance, relative ({dtype})',
                     _message_error(model, context, rotation))
    assert error < TOLERANCE[dtype]


def test_mlp_is_measurably_not_equivariant(generator, measured):
    mlp = load_message_model('mlp')
    context = _context(generator, 256, torch.float64)
    rotation = se3.random_rotation(256, generator=generator, dtype=torch.float64)
    error = measured('nn message model (MLP, shipped) SE(3) equivariance, relative (float64)',
                     _message_error(mlp, context, rotation))
    assert error > 1e-4


def test_precisions_are_spd_within_bounds(dtype, generator):
    count = 512
    outputs = 30 * torch.randn(2, count, IRREPS_OUT.dim, generator=generator, dtype=dtype)
    context = _context(generator, count, dtype)
    potential = HypothesisHead.potentials(outputs, context, ramp=0.25)
    # In units of s and at full strength: the learned correction lies in
    # [low, high], the hinge adds at most 1 / sigma^2 along one direction. The
    # component is faded in with the hinge's activation w (flat outside).
    distance = context.offset.double().norm(dim=-1)
    weight = activation(context.safe_distance.double() - distance, 0.25)
    inside = weight > 0
    assert bool(inside.any()) and bool((~inside).any())
    unit = potential.precision.double() * (context.safe_distance.double() ** 2)[
        :, None, None, None]
    assert torch.equal(unit, unit.transpose(-1, -2))
    assert bool((unit[~inside] == 0).all()) and bool((potential.eta[~inside] == 0).all())
    unit = unit[inside] / weight[inside][:, None, None, None]
    eigenvalues = torch.linalg.eigvalsh(unit)
    low, high = PRECISION_BOUNDS
    hinge = float((1 / context.sigma.double() ** 2).max())
    # Eigenvalues are resolved to round-off of the largest one (1e8 here): the
    # bound is exact in float64; float32 can only promise PSD to its own eps.
    slack = (1e-6 if dtype == torch.float32 else 1e-14) * eigenvalues[..., -1:]
    assert bool((eigenvalues >= low - slack).all())
    assert bool((eigenvalues <= (high + hinge) + slack).all())
    assert bool((eigenvalues[..., 0] < 2 * low).any()) and bool(
        (eigenvalues[..., -1] > 0.5 * high).any()), 'the draw should reach both bounds'


def test_learned_message_fades_to_flat_at_the_safety_distance(generator, measured):
    # Continuity of the planning cycle: a factor that crosses its safety distance
    # must switch its learned message off continuously, not drop a learned term.
    model = load_message_model('equivariant')
    context = _context(generator, 256, torch.float64)
    unit = context.offset / context.offset.norm(dim=-1, keepdim=True)
    sizes = {}
    for depth in (1e-3, 1e-5, 1e-7, -1e-7):
        near = context._replace(offset=unit * (context.safe_distance[:, None] - depth))
        potential = model(near)
        # (Log weights are in the mixture convention, where a flattening component's
        # normaliser grows; its evidence against any cavity tends to the prior.)
        sizes[depth] = max(float(potential.precision.abs().max()),
                           float(potential.eta.abs().max()))
    measured('nn learned message size 1e-7 m inside the safety distance', sizes[1e-7])
    assert sizes[-1e-7] == 0
    assert sizes[1e-7] < sizes[1e-5] < sizes[1e-3]
    assert sizes[1e-7] < 1e-3 * sizes[1e-3]


def test_synthesised_precision_rotates(generator, measured):
    scalar = torch.randn(64, generator=generator, dtype=torch.float64)
    vectors = torch.randn(64, 2, 3, generator=generator, dtype=torch.float64)
    rotation = se3.random_rotation(64, generator=generator, dtype=torch.float64)
    precision = synthesise_precision(scalar, vectors, 1e-3, 1e3)
    moved = synthesise_precision(scalar, vectors @ rotation.transpose(-1, -2), 1e-3, 1e3)
    expected = rotation @ precision @ rotation.transpose(-1, -2)
    error = measured('nn R Lambda R^T of synthesised precisions (float64)',
                     (moved - expected).abs().max() / precision.abs().max())
    assert error < 1e-12


def test_gradcheck_through_synthesis_and_conditioning(generator):
    scalar = torch.randn(4, generator=generator, dtype=torch.float64)
    vectors = torch.randn(4, 2, 3, generator=generator, dtype=torch.float64)
    vectors[0] = 0.0                     # isotropic: a triple eigenvalue
    vectors[1, 1] = vectors[1, 0]        # rank one: a double eigenvalue
    vectors[2] = 10 * vectors[2]         # the top eigenvalues are clamped
    log_scale = torch.randn(4, generator=generator, dtype=torch.float64)
    inputs = (scalar.requires_grad_(), vectors.requires_grad_(), log_scale.requires_grad_())
    assert torch.autograd.gradcheck(
        lambda s, v, g: synthesise_precision(s, v, 1e-2, 20.0, log_scale=g), inputs)


def test_gradcheck_through_the_head(generator):
    context = _context(generator, 3, torch.float64)
    outputs = 0.5 * torch.randn(2, 3, IRREPS_OUT.dim, generator=generator,
                                dtype=torch.float64)
    outputs[:, 0, 3:] = 0.0              # an isotropic component: repeated eigenvalues
    outputs.requires_grad_()
    assert torch.autograd.gradcheck(lambda o: tuple(HypothesisHead.potentials(o, context)),
                                    (outputs,))


def test_head_closed_forms_match_the_dense_potential(generator, measured):
    # The head's peak (Sherman-Morrison), log-determinant (Cholesky and the
    # determinant lemma) and fade-in are closed forms: evaluate the returned
    # mixture at random points with a dense float64 log-determinant and compare
    # with the potential written out term by term.
    count = 64
    context = _context(generator, count, torch.float64)
    context = context._replace(offset=0.5 * context.offset)   # most of them inside
    outputs = torch.randn(2, count, IRREPS_OUT.dim, generator=generator, dtype=torch.float64)
    potential = HypothesisHead.potentials(outputs, context, ramp=0.25)
    scale = context.safe_distance[:, None, None]
    distance = context.offset.norm(dim=-1)
    weight = (context.safe_distance - distance).div(0.25).clamp(0, 1)
    inside = weight > 0
    assert int(inside.sum()) > 10
    raw = outputs.transpose(0, 1)                                           # (F, 2, 12)
    vectors = raw[..., 3:].reshape(count, 2, 3, 3)
    correction = synthesise_precision(raw[..., 2], vectors[..., 1:, :], *PRECISION_BOUNDS,
                                      log_scale=raw[..., 1])
    mean = context.offset[:, None] / scale + vectors[..., 0, :]
    normal = context.offset / distance[:, None]
    points = context.offset[:, None] + 0.3 * scale * torch.randn(
        count, 2, 3, generator=generator, dtype=torch.float64)             # (F, 2, 3)
    unit = points / scale
    centred = unit - mean
    written = (raw[..., 0] - 0.5 * (1 - (unit * normal[:, None]).sum(-1)) ** 2
               / context.sigma[:, None] ** 2
               - 0.5 * (centred[..., None, :] @ correction @ centred[..., None])[..., 0, 0])
    written = weight[:, None] * written + context.prior_log_weights
    # Mixture convention: log w_k + log N(x; P^-1 eta, P^-1), full rank inside.
    precision, eta = potential.precision[inside], potential.eta[inside]
    mode = torch.linalg.solve(precision, eta[..., None])[..., 0]
    offset = points[inside] - mode
    dense = (potential.log_weights[inside] - 1.5 * math.log(2 * math.pi)
             + 0.5 * torch.linalg.slogdet(precision)[1]
             - 0.5 * (offset[..., None, :] @ precision @ offset[..., None])[..., 0, 0])
    error = measured('nn head closed forms vs dense float64 potential (nats)',
                     (dense - written[inside]).abs().max())
    assert error < 1e-6
    assert bool((potential.precision[~inside] == 0).all())
