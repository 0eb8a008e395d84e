"""Invoke an agent on Amazon Bedrock AgentCore Runtime and print its answer.

Usage:
    python invoke_agent.py --arn RUNTIME_ARN --prompt "hello"
    python invoke_agent.py --arn RUNTIME_ARN --qualifier prod --session SESSION_ID \
        --prompt "and then?"
    python invoke_agent.py --arn RUNTIME_ARN --payload-file payload.json

Streams text/event-stream responses as they arrive; prints JSON responses when done.
The session id is printed to stderr: pass it back with --session to continue the conversation.
Needs boto3 and credentials allowed to call bedrock-agentcore:InvokeAgentRuntime.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

import boto3

MIN_SESSION_ID_LENGTH = 33


def new_session_id() -> str:
    # A UUID4 is 36 characters, above the 33-character minimum.
    return str(uuid.uuid4())


def build_payload(args: argparse.Namespace) -> bytes:
    if args.payload_file:
        with open(args.payload_file, "rb") as handle:
            return handle.read()
    return json.dumps({"prompt": args.prompt}).encode("utf-8")


def print_event_stream(body) -> None:
    for raw in body.iter_lines():
        if not raw:
            continue
        line = raw.decode("utf-8")
        if line.startswith("data: "):
            line = line[len("data: ") :]
        try:
            chunk = json.loads(line)
        except json.JSONDecodeError:
            chunk = line
        text = chunk if isinstance(chunk, str) else json.dumps(chunk)
        sys.stdout.write(text)
        sys.stdout.flush()
    sys.stdout.write("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arn", required=True, help="agent runtime ARN")
    parser.add_argument(
        "--qualifier", default=None, help="endpoint name, e.g. prod (default: DEFAULT)"
    )
    parser.add_argument("--session", default=None, help="runtime session id to continue")
    parser.add_argument("--region", default=None, help="AWS region (default: the ARN's region)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--prompt", help='sent as {"prompt": ...}')
    group.add_argument("--payload-file", help="raw JSON payload file to send as-is")
    args = parser.parse_args()

    session_id = args.session or new_session_id()
    if len(session_id) < MIN_SESSION_ID_LENGTH:
        parser.error(f"--session must be at least {MIN_SESSION_ID_LENGTH} characters")

    arn_parts = args.arn.split(":")
    if len(arn_parts) < 6 or arn_parts[0] != "arn":
        parser.error("--arn must be an ARN: arn:aws:bedrock-agentcore:REGION:ACCOUNT:runtime/ID")
    region = args.region or arn_parts[3] or None
    client = boto3.client("bedrock-agentcore", region_name=region)
    request = {
        "agentRuntimeArn": args.arn,
        "runtimeSessionId": session_id,
        "payload": build_payload(args),
        "contentType": "application/json",
    }
    if args.qualifier:
        request["qualifier"] = args.qualifier

    response = client.invoke_agent_runtime(**request)
    print(f"session: {session_id}", file=sys.stderr)

    content_type = response.get("contentType", "")
    if "text/event-stream" in content_type:
        print_event_stream(response["response"])
    else:
        raw = response["response"].read().decode("utf-8")
        try:
            print(json.dumps(json.loads(raw), indent=2))
        except json.JSONDecodeError:
            print(raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
