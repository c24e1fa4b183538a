"""Follows invalid device strings from their literals to the calls that parse them.

    values.py       origins, the hops they take, the state of one program point
    scopes.py       which names a scope binds; nested scopes; self parameters
    frame.py        the interpreter of one scope, built from:
      statements.py   assignments, branches, loops, try, match
      expressions.py  values, calls, sinks
      refine.py       what a test says about a value
    engine.py       one file: every scope, calls into the project, classes, importers
"""

from devicelint.follow.engine import DeviceMapUse, Flow, Follower
from devicelint.follow.values import Origin

__all__ = ["DeviceMapUse", "Flow", "Follower", "Origin"]
