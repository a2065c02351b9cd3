"""What every benchmark needs before it imports the project, written once.

Run as a script (``python benchmarks/relevance.py``), a benchmark's own folder comes first on
``sys.path``, and its siblings would hide the packages of the same name
(``benchmarks/relevance.py`` the ``relevance`` package, ``benchmarks/extraction.py`` the
``extraction`` package). Importing this module puts the repository root first instead and
the folder last. Each benchmark starts with::

    try:  # the repository root is on sys.path (python -m benchmarks.x, tests)
        from benchmarks._setup import DEFAULT_AEB, ROOT
    except ModuleNotFoundError:  # python benchmarks/x.py: only this folder is
        from _setup import DEFAULT_AEB, ROOT
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the folder goes last, not away: behind the root it hides nothing, and a script's spawned
# worker processes (multiprocessing), started with this sys.path, can still import it
_here = [p for p in sys.path if Path(p or ".").resolve() == ROOT / "benchmarks"]
sys.path[:] = [str(ROOT), *(p for p in sys.path if p not in _here), *_here]

AEB = Path("shared", "benchmarks", "aeb")
# ``../shared/benchmarks/aeb`` from the repository root; from a git worktree nested one level
# deeper (``/work/wt/issueN``), the nearest ancestor that has it.
DEFAULT_AEB = next((d / AEB for d in ROOT.parents if (d / AEB).is_dir()), ROOT.parent / AEB)
