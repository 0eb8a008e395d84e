"""Cold-start and memory report for one Lambda function, from CloudWatch Logs Insights.

Usage:
    python cold_start_report.py --function platform-docs-prod-summarize --hours 24
    python cold_start_report.py --log-group /custom/log/group --hours 6 --json-logs

Prints invocations, cold-start rate, init duration (avg/p95/max), duration p50/p95,
and memory used vs provisioned. Works for text log format (REPORT lines, the default)
and, with --json-logs, for functions using the JSON log format (platform.report records).
Needs boto3 and logs:StartQuery / logs:GetQueryResults on the log group.
"""

from __future__ import annotations

import argparse
import sys
import time

import boto3

TEXT_QUERY = """
filter @type = "REPORT"
| stats count(*) as invocations,
        count(@initDuration) as coldStarts,
        avg(@initDuration) as avgInitMs,
        pct(@initDuration, 95) as p95InitMs,
        max(@initDuration) as maxInitMs,
        pct(@duration, 50) as p50DurationMs,
        pct(@duration, 95) as p95DurationMs,
        max(@memorySize / 1000000) as memorySizeMB,
        max(@maxMemoryUsed / 1000000) as maxMemoryUsedMB
"""

JSON_QUERY = """
filter type = "platform.report"
| stats count(*) as invocations,
        count(record.metrics.initDurationMs) as coldStarts,
        avg(record.metrics.initDurationMs) as avgInitMs,
        pct(record.metrics.initDurationMs, 95) as p95InitMs,
        max(record.metrics.initDurationMs) as maxInitMs,
        pct(record.metrics.durationMs, 50) as p50DurationMs,
        pct(record.metrics.durationMs, 95) as p95DurationMs,
        max(record.metrics.memorySizeMB) as memorySizeMB,
        max(record.metrics.maxMemoryUsedMB) as maxMemoryUsedMB
"""


def run_query(
    client, log_group: str, query: str, hours: float, timeout_s: float = 120.0
) -> dict[str, str]:
    end = int(time.time())
    start = end - int(hours * 3600)
    query_id = client.start_query(
        logGroupName=log_group, startTime=start, endTime=end, queryString=query
    )["queryId"]
    deadline = time.monotonic() + timeout_s
    while True:
        result = client.get_query_results(queryId=query_id)
        status = result["status"]
        if status == "Complete":
            rows = result["results"]
            return {cell["field"]: cell["value"] for cell in rows[0]} if rows else {}
        if status in ("Failed", "Cancelled", "Timeout", "Unknown"):
            raise RuntimeError(f"query {query_id} ended with status {status}")
        if time.monotonic() > deadline:
            client.stop_query(queryId=query_id)
            raise RuntimeError(f"query {query_id} did not finish in {timeout_s:.0f} s")
        time.sleep(1.0)


def as_float(row: dict[str, str], key: str) -> float | None:
    value = row.get(key)
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.0f}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--function", help="function name (log group /aws/lambda/<name>)")
    target.add_argument("--log-group", help="explicit log group name")
    parser.add_argument("--hours", type=float, default=24.0, help="look-back window (default 24)")
    parser.add_argument(
        "--json-logs", action="store_true", help="function uses the JSON log format"
    )
    parser.add_argument("--region", default=None)
    args = parser.parse_args()

    log_group = args.log_group or f"/aws/lambda/{args.function}"
    client = boto3.client("logs", region_name=args.region)
    row = run_query(client, log_group, JSON_QUERY if args.json_logs else TEXT_QUERY, args.hours)

    invocations = as_float(row, "invocations") or 0.0
    if invocations == 0:
        hint = "" if args.json_logs else " (JSON log format? try --json-logs)"
        print(f"{log_group}: no invocation reports in the last {args.hours:g} h{hint}")
        return 1

    cold = as_float(row, "coldStarts") or 0.0
    size = as_float(row, "memorySizeMB")
    used = as_float(row, "maxMemoryUsedMB")
    print(f"{log_group}, last {args.hours:g} h")
    print(f"  invocations       {invocations:,.0f}")
    print(f"  cold starts       {cold:,.0f} ({100.0 * cold / invocations:.1f}%)")
    print(
        "  init duration     avg {} / p95 {} / max {}".format(
            fmt(as_float(row, "avgInitMs"), " ms"),
            fmt(as_float(row, "p95InitMs"), " ms"),
            fmt(as_float(row, "maxInitMs"), " ms"),
        )
    )
    print(
        "  duration          p50 {} / p95 {}".format(
            fmt(as_float(row, "p50DurationMs"), " ms"), fmt(as_float(row, "p95DurationMs"), " ms")
        )
    )
    print(f"  memory            max used {fmt(used, ' MB')} of {fmt(size, ' MB')}")
    if size and used and used > 0.8 * size:
        print("  -> memory above 80% of the limit: raise it before it runs out")
    elif size and used and used < 0.3 * size:
        print("  -> memory mostly unused: if it waits on Bedrock, a smaller size may be cheaper")
    return 0


if __name__ == "__main__":
    sys.exit(main())
