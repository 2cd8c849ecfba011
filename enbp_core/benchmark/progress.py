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
A dependency-free progress display for long benchmark runs.

On a terminal (the stream is a TTY) one status line is rewritten in place after
a carriage return: a bar over all runs, the current run and its simulated time. Else
(a log file, CI) it prints one plain line per finished run and nothing in
between.
"""

import sys
import time
from typing import Optional, TextIO

__all__ = ['Progress']


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class Progress:
    """
    Progress over ``total`` runs.

    Parameters
    ----------
    total : int
        Number of runs.
    stream : file, optional
        Where to write; ``sys.stderr`` by default.
    enabled : bool
        False writes nothing (``--quiet``).
    interactive : bool, optional
        Rewrite one line in place; default: whether ``stream`` is a TTY.
    width : int
        Characters of the bar.

    """

    def __init__(self, total: int, stream: Optional[TextIO] = None, enabled: bool = True,
                 interactive: Optional[bool] = None, width: int = 24):
        self.total = max(1, total)
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        if interactive is None:
            interactive = bool(getattr(self.stream, 'isatty', lambda: False)())
        self.interactive = interactive
        self.width = width
        self.started = time.monotonic()
        self.done = 0
        self.label = ''
        self._last_draw = 0.0
        self._last_length = 0

    def _draw(self, fraction_of_run: float, detail: str) -> None:
        fraction = min(1.0, (self.done + fraction_of_run) / self.total)
        filled = int(round(fraction * self.width))
        bar = '#' * filled + '-' * (self.width - filled)
        text = (f'[{bar}] {self.done}/{self.total} {self.label} {detail} '
                f'elapsed {_clock(time.monotonic() - self.started)}')
        pad = max(0, self._last_length - len(text))
        self.stream.write('\r' + text + ' ' * pad)
        self.stream.flush()
        self._last_length = len(text)

    def start(self, label: str) -> None:
        """Announce the run that starts now."""
        self.label = label
        if self.enabled and self.interactive:
            self._draw(0.0, '')

    def update(self, sim_time: float, time_limit: float) -> None:
        """Show the simulated time of the current run (at most 10 redraws per second)."""
        if not (self.enabled and self.interactive):
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self._draw(min(1.0, sim_time / max(time_limit, 1e-9)),
                   f't={sim_time:.1f}/{time_limit:.0f} s')

    def finish(self, summary: str) -> None:
        """Record the end of the current run with a one-line summary."""
        self.done += 1
        if not self.enabled:
            return
        if self.interactive:
            self._draw(0.0, summary)
        else:
            self.stream.write(f'[{self.done}/{self.total}] {self.label}: {summary}\n')
            self.stream.flush()

    def close(self) -> None:
        """End the in-place line."""
        if self.enabled and self.interactive and self._last_length:
            self.stream.write('\n')
            self.stream.flush()
            self._last_length = 0
