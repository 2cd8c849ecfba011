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
One description of a node graph, read by ``ros2 launch`` and by ``enbp-launch``.

A launch file of this package declares its graph as data, ``ARGUMENTS`` (a tuple of
:class:`Argument`) and ``NODES`` (a tuple of :class:`NodeSpec`), and its
``generate_launch_description()`` returns :func:`to_launch_description` of them. The
``launch`` packages are imported only inside that function, so on a machine without them
(PyPI wheels have none) :mod:`enbp_ros.launcher` reads the same data and starts the same
processes. There is no second list that could drift.
"""

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

__all__ = ['Argument', 'NodeSpec', 'to_launch_description']


@dataclass(frozen=True)
class Argument:
    """
    A launch argument (``name:=value`` for ``ros2 launch``, ``--name value`` for enbp-launch).

    Attributes
    ----------
    name : str
        Argument name.
    default : str
        Default value, as text (launch arguments are text; parameters parse it as YAML).
    description : str
        Help text.

    """

    name: str
    default: str
    description: str


@dataclass(frozen=True)
class NodeSpec:
    """
    A node process.

    Attributes
    ----------
    executable : str
        Executable of ``package`` (``lib/<package>/<executable>``; a console script of
        ``setup.py`` for this package).
    package : str
        ROS package.
    name : str
        Node name (``__node:=``); the executable's default name if empty.
    parameters_file : str
        File under the package's ``config/`` loaded with ``--params-file`` ('' for none).
    arguments : dict
        Parameter name to launch-argument name: the parameter takes the argument's value.
    parameters : dict
        Fixed parameter values.
    ros_arguments : tuple of str
        Extra command-line arguments before ``--ros-args``; ``{config}/x`` names a file
        under the package's ``config/``.
    condition : str
        Launch argument that must be ``true`` for the node to start ('' for always).
    required : bool
        When this node exits, the whole graph shuts down (``on_exit=Shutdown()``).

    """

    executable: str
    package: str = 'enbp'
    name: str = ''
    parameters_file: str = ''
    arguments: Dict[str, str] = field(default_factory=dict)
    parameters: Dict[str, object] = field(default_factory=dict)
    ros_arguments: Tuple[str, ...] = ()
    condition: str = ''
    required: bool = False

    def arguments_used(self) -> Tuple[str, ...]:
        """Return the launch arguments this node reads."""
        used = tuple(self.arguments.values())
        return used + ((self.condition,) if self.condition else ())


def to_launch_description(arguments: Tuple[Argument, ...], nodes: Tuple[NodeSpec, ...],
                          share: Optional[str] = None):
    """
    Return a ``launch.LaunchDescription`` of ``arguments`` and ``nodes`` (needs ``launch_ros``).

    ``share`` overrides the package share folder (by default ``FindPackageShare('enbp')``).
    """
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, Shutdown
    from launch.conditions import IfCondition
    from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
    from launch_ros.actions import Node
    from launch_ros.substitutions import FindPackageShare

    root = share if share is not None else FindPackageShare('enbp')
    actions = [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description)
               for a in arguments]
    for spec in nodes:
        parameters = []
        if spec.parameters_file:
            parameters.append(PathJoinSubstitution([root, 'config', spec.parameters_file]))
        values = dict(spec.parameters)
        values.update({key: LaunchConfiguration(arg) for key, arg in spec.arguments.items()})
        if values:
            parameters.append(values)
        extra = [PathJoinSubstitution([root, 'config', a[len('{config}/'):]])
                 if a.startswith('{config}/') else a for a in spec.ros_arguments]
        options = {}
        if spec.name:
            options['name'] = spec.name
        if spec.condition:
            options['condition'] = IfCondition(LaunchConfiguration(spec.condition))
        if spec.required:
            options['on_exit'] = Shutdown()
        actions.append(Node(package=spec.package, executable=spec.executable,
                            parameters=parameters, arguments=extra, output='screen',
                            **options))
    return LaunchDescription(actions)
