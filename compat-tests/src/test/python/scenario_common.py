"""What every *_scenarios.py script shares: its arguments, the wait deadline, check() and the dispatch.

Usage of a script: /usr/bin/python3 SCRIPT BOOTSTRAP SCENARIO TOPIC_PREFIX
It prints "PASS <scenario>: <details>" and exits 0, or raises (traceback, exit 1).
"""
import sys

BOOTSTRAP, SCENARIO, PREFIX = sys.argv[1], sys.argv[2], sys.argv[3]
DEADLINE_S = 30


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def run(script_globals):
    """Runs the script's scenario_<SCENARIO> function and reports its result as the Java side expects."""
    result = script_globals["scenario_" + SCENARIO.replace("-", "_")]()
    print("PASS %s: %s" % (SCENARIO, result))
