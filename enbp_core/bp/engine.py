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
The synchronous loopy BP schedule.

Each iteration: every belief is the prior times all incoming messages (a
scatter-add in information form); every factor group computes its new
messages from the cavities (belief divided by its own last message) and its
potentials linearised at the current belief means; messages are damped in
information form, ``m <- (1 - beta) m_new + beta m_old``. The only Python
loops are over iterations and factor groups.

Divergence and settling are different things, reported separately:

- *diverged*: a belief became non-finite or not positive definite, or a
  belief mean moved farther than ``blow_up`` from the prior's mean;
- *settling*: the mean change of the belief positions in the last iteration
  (a converged run has it near zero; relinearised on/off factors may keep it
  from reaching zero without anything being wrong).
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from enbp_core import mixture, reduction
from enbp_core.bp.graph import FactorGraph
from enbp_core.bp.messages import (gaussian_messages, projected_mixture_messages,
                                   projected_tilted_messages, tilted_messages)
from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
import torch

__all__ = ['BPResult', 'mixture_beliefs', 'mixture_messages', 'run']


@dataclass
class BPResult:
    """
    The outcome of :func:`run`.

    Attributes
    ----------
    beliefs : Gaussian
        ``(V, d)`` final beliefs (moment projections for mixture factors).
    means : torch.Tensor
        ``(V, d)`` their means.
    messages : dict
        Group name to messages ``(F, a, d)``; pass back as ``messages`` to warm-start.
    hypothesis_log_weights : dict
        Group name to the posterior log weights ``(F, K)`` of mixture groups'
        components in the last iteration (the same at every end of a factor).
    residuals : list of float
        Per iteration, the mean change of belief means over the first ``position_dims``.
    iterations : int
        Iterations run.
    diverged : bool
        See the module docstring; ``reason`` says which test fired.
    zeroed_messages : int
        Non-finite messages replaced by flat ones over the run.

    """

    beliefs: Gaussian
    means: torch.Tensor
    messages: Dict[str, Gaussian]
    hypothesis_log_weights: Dict[str, torch.Tensor] = field(default_factory=dict)
    residuals: List[float] = field(default_factory=list)
    iterations: int = 0
    diverged: bool = False
    reason: str = ''
    zeroed_messages: int = 0

    @property
    def settling(self) -> float:
        """Return the residual of the last iteration (``nan`` if none ran)."""
        return self.residuals[-1] if self.residuals else float('nan')


def _beliefs(graph: FactorGraph, messages: Dict[str, Gaussian]) -> Gaussian:
    eta, precision = graph.prior.eta.clone(), graph.prior.precision.clone()
    for group in graph.groups:
        if len(group):
            index = group.variables.reshape(-1)
            eta.index_add_(0, index, messages[group.name].eta.reshape(-1, graph.dim))
            precision.index_add_(0, index, messages[group.name].precision.reshape(
                -1, graph.dim, graph.dim))
    return Gaussian(eta, precision)


def _means(beliefs: Gaussian):
    chol, info = torch.linalg.cholesky_ex(beliefs.precision)
    means = torch.cholesky_solve(beliefs.eta[..., None], chol)[..., 0]
    return means, info != 0


def _flat(group, dim, like) -> Gaussian:
    f, a = group.variables.shape
    return Gaussian(like.new_zeros(f, a, dim), like.new_zeros(f, a, dim, dim))


def run(graph: FactorGraph, iterations: int, *, damping: float = 0.0,
        messages: Optional[Dict[str, Gaussian]] = None, position_dims: int = 3,
        blow_up: float = 1e6, psd_messages: bool = True) -> BPResult:
    """
    Run synchronous loopy BP.

    Parameters
    ----------
    graph : FactorGraph
        The graph; its prior must make every belief proper.
    iterations : int
        Number of synchronous iterations (>= 1).
    damping : float
        ``beta`` in ``[0, 1)``; 0 is undamped.
    messages : dict, optional
        Warm start: messages of a previous run on a graph with the same groups
        and factor counts (groups whose shapes differ start flat).
    position_dims : int
        The leading coordinates of a state that are positions (residuals and
        settling are measured on them).
    blow_up : float
        Divergence threshold on the distance between a belief mean and the
        prior's mean.
    psd_messages : bool
        Restrict mixture factors' projected messages to their PSD part (see
        :func:`enbp_core.bp.messages.tilted_messages`); ``False`` is exact
        expectation propagation, for trees and tests.

    """
    if int(iterations) != iterations or iterations < 1:
        raise ValueError(f'iterations must be a positive integer, got {iterations}')
    if not 0 <= damping < 1:
        raise ValueError(f'damping must be in [0, 1), got {damping}')
    graph.validate()
    dim = graph.dim
    like = graph.prior.eta
    current = {}
    for group in graph.groups:
        old = (messages or {}).get(group.name)
        shape = (len(group), group.arity, dim)
        current[group.name] = old if old is not None and old.eta.shape == shape else _flat(
            group, dim, like)
    prior_means, _ = _means(graph.prior)
    fixed = {g.name: g.potential(like.new_zeros(len(g), g.arity, dim))
             for g in graph.groups if g.fixed}
    result = BPResult(graph.prior, prior_means, current)
    beliefs = _beliefs(graph, current)
    means, failed = _means(beliefs)
    for _ in range(int(iterations)):
        new_messages, weights = {}, {}
        for group in graph.groups:
            if not len(group):
                new_messages[group.name] = current[group.name]
                continue
            index = group.variables
            old = current[group.name]
            cavities = Gaussian(beliefs.eta[index] - old.eta,
                                beliefs.precision[index] - old.precision)
            potential = fixed.get(group.name)
            if potential is None:
                potential = group.potential(means[index])
            new, log_weights, bad = _group_messages(potential, group.projection, cavities,
                                                    psd_messages)
            if log_weights is not None:
                weights[group.name] = log_weights
            result.zeroed_messages += bad
            if damping:
                new = Gaussian((1 - damping) * new.eta + damping * old.eta,
                               (1 - damping) * new.precision + damping * old.precision)
            new_messages[group.name] = new
        current = new_messages
        beliefs = _beliefs(graph, current)
        new_means, failed = _means(beliefs)
        result.iterations += 1
        step = (new_means - means)[:, :position_dims].norm(dim=-1)
        result.residuals.append(float(step.mean()))
        means = new_means
        result.hypothesis_log_weights = weights
        reason = _divergence(beliefs, means, failed, prior_means, blow_up)
        if reason:
            result.diverged, result.reason = True, reason
            break
    result.beliefs, result.means, result.messages = beliefs, means, current
    return result


def mixture_messages(graph: FactorGraph, result: BPResult,
                     groups: Optional[Sequence[str]] = None) -> Dict[str, Mixture]:
    """
    Return the mixture messages ``(F, a, K, d)`` of every mixture group at the final beliefs.

    Component ``k`` of a message is the Gaussian BP message of potential
    component ``k``; its weight makes the product with the end's cavity carry
    the hypothesis' posterior weight. Computed on demand: the schedule itself
    only needs the projected messages. ``groups`` limits the work to the named groups.
    """
    beliefs, means, messages = result.beliefs, result.means, result.messages
    out = {}
    for group in graph.groups:
        if not len(group) or (groups is not None and group.name not in groups):
            continue
        potential = group.potential(means[group.variables])
        if potential.num_components == 1:
            continue
        old = messages[group.name]
        index = group.variables
        cavities = Gaussian(beliefs.eta[index] - old.eta, beliefs.precision[index] - old.precision)
        if group.projection is not None:
            out[group.name] = projected_mixture_messages(potential, group.projection, cavities)
        else:
            out[group.name] = tilted_messages(potential, cavities)[1]
    return out


def _group_messages(potential: Mixture, lift: Optional[torch.Tensor], cavities: Gaussian,
                    psd: bool):
    """
    Messages of one group; flat potentials (inactive hinges) get flat messages for free.

    Returns the Gaussian messages ``(F, a, d)``, the hypotheses' posterior log
    weights ``(F, K)`` (``None`` for ``K = 1``; prior weights where flat) and
    the count of zeroed messages.
    """
    f, a, d = cavities.eta.shape
    k = potential.num_components
    active = potential.precision.flatten(1).abs().amax(-1) > 0
    messages = Gaussian(cavities.eta.new_zeros(f, a, d), cavities.eta.new_zeros(f, a, d, d))
    weights = torch.log_softmax(potential.log_weights, -1).clone() if k > 1 else None
    if not bool(active.any()):
        return messages, weights, 0
    index = active.nonzero(as_tuple=True)[0]
    sub = Mixture(*(t[index] for t in potential))
    sub_cavities = Gaussian(cavities.eta[index], cavities.precision[index])
    if k == 1:
        if lift is not None:
            sub = Mixture(sub.log_weights, sub.eta @ lift, lift.T @ sub.precision @ lift)
        new, bad = gaussian_messages(Gaussian(sub.eta[:, 0], sub.precision[:, 0]), sub_cavities)
    elif lift is not None:
        new, weights[index], bad = projected_tilted_messages(sub, lift, sub_cavities, psd)
    else:
        new, sub_mixture, bad = tilted_messages(sub, sub_cavities, psd)
        weights[index] = sub_mixture.log_weights[:, 0] - torch.logsumexp(
            sub_mixture.log_weights[:, 0], -1, keepdim=True)
    messages.eta[index], messages.precision[index] = new.eta, new.precision
    return messages, weights, bad


def _divergence(beliefs, means, failed, prior_means, blow_up) -> str:
    if not bool(torch.isfinite(beliefs.precision).all() & torch.isfinite(beliefs.eta).all()):
        return 'non-finite belief'
    if bool(failed.any()):
        return f'{int(failed.sum())} beliefs not positive definite'
    if not bool(torch.isfinite(means).all()):
        return 'non-finite belief mean'
    distance = (means - prior_means).norm(dim=-1)
    if float(distance.max()) > blow_up:
        return f'a belief mean moved {float(distance.max()):.3g} from its prior (blow-up)'
    return ''


def mixture_beliefs(graph: FactorGraph, result: BPResult, max_components: int,
                    prune_below: float = 1e-4,
                    variables: Optional[torch.Tensor] = None) -> Mixture:
    """
    Assemble the mixture beliefs of variables after a run.

    The belief of a variable is its Gaussian cavity with respect to all
    mixture factors, times each incident mixture message, reduced to
    ``max_components`` by Runnalls' rule after every product. Variables
    without mixture factors get their Gaussian belief as one component.

    Parameters
    ----------
    graph, result : FactorGraph, BPResult
        The graph and the outcome of :func:`run` on it.
    max_components : int
        ``K_max``.
    prune_below : float
        Components lighter than this are dropped by the reduction.
    variables : torch.Tensor, optional
        ``(S,)`` indices of the variables wanted (all ``V`` by default); the
        products and reductions, the costly part, run for these only.

    Returns
    -------
    Mixture
        ``(S, K_max, d)``, heaviest component first, absent slots ``-inf``.

    """
    dim, num = graph.dim, graph.num_variables
    like = result.beliefs.eta
    eta = result.beliefs.eta.clone()
    precision = result.beliefs.precision.clone()
    slots: List[torch.Tensor] = []   # (V,) index into the stacked mixture messages, -1 = none
    stacked = []
    offset = 0
    selected = (torch.arange(num, device=like.device) if variables is None
                else torch.as_tensor(variables, dtype=torch.long, device=like.device))
    # Only groups with an edge on a selected variable contribute to its belief.
    wanted = torch.zeros(num, dtype=torch.bool, device=like.device)
    wanted[selected] = True
    touching = [g.name for g in graph.groups if len(g) and bool(wanted[g.variables].any())]
    all_mixture_messages = mixture_messages(graph, result, groups=touching)
    for group in graph.groups:
        mixture_message = all_mixture_messages.get(group.name)
        if mixture_message is None:
            continue
        index = group.variables.reshape(-1)
        projected = result.messages[group.name]
        eta.index_add_(0, index, -projected.eta.reshape(-1, dim))
        precision.index_add_(0, index, -projected.precision.reshape(-1, dim, dim))
        flat = Mixture(*(t.reshape((-1,) + t.shape[2:]) for t in mixture_message))
        stacked.append(flat)
        # Slot s of a variable holds its s-th incident mixture edge.
        order = torch.argsort(index, stable=True)
        sorted_index = index[order]
        first = torch.searchsorted(sorted_index, sorted_index, right=False)
        rank = torch.arange(len(index), device=index.device) - first
        for s in range(int(rank.max()) + 1 if len(rank) else 0):
            slot = torch.full((num,), -1, dtype=torch.long, device=index.device)
            pick = rank == s
            slot[sorted_index[pick]] = order[pick] + offset
            slots.append(slot)
        offset += len(index)
    belief = Mixture(like.new_zeros(len(selected), 1), eta[selected, None],
                     precision[selected, None])
    slots = [slot[selected] for slot in slots]
    slots = [slot for slot in slots if bool((slot >= 0).any())]
    if not stacked or not slots:
        return belief
    messages = Mixture(*(torch.cat(parts) for parts in zip(*stacked)))
    k = messages.num_components
    flat_message = Mixture(
        torch.cat([like.new_zeros(1), like.new_full((k - 1,), float('-inf'))]),
        like.new_zeros(k, dim), like.new_zeros(k, dim, dim))
    for slot in slots:
        has = slot >= 0
        picked = Mixture(*(t[slot.clamp_min(0)] for t in messages))
        picked = Mixture(*(torch.where(has.reshape((-1,) + (1,) * (t.dim() - 1)), t, f)
                           for t, f in zip(picked, flat_message)))
        belief = reduction.reduce(mixture.normalize(mixture.product(belief, picked)),
                                  max_components,
                                  prune_below).mixture
    return belief
