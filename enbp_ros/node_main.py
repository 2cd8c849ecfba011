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
and the reason on stderr; Ctrl-C, SIGTERM or an external shutdown exits with 0, after the
callback that was running has returned. A node may define ``finished`` (a property: stop
spinning when true) and ``on_interrupt()`` (called on Ctrl-C, e.g. to save what it
recorded).
"""

import signal
import sys
import threading
from typing import Callable

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

__all__ = ['run_node']

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_node(factory: Callable[[], Node], name: str, args=None) -> int:
    """Run the node ``factory()`` until shutdown or ``node.finished``; return the exit code."""
    # Ctrl-C and SIGTERM only raise a flag, read between callbacks, and the context stays
    # valid until on_interrupt() has run. With rclpy's own handler the context was shut
    # down under a pending spin_once, which then failed taking a message (RuntimeError
    # from pybind11) and the simulator's interrupted episode lost its metrics (2 runs in 5).
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set())
                for sig in _STOP_SIGNALS}
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    code = 0
    try:
        node = factory()
        while rclpy.ok() and not stop.is_set() and not getattr(node, 'finished', False):
            rclpy.spin_once(node, timeout_sec=0.1)
    except ExternalShutdownException:
        stop.set()
    except (ValueError, ParameterException) as error:
        print(f'[{name}] configuration error: {error}', file=sys.stderr)
        code = 2
    finally:
        if node is not None:
            if stop.is_set() and hasattr(node, 'on_interrupt'):
                node.on_interrupt()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
