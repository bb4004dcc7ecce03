#!/usr/bin/env python3
"""Judges Autobahn reports.

Autobahn's own verdict: every case's behavior and behaviorClose must be OK or INFORMATIONAL
(NON-STRICT, FAILED and UNIMPLEMENTED fail). Our stricter check on top: Autobahn scores a
connection dropped without a close frame as OK, we do not, so every case must also have
closed cleanly (wasClean) with a close frame from our side carrying a code whenever
Autobahn's own close frame carried one.

Prints the counts per side and every case that fails; exits 1 if any does."""
import json
import os
import sys
from collections import Counter

PASSING = {"OK", "INFORMATIONAL"}


def case_key(case_id):
    return [int(part) for part in case_id.split(".")]


def judge(path):
    with open(path) as f:
        report = json.load(f)
    failures = 0
    for agent, cases in sorted(report.items()):
        behavior = Counter(c["behavior"] for c in cases.values())
        closing = Counter(c["behaviorClose"] for c in cases.values())
        unclean = 0
        for case_id, case in sorted(cases.items(), key=lambda kv: case_key(kv[0])):
            problems = []
            if case["behavior"] not in PASSING:
                problems.append(f"behavior {case['behavior']}")
            if case["behaviorClose"] not in PASSING:
                problems.append(f"behaviorClose {case['behaviorClose']}")
            detail_path = os.path.join(os.path.dirname(path), case["reportfile"])
            with open(detail_path) as f:
                detail = json.load(f)
            if not detail.get("wasClean"):
                problems.append(f"not clean: {detail.get('wasNotCleanReason')}")
            elif detail.get("localCloseCode") is not None and detail.get("remoteCloseCode") is None:
                problems.append("no close code from our side")
            if len(problems) > (case["behavior"] not in PASSING) + (case["behaviorClose"] not in PASSING):
                unclean += 1
            if problems:
                failures += 1
                print(f"  case {case_id}: " + "; ".join(problems))
        print(f"{path}: agent {agent}: {len(cases)} cases; behavior {dict(sorted(behavior.items()))}; "
              f"behaviorClose {dict(sorted(closing.items()))}; unclean or codeless closes: {unclean}")
        if not cases:
            failures += 1
            print("  no cases ran")
    return failures


if __name__ == "__main__":
    total = sum(judge(path) for path in sys.argv[1:])
    if total:
        print(f"{total} case(s) not OK")
        sys.exit(1)
    print("all cases OK or INFORMATIONAL, every close clean")
