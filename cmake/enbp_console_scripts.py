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
Print the console scripts declared in setup.py, one ``name module function`` a line.

``setup.py`` is the single list of the package's executables. ``CMakeLists.txt`` runs this
script at configure time to install one launcher per console script under ``lib/enbp``,
so that ``ros2 run enbp <name>`` and the pip entry point start the same function.

The list is read with :mod:`ast` from the module-level ``CONSOLE_SCRIPTS`` assignment,
without running ``setup.py`` (which would need setuptools and have side effects).
"""

import ast
import re
import sys

_ENTRY = re.compile(
    r'^\s*(?P<name>[A-Za-z0-9_.-]+)\s*=\s*'
    r'(?P<module>[A-Za-z_][A-Za-z0-9_.]*)\s*:\s*(?P<function>[A-Za-z_][A-Za-z0-9_]*)\s*$')


def read_console_scripts(setup_py):
    """
    Return the console scripts that ``setup_py`` declares.

    Parameters
    ----------
    setup_py : str
        Path of the ``setup.py`` file, which must assign a list of
        ``'name = module:function'`` strings to ``CONSOLE_SCRIPTS`` at module level.

    Returns
    -------
    list of tuple of str
        ``(name, module, function)`` for each entry, in the order of the file.

    Raises
    ------
    ValueError
        If there is no ``CONSOLE_SCRIPTS`` assignment or an entry is malformed.

    """
    with open(setup_py, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=setup_py)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'CONSOLE_SCRIPTS' for t in node.targets):
            entries = ast.literal_eval(node.value)
            break
    else:
        raise ValueError(f'{setup_py}: no module-level CONSOLE_SCRIPTS assignment')
    scripts = []
    for entry in entries:
        match = _ENTRY.match(entry) if isinstance(entry, str) else None
        if match is None:
            raise ValueError(f'{setup_py}: malformed console script {entry!r}')
        scripts.append((match['name'], match['module'], match['function']))
    return scripts


def main(argv=None):
    """Print the console scripts of the ``setup.py`` given as the only argument."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print('usage: enbp_console_scripts.py SETUP_PY', file=sys.stderr)
        return 2
    for name, module, function in read_console_scripts(argv[0]):
        print(name, module, function)
    return 0


if __name__ == '__main__':
    sys.exit(main())
