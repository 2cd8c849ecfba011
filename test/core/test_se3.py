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

"""Properties of :mod:`enbp_core.se3` against transforms3d and group identities."""

from enbp_core import se3
from enbp_core.se3 import RigidMotion
import numpy as np
import pytest
from random_inputs import random_psd, relative_error
import torch
import transforms3d


def test_quaternion_to_matrix_matches_transforms3d(generator, measured):
    q = torch.randn(200, 4, generator=generator, dtype=torch.float64)
    q = q / q.norm(dim=-1, keepdim=True)
    ours = se3.quaternion_to_matrix(q)
    # transforms3d orders quaternions (w, x, y, z); ROS orders them (x, y, z, w).
    reference = np.stack([transforms3d.quaternions.quat2mat(np.roll(qi, 1)) for qi in q.numpy()])
    error = measured('se3 quaternion_to_matrix vs transforms3d (float64)',
                     relative_error(ours, torch.from_numpy(reference)))
    assert error < 1e-14


def test_matrix_to_quaternion_round_trip_including_half_turns(generator, measured):
    rotations = se3.random_rotation(500, generator=generator, dtype=torch.float64)
    # Half turns about random axes and the identity are the hard cases.
    axes = torch.randn(50, 3, generator=generator, dtype=torch.float64)
    axes = axes / axes.norm(dim=-1, keepdim=True)
    half_turns = 2 * axes[:, :, None] * axes[:, None, :] - torch.eye(3, dtype=torch.float64)
    rotations = torch.cat([rotations, half_turns, torch.eye(3, dtype=torch.float64)[None]])
    q = se3.matrix_to_quaternion(rotations)
    assert bool((q[:, 3] >= 0).all())
    error = measured('se3 matrix->quaternion->matrix round trip (float64)',
                     relative_error(se3.quaternion_to_matrix(q), rotations))
    assert error < 1e-13
    reference = np.stack([np.roll(transforms3d.quaternions.mat2quat(r), -1)
                          for r in rotations.numpy()])
    sign = np.sign((reference * q.numpy()).sum(-1, keepdims=True))
    assert np.allclose(q.numpy(), sign * reference, atol=1e-12)


def test_random_rotations_are_proper_and_haar_uniform(generator):
    rotations = se3.random_rotation(20000, generator=generator, dtype=torch.float64)
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(rotations @ rotations.transpose(-1, -2), eye.expand_as(rotations),
                          atol=1e-12)
    assert torch.allclose(torch.linalg.det(rotations), torch.ones(20000, dtype=torch.float64))
    # Under the Haar measure E[R] = 0 and E[trace R] = 0; each entry has variance 1/3.
    assert float(rotations.mean(0).abs().max()) < 5 * (1 / 3 / 20000) ** 0.5


def test_seeded_draws_are_reproducible():
    a = se3.random_rigid_motion(4, generator=torch.Generator().manual_seed(7))
    b = se3.random_rigid_motion(4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.rotation, b.rotation) and torch.equal(a.translation, b.translation)


@pytest.mark.parametrize('shape', [(), (5,), (2, 3)])
def test_group_laws(shape, generator, measured):
    g = se3.random_rigid_motion(*shape, generator=generator, dtype=torch.float64)
    h = se3.random_rigid_motion(*shape, generator=generator, dtype=torch.float64)
    x = torch.randn(*shape, 3, generator=generator, dtype=torch.float64)
    identity = g.compose(g.inverse())
    assert torch.allclose(identity.rotation, torch.eye(3, dtype=torch.float64).expand(
        shape + (3, 3)), atol=1e-12)
    assert torch.allclose(identity.translation, torch.zeros(shape + (3,), dtype=torch.float64),
                          atol=1e-12)
    error = measured('se3 (g∘h)·x vs g·(h·x) (float64)',
                     relative_error(g.compose(h).points(x), g.points(h.points(x))))
    assert error < 1e-13


def test_states_move_points_and_rotate_vectors(generator):
    g = se3.random_rigid_motion(7, generator=generator, dtype=torch.float64)
    p = torch.randn(7, 3, generator=generator, dtype=torch.float64)
    v = torch.randn(7, 3, generator=generator, dtype=torch.float64)
    moved = g.states(torch.cat([p, v], -1), 'pv')
    assert torch.allclose(moved[:, :3], g.points(p))
    assert torch.allclose(moved[:, 3:], g.vectors(v))
    assert torch.allclose(g.states(torch.cat([v, p], -1), 'vp')[:, 3:], g.points(p))


def test_information_form_moves_the_potential_even_when_singular(generator, measured):
    """``phi'(g x) = phi(x) * const``: log-potential differences are preserved."""
    g = se3.random_rigid_motion(10, generator=generator, dtype=torch.float64)
    precision = random_psd(10, n=6, rank=3, generator=generator)
    eta = (precision @ torch.randn(10, 6, 1, generator=generator, dtype=torch.float64))[..., 0]
    moved_eta, moved_precision = g.information(eta, precision, 'pv')

    def log_potential(e, lam, x):
        return -0.5 * (x[..., None, :] @ lam @ x[..., None])[..., 0, 0] + (e * x).sum(-1)

    x = torch.randn(2, 10, 6, generator=generator, dtype=torch.float64)
    before = log_potential(eta, precision, x[0]) - log_potential(eta, precision, x[1])
    after = (log_potential(moved_eta, moved_precision, g.states(x[0]))
             - log_potential(moved_eta, moved_precision, g.states(x[1])))
    error = measured('se3 information-form action on singular Gaussians (float64)',
                     relative_error(after, before))
    assert error < 1e-12
    assert torch.allclose(moved_precision, g.covariances(precision))


def test_bad_layout_is_refused():
    g = se3.random_rigid_motion()
    with pytest.raises(ValueError, match='layout'):
        g.states(torch.zeros(6), 'px')
    with pytest.raises(ValueError, match='layout'):
        se3.state_action(g, '')


def test_motion_is_a_named_pair():
    g = RigidMotion(torch.eye(3), torch.zeros(3))
    rotation, translation = g
    assert rotation.shape == (3, 3) and translation.shape == (3,)
