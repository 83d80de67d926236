"""Type stub for the C extension `parvis/live/_sendmany.c` (see its header comment)."""

import array
from collections.abc import Sequence

def send_jobs(jobs: Sequence[tuple[array.array[int], bytes]]) -> list[list[tuple[int, int]]]:
    """Per job, the (index, result) of each send that took less than the whole payload."""
