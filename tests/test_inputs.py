"""Bad input fails with an ::error naming the input and the fix, before any request is sent."""

from __future__ import annotations

import pytest

from tests.helpers import Harness

TEMPLATE = {"template": "jenkins.pkr.hcl"}
WIP = "iam/project/p1/service-principal/sp1/workload-identity-provider/github"

# (inputs, extra env, env to drop, the input the error must name, a word of the fix)
CASES: list[tuple[str, dict[str, str], dict[str, str], tuple[str, ...], str, str]] = [
    ("unknown command", {"command": "deploy"}, {}, (), "'command'", "build, promote"),
    (
        "bad boolean",
        {**TEMPLATE, "create-channel": "yes"},
        {},
        (),
        "'create-channel'",
        "true or false",
    ),
    ("bad dry-run", {**TEMPLATE, "dry-run": "1"}, {}, (), "'dry-run'", "true or false"),
    ("bad integer", {**TEMPLATE, "wait-timeout": "10m"}, {}, (), "'wait-timeout'", "seconds"),
    ("zero timeout", {**TEMPLATE, "wait-timeout": "0"}, {}, (), "'wait-timeout'", "seconds"),
    ("bucket too short", {**TEMPLATE, "bucket": "ab"}, {}, (), "'bucket'", "3 to 36"),
    ("bucket with dot", {**TEMPLATE, "bucket": "my.bucket"}, {}, (), "'bucket'", "3 to 36"),
    ("channel underscore", {**TEMPLATE, "channel": "dev_1"}, {}, (), "'channel'", "3 to 36"),
    ("channel latest", {**TEMPLATE, "channel": "latest"}, {}, (), "'channel'", "your own"),
    (
        "fingerprint slash",
        {**TEMPLATE, "version-fingerprint": "a/b"},
        {},
        (),
        "'version-fingerprint'",
        "1 to 40",
    ),
    (
        "fingerprint too long",
        {**TEMPLATE, "version-fingerprint": "a" * 41},
        {},
        (),
        "'version-fingerprint'",
        "1 to 40",
    ),
    (
        "fingerprint ends with dash",
        {**TEMPLATE, "version-fingerprint": "abc-"},
        {},
        (),
        "'version-fingerprint'",
        "starting and ending",
    ),
    ("missing template", {"template": "nope.pkr.hcl"}, {}, (), "'template'", ".pkr.hcl"),
    (
        "template outside workspace",
        {"template": "../x.pkr.hcl"},
        {},
        (),
        "'template'",
        "inside the repository",
    ),
    (
        "bad variables",
        {**TEMPLATE, "variables": "no-equals-sign"},
        {},
        (),
        "'variables'",
        "NAME=VALUE",
    ),
    (
        "missing var file",
        {**TEMPLATE, "var-files": "missing.pkrvars.hcl"},
        {},
        (),
        "'var-files'",
        "existing",
    ),
    ("newline in bucket", {**TEMPLATE, "bucket": "abc\ndef"}, {}, (), "'bucket'", "line breaks"),
    ("oversized channel", {**TEMPLATE, "channel": "x" * 2000}, {}, (), "'channel'", "shorten"),
    (
        "conflicting spellings",
        {**TEMPLATE, "dry-run": "true", "dry_run": "false"},
        {},
        (),
        "'dry-run'",
        "only one spelling",
    ),
    (
        "no credentials",
        TEMPLATE,
        {},
        ("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
        "'hcp-client-id'",
        "hcp-client-secret",
    ),
    ("secret without id", TEMPLATE, {}, ("HCP_CLIENT_ID",), "'hcp-client-id'", "client id"),
    (
        "id without secret",
        TEMPLATE,
        {},
        ("HCP_CLIENT_SECRET",),
        "'hcp-client-secret'",
        "secrets.HCP_CLIENT_SECRET",
    ),
    ("missing project", TEMPLATE, {}, ("HCP_PROJECT_ID",), "'hcp-project-id'", "HCP_PROJECT_ID"),
    (
        "missing organization",
        TEMPLATE,
        {},
        ("HCP_ORGANIZATION_ID",),
        "'hcp-organization-id'",
        "HCP_ORGANIZATION_ID",
    ),
    (
        "lookup without bucket",
        {"command": "lookup", "channel": "dev"},
        {},
        (),
        "'bucket'",
        "set bucket",
    ),
    (
        "lookup without selector",
        {"command": "lookup", "bucket": "jenkins-ha-ami"},
        {},
        (),
        "'channel'",
        "one of them",
    ),
    (
        "promote without source",
        {"command": "promote", "bucket": "jenkins-ha-ami", "channel": "prod"},
        {},
        (),
        "'from-channel'",
        "and/or version-fingerprint",
    ),
    (
        "promote to latest",
        {
            "command": "promote",
            "bucket": "jenkins-ha-ami",
            "channel": "latest",
            "from-channel": "dev",
        },
        {},
        (),
        "'channel'",
        "your own channel",
    ),
    (
        "promote onto itself",
        {"command": "promote", "bucket": "jenkins-ha-ami", "channel": "dev", "from-channel": "dev"},
        {},
        (),
        "'from-channel'",
        "another channel",
    ),
    (
        "rollback without channel",
        {"command": "rollback", "bucket": "jenkins-ha-ami"},
        {},
        (),
        "'channel'",
        "set channel",
    ),
    (
        "revoke without selector",
        {"command": "revoke", "bucket": "jenkins-ha-ami"},
        {},
        (),
        "'channel'",
        "one of them",
    ),
    (
        "deployment without token",
        {**TEMPLATE, "github-deployment": "true"},
        {},
        (),
        "'github-token'",
        "deployments: write",
    ),
    (
        "bad api tls",
        TEMPLATE,
        {"HCP_API_TLS": "off"},
        (),
        "'HCP_API_TLS (environment)'",
        "insecure or disabled",
    ),
    (
        "secret over plain http",
        TEMPLATE,
        {"HCP_AUTH_URL": "http://auth.example.com"},
        (),
        "'HCP_AUTH_URL (environment)'",
        "https",
    ),
    ("no fingerprint source", TEMPLATE, {}, ("GITHUB_SHA",), "'version-fingerprint'", "explicitly"),
    ("region typo", {**TEMPLATE, "region": "us east 1"}, {}, (), "'region'", "us-east-1"),
    (
        "oidc without id-token permission",
        {**TEMPLATE, "hcp-workload-identity-provider": WIP},
        {},
        ("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
        "'hcp-workload-identity-provider'",
        "id-token: write",
    ),
    (
        "oidc and a client secret",
        {**TEMPLATE, "hcp-workload-identity-provider": WIP, "hcp-client-secret": "x" * 10},
        {},
        (),
        "'hcp-workload-identity-provider'",
        "not both",
    ),
    (
        "workflow command in bucket",
        {**TEMPLATE, "bucket": "a::add-mask::b"},
        {},
        (),
        "'bucket'",
        "3 to 36",
    ),
    (
        "workflow command in component",
        {**TEMPLATE, "component": "::set-output name=x::y"},
        {},
        (),
        "'component'",
        "amazon-ebs.jenkins",
    ),
    (
        "HTTP timeout nan",
        TEMPLATE,
        {"HCP_ACTION_HTTP_TIMEOUT": "nan"},
        (),
        "'HCP_ACTION_HTTP_TIMEOUT (environment)'",
        "unset it",
    ),
    (
        "negative retry deadline",
        TEMPLATE,
        {"HCP_ACTION_RETRY_DEADLINE": "-1"},
        (),
        "'HCP_ACTION_RETRY_DEADLINE (environment)'",
        "unset it",
    ),
    (
        "unbalanced IPv6 API address",
        TEMPLATE,
        {"HCP_API_ADDRESS": "[::1"},
        (),
        "'HCP_API_ADDRESS/HCP_AUTH_URL (environment)'",
        "host:port",
    ),
    (
        "API port out of range",
        TEMPLATE,
        {"HCP_API_ADDRESS": "127.0.0.1:99999"},
        (),
        "'HCP_API_ADDRESS/HCP_AUTH_URL (environment)'",
        "host:port",
    ),
    ("superscript timeout", {**TEMPLATE, "wait-timeout": "²"}, {}, (), "'wait-timeout'", "seconds"),
    (
        "arabic-indic digits timeout",
        {**TEMPLATE, "wait-timeout": "٦٠٠"},
        {},
        (),
        "'wait-timeout'",
        "seconds",
    ),
    (
        "provider name with query",
        {**TEMPLATE, "hcp-workload-identity-provider": WIP + "?x=1"},
        {},
        (),
        "'hcp-workload-identity-provider'",
        "iam/project/",
    ),
    (
        "provider name with fragment",
        {**TEMPLATE, "hcp-workload-identity-provider": WIP + "#x"},
        {},
        (),
        "'hcp-workload-identity-provider'",
        "iam/project/",
    ),
    (
        "provider name with dot-dot",
        {
            **TEMPLATE,
            "hcp-workload-identity-provider": (
                "iam/project/p1/service-principal/../workload-identity-provider/x"
            ),
        },
        {},
        (),
        "'hcp-workload-identity-provider'",
        "iam/project/",
    ),
    (
        "bad workload provider name",
        {**TEMPLATE, "hcp-workload-identity-provider": "my-provider"},
        {},
        (),
        "'hcp-workload-identity-provider'",
        "iam/project/",
    ),
]


@pytest.mark.parametrize(
    ("inputs", "env", "drop", "names", "fix"),
    [pytest.param(i, e, d, n, f, id=case) for case, i, e, d, n, f in CASES],
)
def test_bad_input_fails_before_any_request(
    harness: Harness,
    inputs: dict[str, str],
    env: dict[str, str],
    drop: tuple[str, ...],
    names: str,
    fix: str,
    client_secret: str,
) -> None:
    run = harness.run(inputs, env, drop=drop)
    assert run.returncode == 2, run.stdout + run.stderr
    assert len(run.errors) == 1, run.stdout
    error = run.errors[0]
    assert error.startswith("::error title=Invalid input::")
    assert f"input {names}" in error
    assert fix in error
    assert harness.emulator.registry_requests() == []
    assert run.packer_calls == []
    assert run.outputs == {}
    assert client_secret not in run.everything()


def test_template_errors_are_input_errors(harness: Harness) -> None:
    """Two build blocks, no bucket, an expression bucket and broken HCL are named as such."""
    cases = {
        "two.pkr.hcl": (
            (
                'source "null" "a" {\n communicator = "none"\n}\n'
                'build {\n sources = ["source.null.a"]\n}\n'
                'build {\n sources = ["source.null.a"]\n}\n'
            ),
            "2 build blocks",
        ),
        "nobucket.pkr.hcl": (
            (
                'source "null" "a" {\n communicator = "none"\n}\n'
                'build {\n sources = ["source.null.a"]\n}\n'
            ),
            "no hcp_packer_registry",
        ),
        "expr.pkr.hcl": (
            (
                'variable "b" {\n default = "x-bucket"\n}\n'
                "hcp_packer_registry {\n bucket_name = var.b\n}\n"
                'source "null" "a" {\n communicator = "none"\n}\n'
                'build {\n sources = ["source.null.a"]\n}\n'
            ),
            "is an expression",
        ),
        "broken.pkr.hcl": ("build {\n sources = [\n", "not valid HCL2"),
    }
    for name, (text, message) in cases.items():
        (harness.workspace / name).write_text(text)
        run = harness.run({"template": name})
        assert run.returncode == 2, (name, run.stdout)
        assert any(message in e for e in run.errors), (name, run.errors)
    assert harness.emulator.registry_requests() == []


def test_underscore_spelling_is_accepted(harness: Harness) -> None:
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "dry_run": "true", "version_fingerprint": "under-score-1"}
    )
    assert run.returncode == 0, run.stdout
    assert run.outputs["version-fingerprint"] == "under-score-1"


def test_missing_packer_fails_before_any_request(harness: Harness) -> None:
    run = harness.run({"template": "jenkins.pkr.hcl"}, {"PATH": "/usr/bin:/bin"})
    assert run.returncode == 1
    assert any("'packer' was not found on PATH" in e and "setup-packer" in e for e in run.errors)
    assert harness.emulator.registry_requests() == []


@pytest.mark.parametrize("dry_run", ["false", "true"])
def test_symlink_out_of_the_workspace_is_refused_unquoted(harness: Harness, dry_run: str) -> None:
    outside = harness.tmp / "outside"
    outside.mkdir()
    secret_text = "OUTSIDE-CONTENT-7f3a = {{{ not hcl"
    (outside / "host.pkr.hcl").write_text(secret_text + "\n")
    linked = harness.workspace / "packer"
    linked.mkdir()
    (linked / "main.pkr.hcl").write_text((harness.workspace / "jenkins.pkr.hcl").read_text())
    (linked / "extra.pkr.hcl").symlink_to(outside / "host.pkr.hcl")
    run = harness.run({"template": "packer", "dry-run": dry_run})
    assert run.returncode == 2, run.stdout
    assert len(run.errors) == 1
    assert "outside the workspace" in run.errors[0]
    assert "OUTSIDE-CONTENT" not in run.everything()
    assert harness.emulator.registry_requests() == []


def test_template_channels_are_refused(harness: Harness) -> None:
    """Packer >= 1.15 would move these channels itself, unguarded (contract v2)."""
    text = (
        (harness.workspace / "jenkins.pkr.hcl")
        .read_text()
        .replace(
            'description = "Jenkins HA controller image"',
            'description = "Jenkins HA controller image"\n  channels = ["dev", "staging"]',
        )
    )
    (harness.workspace / "channels.pkr.hcl").write_text(text)
    run = harness.run({"template": "channels.pkr.hcl", "channel": "dev"})
    assert run.returncode == 2
    assert len(run.errors) == 1
    assert "channels = [dev, staging]" in run.errors[0]
    assert "channel' input" in run.errors[0]
    assert harness.emulator.registry_requests() == []
    assert run.packer_calls == []


def test_one_variable_per_line_whatever_unicode_says(harness: Harness) -> None:
    """Lines split on \\n only: a Unicode line separator stays inside the value."""
    value = "a\u2028aws_region=eu-west-1"
    run = harness.run({"template": "jenkins.pkr.hcl", "variables": f"note={value}\r\nami_name=x"})
    assert run.returncode == 0, run.stdout + run.stderr
    argv = run.packer_calls[-1]["argv"]
    variables = [argv[i + 1] for i, a in enumerate(argv) if a == "-var"]
    assert variables == [f"note={value}", "ami_name=x"]
    assert value not in run.stderr  # values are never logged
    assert "-var', 'note=…'" in run.stderr or "note=…" in run.stderr
