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
Properties of :mod:`enbp_core.spectral`.

References are SciPy's dense float64 matrix functions; gradients are checked
by ``torch.autograd.gradcheck`` at exactly repeated eigenvalues, the case
where back-propagating through ``torch.linalg.eigh`` breaks down.
"""

from enbp_core import se3, spectral
import numpy as np
import pytest
from random_inputs import random_psd, random_spd, relative_error
import scipy.linalg
import torch

FUNCTIONS = {
    'inverse': (spectral.spd_inverse, np.linalg.inv),
    'sqrt': (spectral.spd_sqrt, lambda a: scipy.linalg.sqrtm(a).real),
    'inverse_sqrt': (spectral.spd_inverse_sqrt,
                     lambda a: np.linalg.inv(scipy.linalg.sqrtm(a).real)),
    'log': (spectral.spd_log, lambda a: scipy.linalg.logm(a).real),
    'logdet': (spectral.spd_logdet, lambda a: np.linalg.slogdet(a)[1]),
    'condition[0.5,4]': (lambda a: spectral.condition_spd(a, 0.5, 4.0),
                         lambda a: _clamp_reference(a, 0.5, 4.0)),
    'pseudo_inverse': (spectral.pseudo_inverse, np.linalg.pinv),
    'log_pdet': (lambda a: spectral.log_pseudo_determinant(a)[0],
                 lambda a: np.linalg.slogdet(a)[1]),
}


def _clamp_reference(a, low, high):
    lam, q = np.linalg.eigh(a)
    return (q * np.clip(lam, low, high)) @ q.T


def _structured_matrices(generator, n=3):
    """``s I``, ``s I + v v^T`` (a double eigenvalue) and a generic SPD matrix."""
    v = torch.randn(n, 1, generator=generator, dtype=torch.float64)
    eye = torch.eye(n, dtype=torch.float64)
    return {
        'sI': 1.7 * eye,
        'sI+vvT': 0.8 * eye + v @ v.T,
        'random': random_spd(n=n, generator=generator),
    }


@pytest.mark.parametrize('name', sorted(FUNCTIONS))
def test_matches_scipy_float64_reference(name, dtype, device, generator, measured):
    ours, reference = FUNCTIONS[name]
    a = random_spd(16, n=6, generator=generator, floor=0.2)
    expected = torch.from_numpy(np.stack([np.asarray(reference(m)) for m in a.numpy()]))
    actual = ours(a.to(dtype=dtype, device=device))
    assert actual.dtype == dtype and actual.device.type == device.type
    error = measured(f'spectral {name} vs scipy ({dtype})', relative_error(actual, expected))
    # Conditioning is about 50 here; float32 loses a few digits to it.
    assert error < (5e-5 if dtype == torch.float32 else 1e-11)


@pytest.mark.parametrize('name', sorted(FUNCTIONS))
@pytest.mark.parametrize('case', ['sI', 'sI+vvT', 'random'])
def test_gradcheck_at_repeated_eigenvalues(name, case, generator):
    ours, _ = FUNCTIONS[name]
    a = _structured_matrices(generator)[case].requires_grad_()
    # gradcheck perturbs single entries; symmetrising keeps the input symmetric.
    assert torch.autograd.gradcheck(lambda m: ours(spectral.symmetrize(m)), (a,))


def test_gradcheck_batched_mixed_multiplicities(generator):
    batch = torch.stack(list(_structured_matrices(generator, n=4).values())).requires_grad_()
    for ours, _ in FUNCTIONS.values():
        assert torch.autograd.gradcheck(lambda m: ours(spectral.symmetrize(m)), (batch,))


def test_backward_is_continuous_through_a_degeneracy(generator, measured):
    """Gradients at ``lam`` and ``lam + delta`` agree to ``O(delta)``: no blow-up."""
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=generator, dtype=torch.float64))
    upstream = random_spd(n=4, generator=generator)
    for ours, _ in FUNCTIONS.values():
        grads = []
        for delta in (0.0, 1e-9, 1e-6):
            lam = torch.tensor([1.0, 1.0 + delta, 2.0, 3.0], dtype=torch.float64)
            a = ((q * lam) @ q.T).requires_grad_()
            out = ours(a)
            (out * (upstream if out.dim() else 1.0)).sum().backward()
            grads.append(a.grad)
        measured('spectral grad jump across 1e-9 degeneracy (float64)',
                 relative_error(grads[1], grads[0]))
        assert relative_error(grads[1], grads[0]) < 1e-7
        assert relative_error(grads[2], grads[0]) < 1e-4


def test_backward_agrees_with_eigh_autograd_when_eigenvalues_are_distinct(generator, measured):
    a = random_spd(8, n=5, generator=generator).requires_grad_()
    upstream = torch.randn(8, 5, 5, generator=generator, dtype=torch.float64)
    (spectral.spd_sqrt(a) * upstream).sum().backward()
    ours = a.grad.clone()
    a.grad = None
    lam, q = torch.linalg.eigh(a)
    (((q * lam.sqrt().unsqueeze(-2)) @ q.transpose(-1, -2)) * upstream).sum().backward()
    reference = spectral.symmetrize(a.grad)
    error = measured('spectral sqrt grad vs eigh autograd (float64)',
                     relative_error(ours, reference))
    assert error < 1e-10


@pytest.mark.parametrize('name', sorted(FUNCTIONS))
def test_spectral_functions_commute_with_rotations(name, generator, measured):
    """``f(R A R^T) = R f(A) R^T`` (``log det`` is invariant) in float32."""
    ours, _ = FUNCTIONS[name]
    a = random_spd(32, n=3, generator=generator, floor=0.3).float()
    rotation = se3.random_rotation(32, generator=generator)
    rotated = ours(rotation @ a @ rotation.transpose(-1, -2))
    expected = ours(a)
    if expected.dim() == 3:
        expected = rotation @ expected @ rotation.transpose(-1, -2)
    error = measured(f'spectral {name} SO(3) equivariance (float32)',
                     relative_error(rotated, expected))
    assert error < 5e-5


def test_condition_spd_bounds_and_is_idempotent(generator):
    a = random_psd(20, n=5, rank=2, generator=generator) - 0.5 * torch.eye(5, dtype=torch.float64)
    conditioned = spectral.condition_spd(a, 1e-3, 10.0)
    lam = torch.linalg.eigvalsh(conditioned)
    # Reassembling Q diag(lam) Q^T costs round-off relative to the largest eigenvalue.
    assert float(lam.min()) >= 1e-3 - 1e-13 and float(lam.max()) <= 10.0 + 1e-13
    assert torch.allclose(spectral.condition_spd(conditioned, 1e-3, 10.0), conditioned,
                          atol=1e-12)


def test_pseudo_inverse_and_pdet_of_rank_deficient_matrices(generator, measured):
    a = random_psd(10, n=6, rank=3, generator=generator)
    pinv = spectral.pseudo_inverse(a)
    error = measured('spectral pseudo_inverse vs numpy pinv, rank 3 of 6 (float64)',
                     relative_error(pinv, torch.linalg.pinv(a, hermitian=True)))
    assert error < 1e-10
    assert torch.allclose(a @ pinv @ a, a, atol=1e-10)
    assert torch.allclose(pinv @ a @ pinv, pinv, atol=1e-10)
    log_pdet, rank = spectral.log_pseudo_determinant(a)
    lam = torch.linalg.eigvalsh(a)[..., 3:]
    assert torch.equal(rank, torch.full((10,), 3))
    assert torch.allclose(log_pdet, lam.log().sum(-1), atol=1e-10)


def test_round_off_level_eigenvalues_count_as_zero():
    a = torch.diag(torch.tensor([4.0, 1.0, 1e-13], dtype=torch.float64))
    _, rank = spectral.log_pseudo_determinant(a)
    assert int(rank) == 2
    assert float(spectral.pseudo_inverse(a)[2, 2]) == 0.0


@pytest.mark.parametrize('low, high', [(0.0, 1.0), (-1.0, None), (2.0, 1.0)])
def test_condition_spd_refuses_absurd_bounds(low, high):
    with pytest.raises(ValueError):
        spectral.condition_spd(torch.eye(3), low, high)
