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
Shipped weights: a versioned, checksummed file per architecture.

A weights file is a ``torch.save`` dictionary of plain types and tensors
(loadable with ``weights_only=True``)::

    {'format': 'enbp-message-model', 'version': 1,
     'architecture': 'equivariant' | 'mlp', 'hyperparameters': {...},
     'state_dict': {...}, 'checksum': sha256 hex of the state dict,
     'training': {...}}     # seed, steps, loss, timings, data sizes

:func:`load_message_model` refuses, with the reason, a file of another
format or version, another architecture, or a state dict whose checksum does
not match (a truncated or hand-edited file), so a stale file never silently
plans.
"""

import hashlib
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from enbp_core.nn.network import ARCHITECTURES, NeuralHypotheses
import torch

__all__ = ['FORMAT', 'VERSION', 'WeightsError', 'default_weights_path', 'load_message_model',
           'save_message_model', 'state_checksum']

FORMAT = 'enbp-message-model'
VERSION = 1


class WeightsError(ValueError):
    """A weights file that cannot be used, with the reason."""


def default_weights_path(architecture: str = 'equivariant') -> Path:
    """Return the path of the weights shipped inside the package."""
    return Path(__file__).resolve().parent / 'weights' / f'{architecture}.pt'


def state_checksum(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Return the SHA-256 of a state dict's names, dtypes, shapes and values."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(f'{name}:{tensor.dtype}:{tuple(tensor.shape)};'.encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def save_message_model(model: NeuralHypotheses, path: Union[str, Path],
                       training: Optional[Dict[str, Any]] = None) -> Path:
    """Write ``model``'s network to ``path`` (float32) and return the path."""
    state = {name: tensor.detach().to('cpu', torch.float32).clone()
             for name, tensor in model.network.state_dict().items()}
    payload = {'format': FORMAT, 'version': VERSION, 'architecture': model.kind,
               'hyperparameters': dict(model.network.hyperparameters),
               'state_dict': state, 'checksum': state_checksum(state),
               'training': dict(training or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


def load_message_model(architecture: str = 'equivariant',
                       path: Optional[Union[str, Path]] = None) -> NeuralHypotheses:
    """
    Load a trained message model (the shipped weights by default).

    Parameters
    ----------
    architecture : str
        ``'equivariant'`` (e3nn) or ``'mlp'``.
    path : str or Path, optional
        A weights file written by :func:`save_message_model` (``enbp-train``).

    Raises
    ------
    WeightsError
        Missing, unreadable, wrong format/version/architecture, or corrupt.

    """
    if architecture not in ARCHITECTURES:
        raise WeightsError(f'unknown architecture {architecture!r}; known: '
                           f'{sorted(ARCHITECTURES)}')
    path = Path(path) if path is not None else default_weights_path(architecture)
    if not path.is_file():
        raise WeightsError(f'no weights file at {path}; run enbp-train to create it')
    try:
        payload = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # noqa: B902 - any unpickling failure means a bad file
        raise WeightsError(f'{path} is not a readable weights file: {error}') from None
    if not isinstance(payload, dict) or payload.get('format') != FORMAT:
        raise WeightsError(f'{path} is not an ENBP message-model file')
    if payload.get('version') != VERSION:
        raise WeightsError(f'{path} has format version {payload.get("version")}, this code '
                           f'reads version {VERSION}; retrain with enbp-train')
    if payload.get('architecture') != architecture:
        raise WeightsError(f'{path} holds a {payload.get("architecture")!r} network, '
                           f'not {architecture!r}')
    state = payload['state_dict']
    if state_checksum(state) != payload.get('checksum'):
        raise WeightsError(f'{path}: checksum mismatch, the weights are corrupt')
    network = ARCHITECTURES[architecture](**payload['hyperparameters'])
    try:
        network.load_state_dict(state)
    except RuntimeError as error:
        raise WeightsError(f'{path} does not fit the {architecture} network: {error}') from None
    model = NeuralHypotheses(network, architecture)
    model.training_record = payload.get('training', {})
    return model.eval()
