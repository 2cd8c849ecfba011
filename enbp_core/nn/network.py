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
Learned message models: an e3nn hypothesis network and its MLP baseline.

Both implement the message-model interface of
:mod:`enbp_core.factors.hypotheses` (``DistanceContext -> Mixture`` over the
3-D offset ``d``, ``num_components = 2``) with one shared *hypothesis
network* evaluated twice per factor, on the signed side axes ``+side`` and
``-side``: component 0 is "pass with the offset on the +side", component 1
the mirror hypothesis, as in :class:`~enbp_core.factors.hypotheses.SideHypotheses`,
so the planner's hysteresis keeps its meaning.

Why a potential over the 3-D offset and not over the 6-D states: the
collision and obstacle factors are functions of ``d = A x`` only (``A`` picks
``p_i - p_j`` or ``p``), so the exact factor has no velocity block, and the
engine (:func:`enbp_core.bp.messages.projected_tilted_messages`) lifts offset
potentials to the states exactly. A velocity block learned from data would be
a belief the factor does not hold.

Per hypothesis ``k`` (sign ``c_k``) the network sees, in units of the safety
distance ``s`` so that one set of weights serves every body size,

=============  ==========  ===========================================
irreps         symbol      meaning
=============  ==========  ===========================================
``1o``         ``d0 / s``  linearisation offset
``1o``         ``v / s``   relative velocity (per second)
``1o``         ``t / s``   relative goal-directed velocity (track)
``1o``         ``c_k e``   signed unit side axis
``0e``         ``1``       constant (biases)
``0e``         ``|d0|/s``  normalised distance
``0e``         ``log σ``   residual scale (``log10 sigma + 2``)
=============  ==========  ===========================================

and emits ``3x0e + 3x1o``: a logit ``a_k``, a log scale ``g_k``, an
isotropic scalar ``q_k``, a mean shift ``u_k`` and two precision vectors
``w_k1, w_k2``. The component is vanilla GBP's linearised hinge times a
learned Gaussian correction, faded in with the hinge's activation ``w``,

    ``phi_k(d) = exp(prior_k) [exp(a_k) h_lin(d) exp(-(d - mu_k)^T Lambda_k (d - mu_k) / 2)]^w``,
    ``mu_k = d0 + s u_k``,
    ``Lambda_k = clamp(exp(g_k) (softplus(q_k) I + sum_r w_kr w_kr^T)) / s^2``

(:func:`~enbp_core.nn.precision.synthesise_precision`; ``h_lin`` is the
hinge linearised at ``d0`` at full strength, and ``w`` the activation of
:func:`~enbp_core.factors.distance.activation` with the planner's ramp, so
``h_lin^w`` is :class:`~enbp_core.factors.hypotheses.Linearised`). Learning
the correction and not the whole message means an untrained network (zero
readout) is vanilla GBP up to a nearly flat term, and training spends its
capacity where the linearisation is wrong. Outside its safety distance
(``w = 0``) a factor sends the flat message, as every other model's does, so
the network runs only on the factors inside (a fraction of them: the cost of
the learned model scales with contacts, not with candidate pairs).

The mean is a translation of the reference point ``d0`` by an equivariant
vector, and ``d0`` itself is an offset, so translating the world changes
nothing and rotating it rotates ``mu_k`` and ``Lambda_k``: exact SE(3)
equivariance for the e3nn network, where no scalar nonlinearity ever touches
a vector feature. The MLP sees the same numbers flattened into one vector,
so it is equivariant only as far as rotation augmentation taught it to be.
"""

import copy
from typing import Dict, Tuple

from e3nn import nn as e3nn_nn
from e3nn import o3
from enbp_core import mixture
from enbp_core.factors.hypotheses import DistanceContext, hinge_weight
from enbp_core.mixture import Mixture
from enbp_core.nn.precision import synthesise_precision
import torch

__all__ = ['ARCHITECTURES', 'EquivariantHypothesisNet', 'HypothesisHead', 'IRREPS_IN',
           'IRREPS_OUT', 'MLPHypothesisNet', 'NeuralHypotheses', 'hypothesis_features']

IRREPS_IN = o3.Irreps('4x1o + 3x0e')
IRREPS_OUT = o3.Irreps('3x0e + 3x1o')

# Offset of the log scale g: at g = 0 (an untrained readout) the correction's
# precision is log(2) / s^2, a standard deviation of 1.2 s, nearly flat next to
# the cavities the planner sees (centimetres) and the hinge (1e4 / s^2).
LOG_SCALE_OFFSET = 0.0
# Eigenvalue bounds of the dimensionless precision s^2 Lambda.
PRECISION_BOUNDS = (1e-4, 1e8)


def hypothesis_features(context: DistanceContext) -> torch.Tensor:
    """
    Return the network inputs of both hypotheses of every factor.

    Parameters
    ----------
    context : DistanceContext
        ``F`` factors.

    Returns
    -------
    torch.Tensor
        ``(2, F, 15)`` in the layout of :data:`IRREPS_IN` (four Cartesian
        vectors ``x, y, z``, then three scalars); row 0 is the ``+side``
        hypothesis, row 1 the ``-side`` one.

    """
    scale = context.safe_distance[:, None]
    offset = context.offset / scale
    shared = torch.cat([offset, context.velocity / scale, context.track / scale], -1)
    signs = torch.tensor([1.0, -1.0], dtype=offset.dtype, device=offset.device)
    side = signs[:, None, None] * context.side[None]
    scalars = torch.stack([torch.ones_like(context.sigma), offset.norm(dim=-1),
                           torch.log10(context.sigma) + 2], -1)
    shared = shared[None].expand(2, -1, -1)
    return torch.cat([shared, side, scalars[None].expand(2, -1, -1)], -1)


def _zero_(readout: torch.nn.Module) -> None:
    """
    Zero a readout layer: every hypothesis starts as the linearised hinge.

    With all outputs zero the component is the linearised hinge times an
    isotropic Gaussian at ``mu = d0`` of precision ``log 2 / s^2`` (a
    standard deviation of ``1.2 s``, far wider than the cavities the planner
    sees): nearly vanilla GBP's message, from which training moves only where
    the reference says the linearisation is wrong.
    """
    with torch.no_grad():
        for parameter in readout.parameters():
            parameter.zero_()


class EquivariantHypothesisNet(torch.nn.Module):
    """
    Invariants, an MLP on them, and an equivariant readout, in e3nn blocks.

    ``x -> TP(x, x) -> 0e`` (learned combinations of every dot product of the
    four input vectors and every product of the scalars: a complete set of
    O(3) invariants of the inputs) ``-> FullyConnectedNet`` (SiLU, scalars
    only) ``= c``, then ``TP(x, c) -> 3x0e + 3x1o``: each output vector is
    ``sum_ij W_ij c_j x_i`` over the input vectors ``x_i``, each output scalar
    ``sum_ij W_ij c_j x_i`` over the input scalars. Every O(3)-equivariant
    vector function of vectors has the form ``sum_i f_i(invariants) x_i``
    (Villar et al., NeurIPS 2021, "Scalars are universal"), so this
    architecture loses no expressiveness to its symmetry, and the
    nonlinearity acts on invariants alone: exactly O(3)-equivariant, parity
    included (the hinge and the geometry are mirror-symmetric, so the
    message must be too), and cheap (one small MLP per hypothesis).

    Parameters
    ----------
    invariants : int
        Number of learned invariants (and of coefficients ``c``).
    hidden : int
        Width of the scalar MLP.
    depth : int
        Hidden layers of the scalar MLP.

    """

    def __init__(self, invariants: int = 32, hidden: int = 64, depth: int = 2):
        super().__init__()
        self.hyperparameters = {'invariants': invariants, 'hidden': hidden, 'depth': depth}
        scalars = o3.Irreps(f'{invariants}x0e')
        self.square = o3.FullyConnectedTensorProduct(IRREPS_IN, IRREPS_IN, scalars)
        self.scalar_net = e3nn_nn.FullyConnectedNet(
            [invariants] + [hidden] * depth + [invariants], torch.nn.functional.silu)
        self.readout = o3.FullyConnectedTensorProduct(IRREPS_IN, scalars, IRREPS_OUT)
        _zero_(self.readout)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Map ``(..., 15)`` features to ``(..., 12)`` outputs (layout of ``IRREPS_OUT``)."""
        coefficients = self.scalar_net(self.square(features, features))
        return self.readout(features, coefficients)


class MLPHypothesisNet(torch.nn.Module):
    """
    The non-equivariant baseline: the same 15 numbers, a plain SiLU MLP, 12 numbers out.

    Parameters
    ----------
    width : int
        Hidden width.
    depth : int
        Number of hidden layers.

    """

    def __init__(self, width: int = 96, depth: int = 3):
        super().__init__()
        self.hyperparameters = {'width': width, 'depth': depth}
        sizes = [IRREPS_IN.dim] + [width] * depth
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.SiLU()]
        layers.append(torch.nn.Linear(width, IRREPS_OUT.dim))
        _zero_(layers[-1])
        self.body = torch.nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Map ``(..., 15)`` features to ``(..., 12)`` outputs (layout of ``IRREPS_OUT``)."""
        return self.body(features)


ARCHITECTURES = {'equivariant': EquivariantHypothesisNet, 'mlp': MLPHypothesisNet}


class HypothesisHead:
    """
    Turn network outputs into the mixture potential over the offset.

    See the module docstring for the formulas. Stateless; a class only to
    name the step and hold its constants.
    """

    @staticmethod
    def potentials(outputs: torch.Tensor, context: DistanceContext,
                   ramp: float = 0.25) -> Mixture:
        """
        Return the two-component mixture potential ``(F, 2, 3)``.

        Parameters
        ----------
        outputs : torch.Tensor
            ``(2, F, 12)`` network outputs of the ``+side`` and ``-side`` hypotheses.
        context : DistanceContext
            The factors.
        ramp : float
            Activation ramp of the linearised hinge, m (the planner's ``hinge_ramp``).

        """
        dtype = outputs.dtype
        if dtype != torch.float64:
            # Eigenvalue clamping and log-determinants of precisions whose condition
            # number exceeds 1 / eps (1e4 hinges next to 1e-4 floors) are noise in
            # float32: the head is cheap, so it always runs in float64, and only its
            # result is rounded to the network's dtype.
            potential = HypothesisHead.potentials(
                outputs.double(), DistanceContext(*(t.double() for t in context)), ramp)
            return Mixture(*(t.to(dtype) for t in potential))
        outputs = outputs.transpose(0, 1)                       # (F, 2, 12)
        logit, log_scale, isotropic = outputs[..., 0], outputs[..., 1], outputs[..., 2]
        vectors = outputs[..., 3:].reshape(outputs.shape[:-1] + (3, 3))
        shift, factors = vectors[..., 0, :], vectors[..., 1:, :]
        # Work in units of s (d' = d / s): eta' = s eta and Lambda' = s^2 Lambda.
        scale = context.safe_distance[:, None]
        mean = context.offset[:, None, :] / scale[..., None] + shift          # mu'
        correction = synthesise_precision(isotropic, factors, *PRECISION_BOUNDS,
                                          log_scale=log_scale + LOG_SCALE_OFFSET)
        # The full-strength hinge (rank one, beta n n', peak one at n' d' = 1).
        distance = context.offset.norm(dim=-1)
        normal = context.offset / distance.clamp_min(1e-300)[:, None]
        beta = (1 / context.sigma ** 2)[:, None]                               # (F, 1)
        unit_precision = correction + beta[..., None, None] * (
            normal[:, None, :, None] * normal[:, None, None, :])
        unit_eta = (correction @ mean[..., None])[..., 0] + beta[..., None] * normal[:, None]
        # Peak of the product (Sherman-Morrison; no cancellation in float32):
        # max_d' of the log is -beta r^2 / (2 (1 + beta a)), r = 1 - n' mu',
        # a = n' correction^-1 n.
        residual = 1 - (mean * normal[:, None]).sum(-1)
        # The correction's eigenvalues are clamped into PRECISION_BOUNDS, so its
        # Cholesky factor exists and is accurate in float64.
        chol = torch.linalg.cholesky(correction)
        spread = (normal[:, None] * torch.cholesky_solve(
            normal[:, None].expand_as(mean)[..., None], chol)[..., 0]).sum(-1)
        log_peak = -0.5 * beta * residual ** 2 / (1 + beta * spread)
        # log det(correction + beta n n') by the matrix determinant lemma.
        log_det = 2 * torch.diagonal(chol, dim1=-2, dim2=-1).log().sum(-1)
        # The component fades in with the hinge as a power (phi_k)^w: precision,
        # information vector, peak and logit all scale by w, so a factor outside
        # its safety distance sends the flat message, continuously.
        weight = hinge_weight(context, ramp)
        active = (weight > 0)[:, None]
        w = torch.where(active, weight[:, None], torch.ones_like(weight[:, None]))   # (F, 1)
        log_pdet = 3 * w.log() + log_det + torch.log1p(beta * spread) - 6 * scale.log()
        zero = torch.zeros_like(logit)
        return mixture.from_potentials(
            torch.where(active, w * (logit + log_peak), zero) + context.prior_log_weights,
            torch.where(active[..., None], w[..., None] * unit_eta / scale[..., None], 0.0),
            torch.where(active[..., None, None],
                        w[..., None, None] * unit_precision / (scale ** 2)[..., None, None], 0.0),
            log_pdet=torch.where(active, log_pdet, zero),
            rank=torch.where(active, 3, 0).expand_as(logit))


class NeuralHypotheses(torch.nn.Module):
    """
    A message model whose two side hypotheses come from a hypothesis network.

    Parameters
    ----------
    network : torch.nn.Module
        ``(..., 15) -> (..., 12)``, e.g. :class:`EquivariantHypothesisNet`.
    kind : str
        ``'equivariant'`` or ``'mlp'``, for reports.
    ramp : float
        Activation ramp of the linearised hinge each hypothesis corrects, m
        (the planner's ``hinge_ramp``; the shipped weights were trained at 0.25).

    Notes
    -----
    Calling the model (the planner's path) runs without autograd, on a copy
    of the network in the context's dtype and device (cached), so a float32
    network serves a float64 planner. :meth:`potentials` is the differentiable
    path used for training and gradient checks. Whatever the network's dtype,
    the head (:class:`HypothesisHead`) computes in float64 and rounds its
    result: eigenvalue clamping and log-determinants of precisions spanning
    twelve decades are noise in float32.

    """

    num_components = 2

    def __init__(self, network: torch.nn.Module, kind: str = 'equivariant', ramp: float = 0.25):
        super().__init__()
        if not ramp >= 0:
            raise ValueError(f'ramp must be >= 0, got {ramp}')
        self.network = network
        self.kind = kind
        self.ramp = ramp
        self.training_record: Dict[str, object] = {}
        self._copies: Dict[Tuple[torch.dtype, torch.device], torch.nn.Module] = {}

    def potentials(self, context: DistanceContext) -> Mixture:
        """Return the mixture potential over the offset, ``(F, 2, 3)``, differentiably."""
        return self._evaluate(self.network, context)

    def _evaluate(self, network: torch.nn.Module, context: DistanceContext) -> Mixture:
        """Run the network on the factors inside their safety distance only; the rest are flat."""
        active = (hinge_weight(context, self.ramp) > 0).nonzero()[:, 0]
        inside = DistanceContext(*(t[active] for t in context))
        part = HypothesisHead.potentials(network(hypothesis_features(inside)), inside, self.ramp)
        prior = context.prior_log_weights
        flat = Mixture(prior.clone(), prior.new_zeros(prior.shape + (3,)),
                       prior.new_zeros(prior.shape + (3, 3)))
        return Mixture(*(whole.index_copy(0, active, piece.to(whole.dtype))
                         for whole, piece in zip(flat, part)))

    def __call__(self, context: DistanceContext) -> Mixture:
        """Return the mixture potential over the offset, ``(F, 2, 3)``, for inference."""
        key = (context.offset.dtype, context.offset.device)
        network = self._copies.get(key)
        if network is None:
            network = copy.deepcopy(self.network).to(dtype=key[0], device=key[1]).eval()
            for parameter in network.parameters():
                parameter.requires_grad_(False)
            self._copies[key] = network
        with torch.no_grad():
            return self._evaluate(network, context)

    def refresh(self) -> None:
        """Drop the cached inference copies (call after changing the weights)."""
        self._copies.clear()
