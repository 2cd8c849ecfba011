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
The pip face of the ``enbp`` ROS 2 package.

``pip install -e .`` installs the Python packages ``enbp_core`` (the PyTorch library, no ROS)
and ``enbp_ros`` (the rclpy nodes) with their console entry points. ``CMakeLists.txt`` is the
ROS face of the same code: it installs the same packages with ament_cmake_python, generates
the ``enbp.msg`` interfaces, and installs one launcher per entry of ``CONSOLE_SCRIPTS`` under
``lib/enbp`` (it reads the list below with ``cmake/enbp_console_scripts.py``), so there is
one list of executables.

The name and version must agree with ``package.xml``; ``test/test_packaging.py`` checks it.
"""

from setuptools import find_packages
from setuptools import setup

NAME = 'enbp'
VERSION = '0.1.0'

# The single list of executables: pip entry points here, and launchers under lib/enbp
# generated from it by CMakeLists.txt. Keep one 'name = module:function' string per entry.
CONSOLE_SCRIPTS = [
    'enbp-bench = enbp_core.benchmark.cli:main',
    'enbp-demo = enbp_core.demo:main',
    'enbp-launch = enbp_ros.launcher:main',
    'enbp-train = enbp_core.nn.train:main',
    'enbp_belief = enbp_ros.belief_node:main',
    'enbp_sim = enbp_ros.sim_node:main',
]

setup(
    name=NAME,
    version=VERSION,
    description=(
        'Equivariant neural belief propagation for multi-agent planning and pose '
        'inference, with ROS 2 nodes.'),
    author='The ENBP-ROS Authors',
    license='Apache-2.0',
    license_files=['LICENSE'],
    packages=find_packages(
        include=['enbp_core', 'enbp_core.*', 'enbp_ros', 'enbp_ros.*']),
    # The trained message-model weights ship inside the package and load by default.
    package_data={'enbp_core.nn': ['weights/*.pt']},
    python_requires='>=3.10',
    # Ranges here, exact pins in requirements/*.txt. torch is pinned there because an
    # unpinned torch pulls a multi-GB CUDA build on machines that have no local CPU wheel.
    install_requires=[
        'e3nn>=0.5',
        'numpy>=1.24',
        'pyyaml>=5.4',
        'scipy>=1.10',
        'torch>=2.1',
        'transforms3d>=0.4',
    ],
    extras_require={
        'bench': ['matplotlib>=3.5', 'pyrvo>=0.4'],
        'test': ['hypothesis', 'pytest'],
    },
    entry_points={
        'console_scripts': CONSOLE_SCRIPTS,
    },
    zip_safe=False,
)
