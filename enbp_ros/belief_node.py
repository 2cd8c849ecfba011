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
``enbp_belief``: the belief node. One ENBP planning cycle per timer tick.

Subscribes, per agent ``<id>`` (relative names, so a node namespace prefixes them):
``<id>/pose`` (``PoseWithCovarianceStamped``, or ``PoseStamped`` with
``stamped_pose_variances`` when ``pose_type`` is ``stamped``), ``<id>/goal``
(``PoseStamped``); and ``obstacles`` (``MarkerArray`` of spheres and vertical cylinders,
latched). Every ``1 / rate`` s of the node clock (``use_sim_time`` honoured) it builds the
scene of the agents heard from within ``agent_timeout``, runs one planning cycle
(:class:`enbp_core.planning.BeliefPlanner`) and publishes, per agent, ``<id>/belief``
(``PoseWithCovarianceStamped``: ENBP's position belief, orientation passed through from
the measurement) and ``<id>/plan`` (``nav_msgs/Path``: belief means over the horizon);
and for all agents ``enbp/mixture_beliefs`` (``enbp/MixtureBeliefArray``), ``enbp/markers``
(``MarkerArray``: component ellipsoids and plans) and ``/diagnostics``.

Bad input is refused with a throttled warning and counted in the diagnostics; it never
reaches the planner and never touches another agent's belief. Outputs with NaN are not
published. Parameters are declared with descriptors (see ``config/enbp_belief.yaml``);
planner parameters can change at run time and take effect at the next cycle.
"""

from functools import partial
import sys
import time
from typing import Any, Dict, List, Optional

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from enbp.msg import MixtureBeliefArray
from enbp_core import mixture as mixtures
from enbp_core.planning import BeliefPlanner, METHODS, PlannerConfig
from enbp_core.scene import Obstacles
from enbp_ros import outputs, qos
from enbp_ros.agents import AgentTable
from enbp_ros.inputs import goal_from_msg, pose_from_msg, RejectedInput, update_obstacles
from enbp_ros.node_main import run_node
from enbp_ros.parameters import (declare_parameters, ParameterSpec, planner_parameter_specs,
                                 values_by_name)
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Path
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter
import torch
from visualization_msgs.msg import Marker, MarkerArray

__all__ = ['BeliefNode', 'main', 'NODE_PARAMETERS']

NODE_PARAMETERS = (
    ParameterSpec('agents', Parameter.Type.STRING_ARRAY,
                  'Agent ids (topic namespaces). Empty: agent_prefix + 0 .. num_agents - 1.',
                  read_only=True),
    ParameterSpec('num_agents', 0, 'Number of agents when agents is empty.', read_only=True,
                  low=0, high=10000),
    ParameterSpec('agent_prefix', 'agent_', 'Id prefix when agents is empty.', read_only=True),
    ParameterSpec('frame_id', 'map', 'Planning frame; inputs in any other frame are refused.',
                  read_only=True),
    ParameterSpec('method', 'enbp', 'Planner preset the planner parameters start from: '
                  + ', '.join(METHODS) + '.', read_only=True,
                  constraints='one of ' + ', '.join(METHODS)),
    ParameterSpec('rate', 10.0, 'Planning cycles per second of the node clock, Hz.',
                  read_only=True, low=0.1, high=1000.0),
    ParameterSpec('pose_type', 'with_covariance',
                  "Message type of <id>/pose: 'with_covariance' (PoseWithCovarianceStamped) or "
                  "'stamped' (PoseStamped).", read_only=True,
                  constraints="'with_covariance' or 'stamped'"),
    ParameterSpec('stamped_pose_variances', [1e-4, 1e-4, 1e-4, 1e-2, 1e-2, 1e-2],
                  'Diagonal covariance given to PoseStamped poses: x, y, z (m^2), '
                  'rot_x, rot_y, rot_z (rad^2).', constraints='six values >= 0'),
    ParameterSpec('agent_radius', 1.0, 'Body radius of every agent, m.', low=1e-3, high=100.0),
    ParameterSpec('max_speed', 2.0, 'Speed limit of every agent, m/s.', low=1e-3, high=100.0),
    ParameterSpec('agent_timeout', 1.0, 'An agent silent for longer is dropped from the graph '
                  'until it publishes again, s.', low=1e-3, high=3600.0),
    ParameterSpec('max_pose_age', 0.5, 'Poses whose stamp is farther than this from the node '
                  'clock are refused as stale (or from the future), s.', low=1e-3, high=3600.0),
    ParameterSpec('max_velocity_gap', 1.0, 'Velocity is the difference of two poses at most '
                  'this far apart, s.', low=1e-3, high=3600.0),
    ParameterSpec('publish_mixtures', True, 'Publish enbp/mixture_beliefs (and ellipsoids of '
                  'every component) each cycle.'),
    ParameterSpec('mixture_step', 0, 'Horizon step whose mixture beliefs are published: 0 is '
                  'the current state (one component unless mixture factors touch it); k > 0 '
                  'the planned state k steps ahead, where the pass-left / pass-right '
                  'hypotheses of nearby pairs show as components.', low=0, high=1000),
    ParameterSpec('publish_markers', True, 'Publish enbp/markers for RViz each cycle.'),
    ParameterSpec('marker_sigmas', 2.0, 'Ellipsoid markers show this many standard deviations.',
                  low=0.1, high=10.0),
    ParameterSpec('torch_threads', 1, 'Intra-op threads of PyTorch. One by default: its '
                  'workers spin while waiting and starve the executor and other nodes on a '
                  'small machine; raise it for N in the hundreds on a dedicated machine.',
                  read_only=True, low=1, high=256),
    ParameterSpec('diagnostics_period', 1.0, 'Period of /diagnostics, s of the node clock.',
                  read_only=True, low=0.01, high=3600.0),
)

_TUNING = ('stamped_pose_variances', 'agent_radius', 'max_speed', 'agent_timeout',
           'max_pose_age', 'max_velocity_gap', 'publish_mixtures', 'mixture_step',
           'publish_markers', 'marker_sigmas')

_COLORS = np.array([[0.12, 0.47, 0.71], [1.0, 0.5, 0.05], [0.17, 0.63, 0.17],
                    [0.84, 0.15, 0.16], [0.58, 0.4, 0.74], [0.55, 0.34, 0.29],
                    [0.89, 0.47, 0.76], [0.5, 0.5, 0.5], [0.74, 0.74, 0.13],
                    [0.09, 0.75, 0.81]])


class BeliefNode(Node):
    """The ENBP belief and planning node (see the module docstring)."""

    def __init__(self, **kwargs):
        super().__init__('enbp_belief', **kwargs)
        self.settings = declare_parameters(self, NODE_PARAMETERS)
        torch.set_num_threads(self.settings['torch_threads'])
        method = self.settings['method']
        if method not in METHODS:
            raise ValueError(f"parameter 'method' must be one of {sorted(METHODS)}, "
                             f'got {method!r}')
        if self.settings['pose_type'] not in ('with_covariance', 'stamped'):
            raise ValueError("parameter 'pose_type' must be 'with_covariance' or 'stamped', "
                             f"got {self.settings['pose_type']!r}")
        self._planner_names = [spec.name for spec in planner_parameter_specs(method)]
        planner_values = declare_parameters(self, planner_parameter_specs(method))
        problem = self._check({**self.settings, **planner_values})
        if problem:
            raise ValueError(problem)
        self.config = PlannerConfig.from_mapping(planner_values)
        self.planner = BeliefPlanner(self.config, name=method)
        self.frame_id = self.settings['frame_id']
        ids = list(self.settings['agents'] or [])
        if not ids:
            ids = [f"{self.settings['agent_prefix']}{k}"
                   for k in range(self.settings['num_agents'])]
        if not ids:
            raise ValueError("no agents: set 'agents' (ids) or 'num_agents'")
        self.table = AgentTable(ids, self.settings['agent_timeout'],
                                self.settings['max_pose_age'], self.settings['max_velocity_gap'])
        self._obstacle_store: Dict[Any, Any] = {}
        self.obstacles = Obstacles.empty()
        self._config_changed = False
        self._last_now: Optional[float] = None
        self._counts = {'cycles': 0, 'planner_errors': 0, 'rejected_inputs': 0,
                        'unpublished_nonfinite': 0}
        self._last_cycle: Dict[str, float] = {}
        self._last_error = ''

        pose_type = (PoseWithCovarianceStamped if self.settings['pose_type'] == 'with_covariance'
                     else PoseStamped)
        self._belief_pubs, self._plan_pubs = {}, {}
        for agent in ids:
            self.create_subscription(pose_type, f'{agent}/pose',
                                     partial(self._on_pose, agent), qos.POSES)
            self.create_subscription(PoseStamped, f'{agent}/goal',
                                     partial(self._on_goal, agent), qos.RELIABLE)
            self._belief_pubs[agent] = self.create_publisher(
                PoseWithCovarianceStamped, f'{agent}/belief', qos.RELIABLE)
            self._plan_pubs[agent] = self.create_publisher(Path, f'{agent}/plan', qos.RELIABLE)
        self.create_subscription(MarkerArray, 'obstacles', self._on_obstacles, qos.LATCHED)
        self._mixture_pub = self.create_publisher(MixtureBeliefArray, 'enbp/mixture_beliefs',
                                                  qos.RELIABLE)
        self._marker_pub = self.create_publisher(MarkerArray, 'enbp/markers', qos.RELIABLE)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics',
                                                      qos.RELIABLE)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.add_post_set_parameters_callback(self._after_set_parameters)
        self.create_timer(1.0 / self.settings['rate'], self._cycle)
        self.create_timer(self.settings['diagnostics_period'], self._publish_diagnostics)
        self.get_logger().info(
            f"planning for {len(ids)} agents in frame '{self.frame_id}' at "
            f"{self.settings['rate']:g} Hz, method '{method}' on {self.planner.device}")

    # Parameters ------------------------------------------------------------------------

    def _check(self, values: Dict[str, Any]) -> str:
        """Return why ``values`` (node and planner parameters) are unusable, or ''."""
        variances = values.get('stamped_pose_variances')
        if variances is not None and (len(variances) != 6 or not all(
                np.isfinite(v) and v >= 0 for v in variances)):
            return ('stamped_pose_variances must be six finite values >= 0, '
                    f'got {list(variances)}')
        planner = {k: v for k, v in values.items() if k in self._planner_names}
        try:
            PlannerConfig.from_mapping(planner, base=getattr(self, 'config', None))
        except (TypeError, ValueError) as error:
            return str(error)
        return ''

    def _on_set_parameters(self, parameters: List[Parameter]) -> SetParametersResult:
        values = values_by_name(parameters)
        if not hasattr(self, 'config'):  # still declaring: checked once all are declared
            return SetParametersResult(successful=True)
        reason = self._check(values)
        if reason:
            self.get_logger().warning(f'parameter change refused: {reason}')
        return SetParametersResult(successful=not reason, reason=reason)

    def _after_set_parameters(self, parameters: List[Parameter]) -> None:
        if not hasattr(self, 'config'):
            return
        values = values_by_name(parameters)
        planner = {k: v for k, v in values.items() if k in self._planner_names}
        if planner:
            self.config = PlannerConfig.from_mapping(planner, base=self.config)
            self._config_changed = True
        for name in _TUNING:
            if name in values:
                self.settings[name] = values[name]
        self.table.agent_timeout = self.settings['agent_timeout']
        self.table.max_pose_age = self.settings['max_pose_age']
        self.table.max_velocity_gap = self.settings['max_velocity_gap']
        self.get_logger().info(f'parameters changed: {values}')

    # Inputs ----------------------------------------------------------------------------

    def _now(self) -> Optional[float]:
        """Return the node clock in s, or ``None`` before a simulated clock has started."""
        nanoseconds = self.get_clock().now().nanoseconds
        now = None if nanoseconds == 0 else nanoseconds * 1e-9
        if now is not None and self._last_now is not None and now < self._last_now - 1e-6:
            self.get_logger().warning(f'clock jumped back from {self._last_now:.3f} s to '
                                      f'{now:.3f} s: forgetting all measurements and plans')
            self.table.reset()
            self.planner.reset()
        if now is not None:
            self._last_now = now
        return now

    def _reject(self, agent: Optional[str], reason: str) -> None:
        self._counts['rejected_inputs'] += 1
        if agent is not None:
            self.table.reject(agent, reason)
        self.get_logger().warning(f'rejected input: {reason}', throttle_duration_sec=2.0)

    def _on_pose(self, agent: str, msg) -> None:
        try:
            variances = np.asarray(self.settings['stamped_pose_variances'], dtype=np.float64)
            pose = pose_from_msg(msg, self.frame_id, np.diag(variances), f'{agent}/pose')
            self.table.accept_pose(agent, pose, self._now())
        except RejectedInput as error:
            self._reject(agent, str(error))

    def _on_goal(self, agent: str, msg: PoseStamped) -> None:
        try:
            self.table.accept_goal(agent, goal_from_msg(msg, self.frame_id, f'{agent}/goal'))
        except RejectedInput as error:
            self._reject(agent, str(error))

    def _on_obstacles(self, msg: MarkerArray) -> None:
        for reason in update_obstacles(self._obstacle_store, msg, self.frame_id):
            self._reject(None, reason)
        spheres = [v for kind, v in self._obstacle_store.values() if kind == 'sphere']
        cylinders = [v for kind, v in self._obstacle_store.values() if kind == 'cylinder']
        self.obstacles = Obstacles(
            torch.as_tensor(np.asarray(spheres).reshape(-1, 4), dtype=torch.float64),
            torch.as_tensor(np.asarray(cylinders).reshape(-1, 3), dtype=torch.float64))

    # The cycle -------------------------------------------------------------------------

    def _cycle(self) -> None:
        now = self._now()
        if self._config_changed:
            self.planner = BeliefPlanner(self.config, name=self.settings['method'])
            self._config_changed = False
        scene = self.table.scene(now, self.settings['agent_radius'], self.settings['max_speed'],
                                 self.obstacles)
        if scene is None:
            return
        started = time.perf_counter()
        try:
            cycle = self.planner.solve(scene)
            step = min(self.settings['mixture_step'], cycle.states.shape[1] - 1)
            mixture = (self.planner.mixture_beliefs(cycle, steps=[step])
                       if self.settings['publish_mixtures'] else None)
        except (ValueError, RuntimeError) as error:
            # A scene the planner refuses (e.g. an agent's centre inside an obstacle) or a
            # numerical failure: keep running, start the next cycle cold.
            self._counts['planner_errors'] += 1
            self._last_error = str(error)
            self.get_logger().error(f'planning cycle failed: {error}',
                                    throttle_duration_sec=2.0)
            self.planner.reset()
            return
        self._publish(scene, cycle, mixture, step)
        self._counts['cycles'] += 1
        self._last_cycle = {
            'cycle_time_ms': 1e3 * (time.perf_counter() - started),
            'iterations': float(cycle.plan.stats.get('iterations', 0)),
            'residual_m': float(cycle.plan.stats.get('residual', float('nan'))),
            'active_agents': float(scene.num_agents),
            'interagent_factors': float(cycle.plan.stats.get('interagent_factors', 0)),
            'obstacle_factors': float(cycle.plan.stats.get('obstacle_factors', 0)),
        }

    def _publish(self, scene, cycle, mixture, step: int) -> None:
        stamp, frame = scene.time, self.frame_id
        means = cycle.current_mean.detach().cpu().numpy()
        covariances = cycle.current_covariance.detach().cpu().numpy()
        paths = cycle.states[..., :3].detach().cpu().numpy()
        times = stamp + cycle.planning.times.detach().cpu().numpy()
        components = None
        if mixture is not None:
            selected = mixtures.Mixture(*(t[:, 0] for t in mixture))
            weights = torch.softmax(selected.log_weights, dim=-1).detach().cpu().numpy()
            component_means, component_covariances = mixtures.component_moments(selected)
            components = (weights, component_means.detach().cpu().numpy(),
                          component_covariances.detach().cpu().numpy())
        mixture_stamp = float(times[step])
        array = MixtureBeliefArray(header=outputs.header(stamp, frame))
        markers = MarkerArray(markers=[Marker(action=Marker.DELETEALL)])
        lifetime = 3.0 / self.settings['rate']
        sigmas = self.settings['marker_sigmas']
        for i, agent in enumerate(scene.ids):
            if not outputs.all_finite(means[i], covariances[i], paths[i]):
                self._counts['unpublished_nonfinite'] += 1
                self.get_logger().error(f'{agent}: non-finite belief or plan not published',
                                        throttle_duration_sec=2.0)
                continue
            pose = self.table.agents[agent].pose
            self._belief_pubs[agent].publish(outputs.belief_message(
                stamp, frame, means[i, :3], covariances[i, :3, :3], pose.quaternion,
                pose.covariance[3:, 3:]))
            self._plan_pubs[agent].publish(outputs.path_message(stamp, frame, paths[i], times))
            color = (*_COLORS[self.table.ids.index(agent) % len(_COLORS)], 1.0)
            markers.markers.append(outputs.path_marker(stamp, frame, 'plans', i, paths[i], 0.1,
                                                       color, lifetime))
            if components is None:
                markers.markers.append(outputs.ellipsoid_marker(
                    stamp, frame, 'beliefs', i, means[i, :3], covariances[i, :3, :3], sigmas,
                    (*color[:3], 0.5), lifetime))
                continue
            weights, component_means, component_covariances = (c[i] for c in components)
            keep = (weights > 0) & np.isfinite(component_means).all(-1) & np.isfinite(
                component_covariances).all((-1, -2))
            if not keep.any() or not outputs.all_finite(weights):
                continue
            array.beliefs.append(outputs.mixture_message(
                mixture_stamp, frame, agent, weights[keep], component_means[keep],
                component_covariances[keep]))
            for k in np.flatnonzero(keep):
                markers.markers.append(outputs.ellipsoid_marker(
                    stamp, frame, 'beliefs', i * len(weights) + int(k), component_means[k, :3],
                    component_covariances[k, :3, :3], sigmas,
                    (*color[:3], 0.2 + 0.6 * float(weights[k])), lifetime))
        if components is not None:
            self._mixture_pub.publish(array)
        if self.settings['publish_markers']:
            self._marker_pub.publish(markers)

    # Diagnostics -----------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        now = self._now()
        active = set(self.table.active(now))
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg() if now else Time()
        level = DiagnosticStatus.OK
        message = f'{len(active)}/{len(self.table.ids)} agents active'
        if self._counts['planner_errors'] and self._last_error:
            level, message = DiagnosticStatus.WARN, f'last planner error: {self._last_error}'
        values = {**{k: f'{v:.6g}' for k, v in self._last_cycle.items()},
                  **{k: str(v) for k, v in self._counts.items()}}
        array.status.append(DiagnosticStatus(
            level=level, name='enbp_belief: planner', message=message, hardware_id='enbp',
            values=[KeyValue(key=k, value=v) for k, v in values.items()]))
        for agent in self.table.ids:
            state = self.table.agents[agent]
            if agent in active:
                level, message = DiagnosticStatus.OK, 'active'
            elif state.pose is None:
                level, message = DiagnosticStatus.WARN, 'no accepted pose yet'
            else:
                level, message = DiagnosticStatus.WARN, 'timed out: not in the graph'
            if state.last_reason:
                level = DiagnosticStatus.WARN
                message += f'; last rejected input: {state.last_reason}'
            array.status.append(DiagnosticStatus(
                level=level, name=f'enbp_belief: {agent}', message=message, hardware_id=agent,
                values=[KeyValue(key='rejected_inputs', value=str(state.rejected)),
                        KeyValue(key='has_goal', value=str(state.goal is not None))]))
            state.last_reason = ''
        unknown = self._unknown_agents()
        if unknown:
            array.status.append(DiagnosticStatus(
                level=DiagnosticStatus.WARN, name='enbp_belief: unknown agents',
                message=('poses published by agents not in the agent list (ignored): '
                         + ', '.join(unknown)), hardware_id='enbp'))
        self._diagnostics_pub.publish(array)

    def _unknown_agents(self) -> List[str]:
        """Return the namespaces that publish a ``pose`` topic but are not known agents."""
        prefix = self.get_namespace().rstrip('/') + '/'
        known = set(self.table.ids)
        unknown = []
        for name, _ in self.get_topic_names_and_types():
            if name.startswith(prefix) and name.endswith('/pose'):
                agent = name[len(prefix):-len('/pose')]
                if agent and agent not in known:
                    unknown.append(agent)
        return sorted(unknown)


def main(args=None) -> int:
    """Run the belief node until shutdown; return 0, or 2 for a configuration error."""
    return run_node(BeliefNode, 'enbp_belief', args)


if __name__ == '__main__':
    sys.exit(main())
