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
Factor graphs held as index tensors.

Variables are ``V`` vectors of dimension ``d``. Factors of one type form a
:class:`FactorGroup`: ``F`` factors of the same arity ``a`` (1 or 2), their
variables as an ``(F, a)`` index tensor, and a function that returns their
potentials, a mixture over the stacked variables (``(F, K, a d)``), from the
linearisation point (the current belief means of their variables). A
potential with ``K = 1`` is a plain Gaussian factor; ``K > 1`` makes the
factor's messages Gaussian mixtures.
"""

from dataclasses import dataclass, field
from typing import Callable, List, Optional

from enbp_core.gaussian import Gaussian
from enbp_core.mixture import Mixture
import torch

__all__ = ['FactorGraph', 'FactorGroup']

PotentialFn = Callable[[torch.Tensor], Mixture]


@dataclass
class FactorGroup:
    """
    ``F`` factors of one type.

    Attributes
    ----------
    name : str
        Unique within the graph; messages are stored under it.
    variables : torch.Tensor
        ``(F, a)`` long tensor of variable indices, ``a`` in ``{1, 2}``.
    potential : callable
        ``means (F, a, d) -> Mixture`` with shapes ``(F, K)``, ``(F, K, a d)``,
        ``(F, K, a d, a d)``: the factor potentials linearised at ``means``.
    fixed : bool
        The potential does not depend on ``means`` (a linear factor): it is
        evaluated once per run.
    projection : torch.Tensor, optional
        ``(q, a d)`` matrix ``A``: when given, ``potential`` returns a mixture
        over ``y = A x`` (``(F, K, q)``), the factor is ``Phi(A x)``, and its
        messages are computed in the space of ``y`` (cheaper, same result).

    """

    name: str
    variables: torch.Tensor
    potential: PotentialFn
    fixed: bool = False
    projection: Optional[torch.Tensor] = None

    @property
    def arity(self) -> int:
        """Return the number of variables of each factor."""
        return self.variables.shape[-1]

    def __len__(self) -> int:
        """Return the number of factors ``F``."""
        return self.variables.shape[0]


@dataclass
class FactorGraph:
    """
    A factor graph over ``V`` variables of dimension ``d``.

    Attributes
    ----------
    prior : Gaussian
        ``(V, d)`` unary potentials folded into every belief (they must make
        each belief proper on their own, e.g. a weak prior).
    groups : list of FactorGroup
        The factors, grouped by type.

    """

    prior: Gaussian
    groups: List[FactorGroup] = field(default_factory=list)

    @property
    def num_variables(self) -> int:
        """Return ``V``."""
        return self.prior.eta.shape[0]

    @property
    def dim(self) -> int:
        """Return ``d``."""
        return self.prior.eta.shape[-1]

    def validate(self) -> None:
        """Raise ``ValueError`` on duplicate names, bad indices or shapes."""
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f'factor group names must be unique, got {names}')
        for g in self.groups:
            if g.variables.dim() != 2 or g.arity not in (1, 2):
                raise ValueError(f'group {g.name}: variables must be (F, 1) or (F, 2)')
            if g.variables.dtype != torch.long:
                raise ValueError(f'group {g.name}: variables must be a long tensor')
            if len(g) and (int(g.variables.min()) < 0
                           or int(g.variables.max()) >= self.num_variables):
                raise ValueError(f'group {g.name}: variable index out of range')
            if g.arity == 2 and len(g) and bool((g.variables[:, 0] == g.variables[:, 1]).any()):
                raise ValueError(f'group {g.name}: a pairwise factor joins a variable to itself')
