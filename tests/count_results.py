#!/usr/bin/env python3
"""Counts meson's test log honestly, per GoogleTest case where meson ran the
binary with protocol 'gtest' (its JUnit file lies beside the build), else
per meson test. Only a case that ran and passed counts as passed; a skipped
case never does; a binary that crashed or timed out counts as failed even
when its cases that finished had passed."""
import json
import os
import sys
import xml.etree.ElementTree as ET

log_path = sys.argv[1]
build_dir = os.path.dirname(os.path.dirname(os.path.abspath(log_path)))
passed = failed = skipped = 0

with open(log_path, encoding="utf-8") as log:
    for line in log:
        line = line.strip()
        if not line:
            continue
        entry = json.loads(line)
        result = entry.get("result")
        # meson runs a protocol 'gtest' test with --gtest_output=xml:NAME.xml
        # in the build directory; a file older than this run (left by an
        # earlier run of a binary that crashed this time) is not used.
        short = entry.get("name", "").split(" / ")[-1]
        junit = os.path.join(build_dir, short + ".xml")
        if not os.path.exists(junit) or \
                os.path.getmtime(junit) + 1 < float(entry.get("starttime", 0)):
            junit = None
        case_failed = 0
        if junit and os.path.exists(junit):
            for case in ET.parse(junit).getroot().iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    case_failed += 1
                elif case.get("result") == "skipped" or case.get("status") == "notrun" \
                        or case.find("skipped") is not None:
                    skipped += 1
                else:
                    passed += 1
            failed += case_failed
            if result not in ("OK", "SKIP") and case_failed == 0:
                failed += 1  # crashed, timed out or exited non-zero after its cases
        elif result == "OK":
            passed += 1
        elif result in ("SKIP", "EXPECTEDFAIL"):
            skipped += 1
        else:
            failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
