"""The workflow-command writer: outputs cannot be forged, annotations are escaped."""

from __future__ import annotations

import io
from pathlib import Path

from hcp_action.workflow import Workflow
from tests.helpers import parse_outputs


def test_values_cannot_forge_other_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.touch()
    workflow = Workflow(output_file=out, summary_file=None, stream=io.StringIO())
    forged = "x\nghadelimiter_0000\nami-id<<EOF\nami-forged\nEOF"
    workflow.set_outputs({"channel": forged, "ami-id": "ami-real"})
    parsed = parse_outputs(out.read_text())
    assert parsed == {"channel": forged, "ami-id": "ami-real"}


def test_annotations_escape_newlines_and_properties() -> None:
    stream = io.StringIO()
    workflow = Workflow(output_file=None, summary_file=None, stream=stream)
    workflow.error("line one\nline two 100%", title="a:b,c")
    assert stream.getvalue() == "::error title=a%3Ab%2Cc::line one%0Aline two 100%25\n"


def test_masks_are_sent_once_and_before_use() -> None:
    stream = io.StringIO()
    workflow = Workflow(output_file=None, summary_file=None, stream=stream)
    workflow.add_mask("s3cr3t")
    workflow.add_mask("s3cr3t")
    workflow.add_mask("")
    assert stream.getvalue() == "::add-mask::s3cr3t\n"
    assert workflow.masked == ("s3cr3t",)
