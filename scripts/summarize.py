#!/usr/bin/env python3
"""Sums up a test run: doctest cases from meson's test log, fuzz targets,
pytest results, and the leftover-process check; prints
"N passed, N failed, N skipped" (skipped: tests whose inputs are missing, such
as ../shared/vectors in a clone without it)."""
import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

DOCTEST = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed(?:\s*\|\s*(\d+) skipped)?")

parser = argparse.ArgumentParser()
parser.add_argument("builds", nargs="+")
parser.add_argument("--stray", default="")
parser.add_argument("--zombies", default="")
args = parser.parse_args()

passed = failed = skipped = 0
for build in args.builds:
    log = Path(build) / "meson-logs" / "testlog.json"
    if not log.exists():
        print(f"{build}: no test log (the build failed?)")
        failed += 1
        continue
    for line in log.read_text().splitlines():
        test = json.loads(line)
        ok = test["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
        match = DOCTEST.search(test.get("stdout", "") or "")
        if match:
            p, f = int(match.group(2)), int(match.group(3))
            if not ok and f == 0:
                f = 1  # crashed or timed out after its last count
            passed += p
            failed += f
            skipped += int(match.group(4) or 0)
        elif test["result"] == "SKIP":
            skipped += 1
        else:
            passed += ok
            failed += not ok
        if not ok:
            print(f"FAILED {build}: {test['name']} ({test['result']})")
    junit = Path(build) / "pytest.xml"
    if junit.exists():
        root = ET.parse(junit).getroot()
        for suite in root.iter("testsuite"):
            total = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skips = int(suite.get("skipped", 0))
            passed += total - bad - skips
            failed += bad
            skipped += skips
            for case in suite.iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    print(f"FAILED {build}: {case.get('classname')}.{case.get('name')}")

leftover = args.stray.strip() or args.zombies.strip()
if leftover:
    print("FAILED: processes left behind:\n" + args.stray + args.zombies)
    failed += 1
else:
    passed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
