#!/usr/bin/env python3
"""A stand-in ERP for the demo: picks up delivered export files and answers
each with an ack file (or, for the orders it is told to reject, an error
file) in the ack directory, written to a temp name first and renamed, the
way a careful ERP does it."""
import argparse
import json
import os
import sys
import time


def answer(ack_dir, name, body):
    temp = os.path.join(ack_dir, "." + name + ".tmp")
    with open(temp, "w") as f:
        json.dump(body, f)
    os.rename(temp, os.path.join(ack_dir, name))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--exports", required=True, help="the export directory to pick up from")
    p.add_argument("--acks", required=True, help="the ack directory to answer in")
    p.add_argument("--expect", type=int, required=True, help="answer this many files, then exit")
    p.add_argument("--reject", action="append", default=[],
                   help="reject orders with this external order number (repeatable)")
    p.add_argument("--timeout", type=float, default=30)
    args = p.parse_args()

    os.makedirs(args.acks, exist_ok=True)
    answered = set()
    deadline = time.monotonic() + args.timeout
    while len(answered) < args.expect:
        if time.monotonic() > deadline:
            sys.exit(f"simulated ERP: only {len(answered)} of {args.expect} files arrived")
        for name in sorted(os.listdir(args.exports)):
            if name.startswith(".") or not name.endswith(".json") or name in answered:
                continue
            with open(os.path.join(args.exports, name)) as f:
                order = json.load(f)
            stem = name[: -len(".json")]
            number = order["header"]["external_order_number"]
            if number in args.reject:
                answer(args.acks, f"error_{stem}.json",
                       {"status": "FAILED", "error_code": "ERP_VALIDATION",
                        "message": f"order {number}: unknown delivery address",
                        "processed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
                print(f"simulated ERP: rejected {number} ({name})")
            else:
                erp_id = f"SO-{len(answered) + 1:06d}"
                answer(args.acks, f"ack_{stem}.json",
                       {"status": "ACKED", "erp_order_id": erp_id,
                        "processed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
                print(f"simulated ERP: accepted {number} as {erp_id}")
            answered.add(name)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
