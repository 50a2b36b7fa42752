"""The Dockerfile and the Kubernetes CronJob, checked as far as this machine allows.

There is no Docker daemon and no cluster here, so nothing is built or applied: the files
are parsed, their command line is checked against the real ``deanalyze`` CLI's own help,
and the two files are checked against each other (same command, same non-root user).
``hadolint`` runs when it is on PATH.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CRONJOB = REPO / "deploy/kubernetes/cronjob.yaml"
EXTRAS = {"bigquery", "snowflake", "s3", "gcs", "azure"}
SECRET_ENV = re.compile(r"PASSWORD|PASSCODE|TOKEN|SECRET|PWD|ACCOUNT|USER$")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def last(instruction: str) -> str:
    return [args for name, args in dockerfile_instructions() if name == instruction][-1]


def deanalyze(*args: str) -> str:
    exe = shutil.which("deanalyze") or shutil.which("deanalyze", path=str(Path(sys.executable).parent))
    assert exe, "the deanalyze command is not installed (pip install -e .)"
    result = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"deanalyze {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(CRONJOB.read_text()) if d]
    return {d["kind"]: d for d in docs}


@pytest.fixture(scope="module")
def pod(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return manifests["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def container(pod: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod["containers"]
    return only


def test_manifest_kinds_and_no_inline_secret(manifests: dict[str, dict[str, Any]]) -> None:
    assert set(manifests) == {"ConfigMap", "PersistentVolumeClaim", "CronJob"}
    assert manifests["CronJob"]["apiVersion"] == "batch/v1"
    assert "Secret" not in manifests  # credentials are created apart, never written here


def test_cronjob_schedule_and_retries(manifests: dict[str, dict[str, Any]], pod: dict[str, Any]) -> None:
    spec = manifests["CronJob"]["spec"]
    minute, hour, day, month, weekday = spec["schedule"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit() and minute.isdigit() and hour.isdigit()
    assert spec["concurrencyPolicy"] == "Forbid"
    job = spec["jobTemplate"]["spec"]
    assert isinstance(job["backoffLimit"], int) and 0 < job["backoffLimit"] <= 5
    assert pod["restartPolicy"] == "Never"  # podFailurePolicy needs it
    for rule in job.get("podFailurePolicy", {}).get("rules", []):
        assert 3 not in rule["onExitCodes"]["values"]  # an unreadable input is worth another try


def test_command_is_a_real_deanalyze_command(container: dict[str, Any]) -> None:
    command, args = container["command"], container["args"]
    assert command == ["deanalyze"]
    subcommand, options = args[0], args[1:]
    assert re.search(rf"^\s+{subcommand}\s", deanalyze("--help"), re.M), f"no 'deanalyze {subcommand}'"
    accepted = set(re.findall(r"(--[a-z][a-z0-9-]*)", deanalyze(subcommand, "--help")))
    used = [o for o in options if o.startswith("--")]
    assert used and set(used) <= accepted, f"options the CLI does not accept: {set(used) - accepted}"
    assert "--config" in used and "--output-dir" in used


def test_dockerfile_runs_the_same_command_as_the_cronjob(container: dict[str, Any]) -> None:
    assert json.loads(last("ENTRYPOINT")) == container["command"]
    assert json.loads(last("CMD")) == container["args"]


def test_dockerfile_base_user_and_extras(pod: dict[str, Any]) -> None:
    bases = [args.split()[0] for name, args in dockerfile_instructions() if name == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.1[12]-slim(-\w+)?", b) for b in bases), bases
    user = last("USER").split(":")[0]
    assert user.isdigit() and int(user) != 0, "the image must run as a numeric, non-root user"
    assert pod["securityContext"]["runAsUser"] == int(user)
    installs = [args for name, args in dockerfile_instructions() if name == "RUN" and "pip install" in args]
    extras = {e for args in installs for m in re.findall(r"\[([a-z0-9,]+)\]", args) for e in m.split(",")}
    assert extras >= EXTRAS


def test_dockerignore_lets_the_sources_in_and_keeps_the_rest_out() -> None:
    rules = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "an allow-list: nothing reaches the build unless named"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    copied = {src.rstrip("/") for name, args in dockerfile_instructions()
              if name == "COPY" and not args.startswith("--from") for src in args.split()[:-1]}
    assert copied and copied <= allowed, f"copied but ignored: {copied - allowed}"
    assert not allowed & {"tests", ".git", "examples", "benchmarks", ".ci"}
    for path in allowed:
        assert (REPO / path).exists(), path


def test_security_context(pod: dict[str, Any], container: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]], "a writable /tmp on a read-only root"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])


def test_config_and_output_volumes(manifests: dict[str, dict[str, Any]], pod: dict[str, Any],
                                   container: dict[str, Any]) -> None:
    args = container["args"]
    config, output = Path(args[args.index("--config") + 1]), args[args.index("--output-dir") + 1]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    config_volume = volumes[mounts[str(config.parent)]["name"]]
    assert config_volume["configMap"]["name"] == manifests["ConfigMap"]["metadata"]["name"]
    assert mounts[str(config.parent)].get("readOnly") is True
    assert not mounts[output].get("readOnly")
    claim = volumes[mounts[output]["name"]].get("persistentVolumeClaim", {}).get("claimName")
    assert claim == manifests["PersistentVolumeClaim"]["metadata"]["name"]
    audit = tomllib.loads(manifests["ConfigMap"]["data"][config.name])
    names = [s["name"] for kind in ("spark", "snowflake", "bigquery") for s in audit.get(kind, [])]
    assert names and len(set(names)) == len(names)


def test_credentials_come_from_secrets(pod: dict[str, Any], container: dict[str, Any]) -> None:
    secret_mounts = {m["mountPath"] for m in container["volumeMounts"]
                     if "secret" in {v["name"]: v for v in pod["volumes"]}[m["name"]]}
    assert secret_mounts, "credentials files come from Secret volumes"
    for env in container["env"]:
        if "value" in env and SECRET_ENV.search(env["name"]):
            pytest.fail(f"{env['name']} is written in the manifest; reference a Secret")
        if "valueFrom" in env:
            assert "secretKeyRef" in env["valueFrom"] or "configMapKeyRef" in env["valueFrom"]
        if env["name"] in ("GOOGLE_APPLICATION_CREDENTIALS", "SNOWFLAKE_PRIVATE_KEY_FILE"):
            assert any(env["value"].startswith(m + "/") for m in secret_mounts), env


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not on PATH")
def test_hadolint() -> None:
    result = subprocess.run(["hadolint", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
