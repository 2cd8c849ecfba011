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
The ``main()`` every node of this package shares: start, spin, stop, exit code.

A configuration error (a parameter out of range, an unknown scenario, ...) exits with 2
and the reason on stderr; Ctrl-C or an external shutdown exits with 0. A node may define
``finished`` (a property: stop spinning when true) and ``on_interrupt()`` (called on
Ctrl-C, e.g. to save what it recorded).
"""

import sys
from typing import Callable

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

__all__ = ['run_node']


def run_node(factory: Callable[[], Node], name: str, args=None) -> int:
    """Run the node ``factory()`` until shutdown or ``node.finished``; return the exit code."""
    rclpy.init(args=args)
    node = None
    code = 0
    try:
        node = factory()
        while rclpy.ok() and not getattr(node, 'finished', False):
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        if node is not None and hasattr(node, 'on_interrupt'):
            node.on_interrupt()
    except (ValueError, ParameterException) as error:
        print(f'[{name}] configuration error: {error}', file=sys.stderr)
        code = 2
    finally:
        if node is not None:
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return code
