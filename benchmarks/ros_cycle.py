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
Cost of the ROS layer: a belief-node cycle against the bare planning cycle, same scenes.

Run ``.venv/bin/python benchmarks/ros_cycle.py`` (``make bench`` runs it too). For each N,
a circle scenario is driven by the headless simulator; every control cycle the scene is
turned into ``PoseWithCovarianceStamped`` and goal messages, given to a real
:class:`enbp_ros.belief_node.BeliefNode` (its callbacks called in process; publishers are
real, on an isolated domain with no subscriber), and its cycle is timed: validation,
velocity estimation, planning, mixture beliefs, message building and publishing. The
baseline is :meth:`BeliefPlanner.solve` alone on the scene the node built, timed in the
same loop. The ratio is the price of the ROS layer. DDS transport is not included (no
subscriber); the end-to-end demo reports real-time factors for that.
"""

import argparse
import statistics
import sys
import time

from enbp_core.planning import BeliefPlanner
from enbp_core.sim import load_scenario
from enbp_ros import outputs
from enbp_ros.belief_node import BeliefNode
from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped
import numpy as np
import rclpy
from rclpy.parameter import Parameter
import torch


def _messages(scene, stamp):
    poses, goals = [], []
    covariance = np.zeros((6, 6))
    covariance[:3, :3] = scene.covariances[0, :3, :3].numpy()
    covariance[3:, 3:] = 1e-2 * np.eye(3)
    flat = [float(v) for v in covariance.reshape(-1)]
    for position, goal in zip(scene.positions.numpy(), scene.goals.numpy()):
        pose = PoseWithCovarianceStamped()
        pose.header.frame_id, pose.header.stamp = 'map', outputs.to_stamp(stamp)
        p = pose.pose.pose.position
        p.x, p.y, p.z = (float(v) for v in position)
        pose.pose.pose.orientation.w = 1.0
        pose.pose.covariance = flat
        target = PoseStamped()
        target.header.frame_id = 'map'
        target.pose.position.x, target.pose.position.y, target.pose.position.z = (
            float(v) for v in goal)
        target.pose.orientation.w = 1.0
        poses.append(pose)
        goals.append(target)
    return poses, goals


def measure(num_agents: int, cycles: int, context) -> dict:
    """Return median and p95 (ms) of node cycles and bare planner cycles, and their ratio."""
    node = BeliefNode(context=context, parameter_overrides=[
        Parameter('num_agents', value=num_agents), Parameter('use_sim_time', value=True)])
    node._now = lambda: None  # driven by the simulator's stamps, not by a clock
    bare = BeliefPlanner(node.config, name='bare')
    sim = load_scenario('circle', num_agents, seed=0).simulator()
    node_ms, bare_ms = [], []
    for k in range(cycles):
        scene = sim.measure()
        poses, goals = _messages(scene, 1.0 + 0.1 * k)
        started = time.perf_counter()
        for agent, pose, goal in zip(node.table.ids, poses, goals):
            node._on_pose(agent, pose)
            node._on_goal(agent, goal)
        node._cycle()
        node_ms.append(1e3 * (time.perf_counter() - started))
        built = node.table.scene(None, node.settings['agent_radius'],
                                 node.settings['max_speed'], node.obstacles)
        started = time.perf_counter()
        bare.solve(built)
        bare_ms.append(1e3 * (time.perf_counter() - started))
        sim.apply(node.planner.last.plan.velocities)
    node.destroy_node()
    node_ms, bare_ms = node_ms[5:], bare_ms[5:]  # warm-up

    def p95(values):
        return float(np.percentile(values, 95))
    return {'N': num_agents, 'node_median': statistics.median(node_ms), 'node_p95': p95(node_ms),
            'bare_median': statistics.median(bare_ms), 'bare_p95': p95(bare_ms),
            'ratio': statistics.median(node_ms) / statistics.median(bare_ms)}


def main(argv=None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].strip())
    parser.add_argument('--agents', type=int, nargs='+', default=[16, 50])
    parser.add_argument('--cycles', type=int, default=150,
                        help='control cycles per N (the circle swap takes about 400)')
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=101)
    print(f'{"N":>4}  {"node ms (median / p95)":>24}  {"bare planner ms":>18}  {"ratio":>6}')
    try:
        for n in args.agents:
            row = measure(n, args.cycles, context)
            print(f"{row['N']:>4}  {row['node_median']:>11.1f} / {row['node_p95']:<10.1f}  "
                  f"{row['bare_median']:>7.1f} / {row['bare_p95']:<7.1f}  {row['ratio']:>6.2f}")
    finally:
        rclpy.shutdown(context=context)
    print('torch threads: 1 (the node default); ratio = node median / bare planner median')
    return 0


if __name__ == '__main__':
    sys.exit(main())
