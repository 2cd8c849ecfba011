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
``enbp_sim``: the simulation node. Runs a scenario with :mod:`enbp_core.sim` over ROS.

It publishes, per agent ``<id>``, ``<id>/pose`` (``PoseWithCovarianceStamped``: true
position plus the scenario's measurement noise, covariance from its noise settings) and
``<id>/goal`` (``PoseStamped``, repeated every ``goal_period`` s); ``obstacles``
(``MarkerArray``, latched); and, with ``publish_clock``, ``/clock``. It follows the plans
on ``<id>/plan``: the command for the next step is the velocity that reaches the plan's
position at the next step's time (linear interpolation along the path's stamps), the
same command :class:`enbp_core.planning.BeliefPlanner` returns to the headless
simulator. Speed and acceleration limits are enforced by :class:`enbp_core.sim.Simulator`.

Time. With ``publish_clock`` (the default) the node is the clock of the graph: simulated
time starts at ``start_time`` and advances by one step when every agent's plan for the
current step has arrived, or after ``plan_timeout`` s of wall time (then the latest plans
are followed and the step is counted as late). Run the other nodes with
``use_sim_time:=true``; the graph then runs as fast as planning allows. Without it, the
node steps on the wall clock at ``dt`` and stamps with the node clock.

At the end (all agents at their goals, deadlock, or the time limit) it logs the metrics
of :func:`enbp_core.sim.compute_metrics` and, with ``output_dir``, writes
``metrics.json`` and ``trajectories.png`` (trajectories with belief ellipses).
"""

from functools import partial
import json
import math
from pathlib import Path
import sys
import time
from typing import Dict, List, Optional

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from enbp_core.sim import compute_metrics, EpisodeRecorder, load_scenario
from enbp_core.sim.figures import plot_episode
from enbp_core.sim.metrics import collisions
from enbp_ros import outputs, qos
from enbp_ros.inputs import stamp_seconds
from enbp_ros.node_main import run_node
from enbp_ros.parameters import declare_parameters, ParameterSpec
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Path as PathMsg
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
import torch
from visualization_msgs.msg import Marker, MarkerArray

__all__ = ['main', 'NODE_PARAMETERS', 'SimNode']

NODE_PARAMETERS = (
    ParameterSpec('scenario', 'circle', 'Scenario name (config/scenarios) or YAML path.',
                  read_only=True),
    ParameterSpec('num_agents', 16, 'Number of agents.', read_only=True, low=1, high=10000),
    ParameterSpec('seed', 0, 'Layout and measurement-noise seed.', read_only=True, low=0,
                  high=2 ** 31 - 1),
    ParameterSpec('agent_prefix', 'agent_', 'Agent ids are agent_prefix + 0 .. num_agents - 1.',
                  read_only=True),
    ParameterSpec('frame_id', 'map', 'Frame of every published pose, goal and obstacle.',
                  read_only=True),
    ParameterSpec('publish_clock', True, 'Drive /clock and step when plans arrive (see the '
                  'node docs); false: step on the wall clock.', read_only=True),
    ParameterSpec('start_time', 1.0, 'Simulated time of the first step, s (ROS reads 0 as '
                  '"no clock yet").', read_only=True, low=0.001, high=1e6),
    ParameterSpec('plan_timeout', 2.0, 'Wall-clock wait for fresh plans before stepping '
                  'with the latest ones, s.', low=0.001, high=3600.0),
    ParameterSpec('clock_delay', 0.003, 'Wall-clock pause between publishing poses and the '
                  'clock that triggers the planner, so the poses arrive first, s.',
                  low=0.0, high=1.0),
    ParameterSpec('startup_delay', 0.5, 'Wall-clock wait between finding a connected planner '
                  'and the first step, s.', read_only=True, low=0.0, high=60.0),
    ParameterSpec('time_limit', 0.0, "Episode limit in simulated s; 0: the scenario's.",
                  read_only=True, low=0.0, high=1e6),
    ParameterSpec('goal_period', 1.0, 'Goals are republished this often, simulated s.',
                  low=0.01, high=3600.0),
    ParameterSpec('output_dir', '', 'Write metrics.json and trajectories.png here at the end '
                  '(empty: write nothing).', read_only=True),
    ParameterSpec('exit_on_finish', True, 'Exit when the episode ends.', read_only=True),
    ParameterSpec('progress_period', 1.0, 'Log a progress line this often, wall s (0: never).',
                  low=0.0, high=3600.0),
)


def interpolated_command(path: PathMsg, position: np.ndarray, target_time: float,
                         dt: float) -> Optional[np.ndarray]:
    """
    Return the velocity that reaches the plan's position at ``target_time`` in ``dt``.

    The plan's positions are interpolated linearly in their stamps (held at the ends).
    ``None`` for an empty or non-finite plan.
    """
    if not path.poses:
        return None
    times = np.array([stamp_seconds(p.header.stamp) for p in path.poses])
    points = np.array([[p.pose.position.x, p.pose.position.y, p.pose.position.z]
                       for p in path.poses])
    if not (np.all(np.isfinite(points)) and np.all(np.diff(times) > 0)):
        return None
    target = np.array([np.interp(target_time, times, points[:, axis]) for axis in range(3)])
    return (target - position) / dt


class SimNode(Node):
    """The simulation node (see the module docstring)."""

    def __init__(self, **kwargs):
        super().__init__('enbp_sim', **kwargs)
        # The simulator's tensors are tiny: PyTorch worker threads would only steal the
        # planner's cores.
        torch.set_num_threads(1)
        self.settings = declare_parameters(self, NODE_PARAMETERS)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        s = self.settings
        overrides = ({'simulation': {'time_limit': s['time_limit']}}
                     if s['time_limit'] > 0 else None)
        self.instance = load_scenario(s['scenario'], s['num_agents'], s['seed'], overrides)
        self.sim = self.instance.simulator()
        self.dt = self.sim.config.dt
        self.frame_id = s['frame_id']
        prefix = s['agent_prefix']
        self.ids = [f'{prefix}{k}' for k in range(self.sim.num_agents)]
        self.sim.ids = tuple(self.ids)
        self.recorder = EpisodeRecorder(self.sim)
        self._start_ns = int(round(s['start_time'] * 1e9))
        self._dt_ns = int(round(self.dt * 1e9))
        self._plans: Dict[str, PathMsg] = {}
        self._beliefs: List = []
        self._measured: Optional[np.ndarray] = None
        self._waiting_since: Optional[float] = None
        self._late_steps = 0
        self._colliding = set()
        self._cycle_ms = float('nan')
        self._last_goals = -math.inf
        self._last_progress = time.monotonic()
        self._wall_start = time.monotonic()
        self.metrics: Optional[Dict] = None
        self.done = False

        self._pose_pubs, self._goal_pubs, self._plan_subs = {}, {}, {}
        for index, agent in enumerate(self.ids):
            self._pose_pubs[agent] = self.create_publisher(
                PoseWithCovarianceStamped, f'{agent}/pose', qos.RELIABLE)
            self._goal_pubs[agent] = self.create_publisher(PoseStamped, f'{agent}/goal',
                                                           qos.RELIABLE)
            self._plan_subs[agent] = self.create_subscription(
                PathMsg, f'{agent}/plan', partial(self._on_plan, agent), qos.RELIABLE)
            self.create_subscription(PoseWithCovarianceStamped, f'{agent}/belief',
                                     partial(self._on_belief, index), qos.RELIABLE)
        self._obstacle_pub = self.create_publisher(MarkerArray, 'obstacles', qos.LATCHED)
        self._clock_pub = (self.create_publisher(Clock, '/clock', qos.CLOCK)
                           if s['publish_clock'] else None)
        self.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics,
                                 qos.RELIABLE)
        self._publish_obstacles()
        self.started = False
        self._connected_since: Optional[float] = None
        # On the simulated clock plans drive the steps; this timer only starts and unblocks.
        period = 0.05 if s['publish_clock'] else self.dt
        self._timer = self.create_timer(period, self._tick)
        self.get_logger().info(
            f"scenario '{self.instance.name}' with {len(self.ids)} agents (seed {s['seed']}), "
            f'dt {self.dt:g} s, time limit {self.sim.config.time_limit:g} s, '
            + ('simulated clock' if s['publish_clock'] else 'wall clock'))

    def _on_set_parameters(self, parameters) -> SetParametersResult:
        for parameter in parameters:
            if parameter.name in self.settings:
                self.settings[parameter.name] = parameter.value
        return SetParametersResult(successful=True)

    # Time ------------------------------------------------------------------------------

    def _sim_time(self) -> float:
        """Return the ROS time of the current step, s."""
        if self._clock_pub is None:
            return self.get_clock().now().nanoseconds * 1e-9
        return (self._start_ns + self.sim.step_count * self._dt_ns) * 1e-9

    def _stamp(self) -> Time:
        if self._clock_pub is None:
            return self.get_clock().now().to_msg()
        nanoseconds = self._start_ns + self.sim.step_count * self._dt_ns
        return Time(sec=nanoseconds // 10 ** 9, nanosec=nanoseconds % 10 ** 9)

    # Subscriptions ---------------------------------------------------------------------

    def _on_plan(self, agent: str, msg: PathMsg) -> None:
        self._plans[agent] = msg
        # On the simulated clock, step as soon as every agent's plan for this step is in.
        if (self._clock_pub is not None and self.started and not self.done
                and self._fresh_plans() == len(self.ids)):
            self._advance()

    def _on_belief(self, index: int, msg: PoseWithCovarianceStamped) -> None:
        # Keep one belief per agent every 2 s of simulated time for the figure.
        stamp = stamp_seconds(msg.header.stamp) - self._start_ns * 1e-9
        if len(self._beliefs) > 20000:  # memory bound on very long runs
            return
        step = int(round(stamp / self.dt))
        if step % max(1, int(round(2.0 / self.dt))) == 0:
            p = msg.pose.pose.position
            covariance = np.asarray(msg.pose.covariance).reshape(6, 6)[:2, :2]
            self._beliefs.append((index, np.array([p.x, p.y]), covariance))

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith(': planner'):
                for pair in status.values:
                    if pair.key == 'cycle_time_ms':
                        self._cycle_ms = float(pair.value)

    # Publishing ------------------------------------------------------------------------

    def _publish_obstacles(self) -> None:
        markers = MarkerArray(markers=[Marker(action=Marker.DELETEALL, ns='obstacles')])
        obstacles = self.sim.obstacles
        header = outputs.header(0.0, self.frame_id)
        for k, (x, y, z, r) in enumerate(obstacles.spheres.tolist()):
            marker = Marker(header=header, ns='obstacles', id=k, type=Marker.SPHERE,
                            action=Marker.ADD)
            marker.pose.position.x, marker.pose.position.y, marker.pose.position.z = x, y, z
            marker.pose.orientation.w = 1.0
            marker.scale.x = marker.scale.y = marker.scale.z = 2 * r
            marker.color.r = marker.color.g = marker.color.b = 0.5
            marker.color.a = 1.0
            markers.markers.append(marker)
        offset = obstacles.spheres.shape[0]
        for k, (x, y, r) in enumerate(obstacles.cylinders.tolist()):
            marker = Marker(header=header, ns='obstacles', id=offset + k,
                            type=Marker.CYLINDER, action=Marker.ADD)
            marker.pose.position.x, marker.pose.position.y = x, y
            marker.pose.orientation.w = 1.0
            marker.scale.x = marker.scale.y = 2 * r
            marker.scale.z = 4.0  # drawn 4 m tall; modelled unbounded in z
            marker.color.r = marker.color.g = marker.color.b = 0.4
            marker.color.a = 1.0
            markers.markers.append(marker)
        self._obstacle_pub.publish(markers)

    def _publish_state(self) -> None:
        """Publish the measured poses of the current step (and the goals when due)."""
        scene = self.sim.measure()
        self._measured = scene.positions.numpy()
        stamp = self._stamp()
        variances = np.diag(scene.covariances[0].numpy())[:3]
        covariance = np.zeros((6, 6))
        covariance[:3, :3] = np.diag(variances)
        covariance[3:, 3:] = np.eye(3) * 1e-2  # orientation is not simulated
        flat = [float(v) for v in covariance.reshape(-1)]
        for agent, position in zip(self.ids, self._measured):
            msg = PoseWithCovarianceStamped()
            msg.header.stamp, msg.header.frame_id = stamp, self.frame_id
            p = msg.pose.pose.position
            p.x, p.y, p.z = (float(v) for v in position)
            msg.pose.pose.orientation.w = 1.0
            msg.pose.covariance = flat
            self._pose_pubs[agent].publish(msg)
        now = self._sim_time()
        if now - self._last_goals >= self.settings['goal_period'] - 1e-9:
            self._last_goals = now
            for agent, goal in zip(self.ids, self.sim.goals.numpy()):
                msg = PoseStamped()
                msg.header.stamp, msg.header.frame_id = stamp, self.frame_id
                msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (
                    float(v) for v in goal)
                msg.pose.orientation.w = 1.0
                self._goal_pubs[agent].publish(msg)

    def _publish_clock(self) -> None:
        if self._clock_pub is not None:
            self._clock_pub.publish(Clock(clock=self._stamp()))

    # The loop --------------------------------------------------------------------------

    def _planner_connected(self) -> bool:
        """Whether a planner hears every agent's poses and the clock, and plans for all."""
        clock_heard = self._clock_pub is None or self._clock_pub.get_subscription_count() > 0
        return clock_heard and all(
            self._pose_pubs[agent].get_subscription_count() > 0
            and self._plan_subs[agent].get_publisher_count() > 0 for agent in self.ids)

    def _tick(self) -> None:
        """Start when a planner is connected; on the simulated clock, enforce plan_timeout."""
        if self.done:
            return
        if not self.started:
            if not self._planner_connected():
                self._connected_since = None
                if time.monotonic() - self._last_progress > 5.0:
                    self._last_progress = time.monotonic()
                    self.get_logger().info(f'waiting for a planner on {self.ids[0]}/plan')
                return
            # Matching is not symmetric in time: give the planner's side a moment to match
            # this node's writers too, or the first best-effort poses may be dropped.
            if self._connected_since is None:
                self._connected_since = time.monotonic()
            if time.monotonic() - self._connected_since < self.settings['startup_delay']:
                return
            self.started = True
            self._wall_start = time.monotonic()
            self._begin_step()
            return
        if self._clock_pub is None:
            self._advance()
        elif time.monotonic() - self._waiting_since >= self.settings['plan_timeout']:
            self._late_steps += 1
            self.get_logger().warning(
                f't = {self.sim.time:.1f} s: {self._fresh_plans()}/{len(self.ids)} plans for this '
                f"step after plan_timeout {self.settings['plan_timeout']:g} s; following the "
                'latest plans', throttle_duration_sec=5.0)
            self._advance()

    def _advance(self) -> None:
        """Apply the latest plans for one step, then publish the next step's state."""
        if self._clock_pub is not None:
            self.recorder.record_cycle({}, time.monotonic() - self._waiting_since)
        self._step()
        if self.recorder.finished:
            self.finish()
            return
        self._begin_step()

    def _begin_step(self) -> None:
        self._publish_state()
        if self._clock_pub is not None and self.settings['clock_delay'] > 0:
            time.sleep(self.settings['clock_delay'])
        self._publish_clock()
        self._waiting_since = time.monotonic()
        self._progress()

    def _fresh_plans(self) -> int:
        now_ns = self._start_ns + self.sim.step_count * self._dt_ns
        fresh = 0
        for plan in self._plans.values():
            stamp = plan.header.stamp
            if abs(stamp.sec * 10 ** 9 + stamp.nanosec - now_ns) < 1000:
                fresh += 1
        return fresh

    def _step(self) -> None:
        now = self._sim_time()
        commands = np.zeros((len(self.ids), 3))
        nonfinite = 0
        for k, agent in enumerate(self.ids):
            plan = self._plans.get(agent)
            if plan is None:
                continue
            command = interpolated_command(plan, self._measured[k], now + self.dt, self.dt)
            if command is None or not np.all(np.isfinite(command)):
                nonfinite += 1
                continue
            commands[k] = command
        self.recorder.nonfinite += nonfinite
        command = torch.as_tensor(commands, dtype=torch.float64)
        self.sim.apply(command)
        self.recorder.record_step(command)
        positions = self.sim.positions
        pairs, _, _ = collisions(positions[None], self.sim.radii)
        self._colliding.update(tuple(p) for p in pairs.tolist())

    def _progress(self, final: bool = False) -> None:
        period = self.settings['progress_period']
        if not self.context.ok():
            return
        if not final and (period <= 0 or time.monotonic() - self._last_progress < period):
            return
        self._last_progress = time.monotonic()
        wall = time.monotonic() - self._wall_start
        at_goal = int(self.sim.at_goal().sum())
        self.get_logger().info(
            f't = {self.sim.time:6.1f} s | at goal {at_goal:3d}/{len(self.ids)} | colliding pairs '
            f'{len(self._colliding)} | planner cycle {self._cycle_ms:5.1f} ms | '
            f'{self.sim.time / max(wall, 1e-9):4.1f}x real time')

    @property
    def finished(self) -> bool:
        """Return whether the episode ended and the node should exit (``exit_on_finish``)."""
        return self.done and self.settings['exit_on_finish']

    def on_interrupt(self) -> None:
        """Report what was simulated when stopped mid-episode."""
        if self.started and not self.done:
            self.recorder.end_reason = 'interrupted'
            self.finish()

    def _say(self, text: str) -> None:
        # After Ctrl-C the context is shut down and the logger cannot reach /rosout.
        if self.context.ok():
            self.get_logger().info(text)
        else:
            print(text, file=sys.stderr)

    def finish(self) -> None:
        """Log the episode's metrics and write them (and the PNG) to ``output_dir``."""
        self.done = True
        self._progress(final=True)
        episode = self.recorder.episode('ros')
        metrics = compute_metrics(episode)
        metrics['late_steps'] = self._late_steps
        metrics['wall_time_s'] = time.monotonic() - self._wall_start
        self.metrics = metrics
        keys = ('end_reason', 'success', 'agents_at_goal_rate', 'colliding_pairs',
                'min_separation_m', 'obstacle_collisions', 'makespan_s', 'makespan_ratio',
                'late_steps', 'wall_time_s')
        lines = [f'  {key:22s} {metrics[key]}' for key in keys]
        self._say('episode finished:\n' + '\n'.join(lines))
        if self.settings['output_dir']:
            directory = Path(self.settings['output_dir'])
            directory.mkdir(parents=True, exist_ok=True)
            clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in metrics.items()}
            (directory / 'metrics.json').write_text(json.dumps(clean, indent=2) + '\n')
            figure = plot_episode(
                episode, directory / 'trajectories.png', self._beliefs,
                title=(f'{self.instance.name}, {len(self.ids)} agents over ROS 2: '
                       f"{metrics['colliding_pairs']} colliding pairs, makespan "
                       f"{metrics['makespan_s']:.1f} s"))
            self._say(f'wrote {directory / "metrics.json"} and {figure}')


def main(args=None) -> int:
    """Run the simulation node; return 0 when the episode finished, 2 on a bad setup."""
    return run_node(SimNode, 'enbp_sim', args)


if __name__ == '__main__':
    sys.exit(main())
