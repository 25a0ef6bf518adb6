"""Production logs: one JSON object per line, with Temporal's context."""

import json
import logging
import sys

from django_temporal_bridge.logs import JsonFormatter


def test_json_lines_carry_the_workflow_context():
    record = logging.makeLogRecord(
        {
            "name": "temporalio.workflow",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "Chunk of %d users failed",
            "args": (500,),
            "temporal_workflow": {"workflow_id": "batch-1", "run_id": "r1"},
        }
    )

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "Chunk of 500 users failed"
    assert entry["level"] == "INFO"
    assert entry["temporal_workflow"] == {"workflow_id": "batch-1", "run_id": "r1"}


def test_exceptions_are_part_of_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )

    entry = json.loads(JsonFormatter().format(record))

    assert "ValueError: boom" in entry["exception"]
