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
A PNG of one episode: top view of the trajectories, with belief ellipses along them.

Matplotlib on the Agg backend (no display). Used by the ROS simulation node at the end of
a run; any code holding an :class:`~enbp_core.sim.simulator.Episode` can call it.
"""

import math
from pathlib import Path
from typing import Sequence, Tuple

from enbp_core.sim.simulator import Episode
import numpy as np

__all__ = ['BeliefSnapshot', 'plot_episode']

# (agent index, mean (2,), covariance (2, 2)) in the x-y plane, m and m^2.
BeliefSnapshot = Tuple[int, np.ndarray, np.ndarray]


def plot_episode(episode: Episode, path: Path, beliefs: Sequence[BeliefSnapshot] = (),
                 title: str = '', sigmas: float = 2.0, visible_fraction: float = 0.01) -> Path:
    """
    Write a top view (x, y) of ``episode`` to ``path``; return ``path``.

    Parameters
    ----------
    episode : Episode
        The run.
    path : Path
        Output PNG.
    beliefs : sequence of BeliefSnapshot
        Position beliefs to draw as ``sigmas``-sigma ellipses, in the agent's colour.
    title : str
        Figure title.
    sigmas : float
        Ellipse size in standard deviations.
    visible_fraction : float
        Beliefs of robots are often centimetres wide on a map tens of metres
        wide: when the median ellipse semi-axis is shorter than this fraction
        of the map's extent, all ellipses are magnified by one integer factor
        to reach it, and the legend states the factor.

    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Ellipse

    positions = episode.positions.numpy()
    n = positions.shape[1]
    colours = plt.cm.hsv(np.arange(n) / max(n, 1))
    fig, axes = plt.subplots(figsize=(7.0, 7.0))
    for x, y, z, r in episode.obstacles.spheres.tolist():
        if abs(z) < r:
            axes.add_patch(Circle((x, y), math.sqrt(r * r - z * z), color='0.6', alpha=0.7))
    for x, y, r in episode.obstacles.cylinders.tolist():
        axes.add_patch(Circle((x, y), r, color='0.4', alpha=0.7))
    shapes = []
    for agent, mean, covariance in beliefs:
        values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
        shapes.append((agent, mean, sigmas * np.sqrt(np.clip(values, 0.0, None)), vectors))
    extent = float(np.ptp(positions[..., :2].reshape(-1, 2), axis=0).max()) if n else 1.0
    magnify = 1
    if shapes:
        median = float(np.median([shape[2].max() for shape in shapes]))
        if 0 < median < visible_fraction * extent:
            magnify = int(math.ceil(visible_fraction * extent / median))
    for agent, mean, semi, vectors in shapes:
        semi = magnify * semi
        angle = math.degrees(math.atan2(vectors[1, 1], vectors[0, 1]))
        axes.add_patch(Ellipse(tuple(mean), 2 * semi[1], 2 * semi[0], angle=angle,
                               facecolor=colours[agent], alpha=0.25, edgecolor='none'))
    for i in range(n):
        axes.plot(positions[:, i, 0], positions[:, i, 1], color=colours[i], linewidth=0.8)
    axes.scatter(positions[0, :, 0], positions[0, :, 1], color=colours, s=10, label='start')
    goals = episode.goals.numpy()
    axes.scatter(goals[:, 0], goals[:, 1], color=colours, s=18, marker='x', linewidths=0.8,
                 label='goal')
    if shapes:
        scale = f', magnified x{magnify}' if magnify > 1 else ''
        axes.plot([], [], color='0.5', alpha=0.5, linewidth=6,
                  label=f'position belief, {sigmas:g} sigma{scale}')
    axes.set_aspect('equal')
    axes.set_xlabel('x (m)')
    axes.set_ylabel('y (m)')
    axes.legend(loc='upper right', fontsize=7)
    axes.set_title(title or f'{episode.planner}: {n} agents, {episode.duration:.1f} s',
                   fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
