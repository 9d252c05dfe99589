"""The deployment files: docker-compose.yml, .env.example, Dockerfile, .dockerignore.

There is no Docker engine here, so the compose file is validated against the Compose
Specification's JSON schema (the copy check-jsonschema ships, a dev dependency), plus
what this project requires of it (issue 5 point 8). tests/test_scheduler_celery.py runs
the same services natively.
"""

from __future__ import annotations

import copy
import json
import re
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = {name for name in SERVICES if name.startswith("airflow-")}
LONG_RUNNING = set(SERVICES) - {"airflow-init"}
# ${VAR}, ${VAR:-default}, ${VAR:?error}; $${VAR} is the container's own, not compose's
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def _schema() -> dict:
    path = files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _errors(document: dict) -> list[str]:
    schema = _schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_matches_the_compose_specification() -> None:
    assert _errors(COMPOSE) == []


def test_the_schema_check_rejects_a_broken_file() -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["redis"]["healthcheck"]["interval"] = ["10s"]  # must be a string
    broken["services"]["redis"]["restart_policy"] = "always"  # no such key
    errors = _errors(broken)
    assert len(errors) == 2, errors


def test_the_celery_stack_is_complete() -> None:
    assert set(SERVICES) == {
        "postgres", "redis", "mailpit", "airflow-init", "airflow-api-server",
        "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
    }  # fmt: skip
    for name in AIRFLOW_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/"), name
        assert env["AIRFLOW_CONN_KA_WAREHOUSE"].startswith("postgresql://"), name
        assert env["AIRFLOW_CONN_SMTP_DEFAULT"].startswith(
            "${AIRFLOW_CONN_SMTP_DEFAULT:-smtp://mailpit:1025"
        )
        assert env["KA_HOME"] == "/opt/airflow/ka-data"
    assert SERVICES["airflow-worker"]["command"] == ["celery", "worker"]


def test_init_migrates_and_creates_the_pool() -> None:
    init = SERVICES["airflow-init"]
    script = " ".join(init["command"])
    assert "airflow db migrate" in script
    assert 'airflow pools set ka_warehouse ${KA_POOL_SLOTS:-4} "' in script
    assert "ka-pipeline migrate" in script
    assert init["restart"] == "no"
    for name in AIRFLOW_SERVICES - {"airflow-init"}:  # every service waits for it
        assert SERVICES[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }, name


def test_long_running_services_have_healthchecks() -> None:
    for name in LONG_RUNNING:
        check = SERVICES[name].get("healthcheck")
        assert check and check["test"] and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_images_are_pinned_and_airflow_runs_as_the_uid() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest", f"{name}: {image} is not pinned"
    for name in AIRFLOW_SERVICES:
        assert SERVICES[name]["user"] == "${AIRFLOW_UID:-50000}:0", name
        assert "./data:/opt/airflow/ka-data" in SERVICES[name]["volumes"], name


def test_secrets_come_from_env_and_every_variable_is_documented() -> None:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(VARIABLE.findall(text))
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.M))
    assert used == documented, (used - documented, documented - used)
    for secret in ("POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET"):
        assert f"${{{secret}:?" in text  # compose refuses to start without it
    assert not re.search(r"(?im)^\s*\w*password:\s+[^$\s]", text)  # no literal password
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()


def test_dockerfile_extends_the_airflow_image_as_airflow_without_dev_tools() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    (airflow_pin,) = re.findall(r"^apache-airflow==(\S+)$", lock, flags=re.M)
    assert f"ARG AIRFLOW_IMAGE=apache/airflow:{airflow_pin}-python3.11" in dockerfile
    assert "USER root" not in dockerfile and "USER airflow" in dockerfile
    assert "-r /tmp/requirements.lock" in dockerfile and "requirements-dev" not in dockerfile
    assert " -e " not in dockerfile and "--no-deps /tmp/dist/*.whl" in dockerfile
    for dev_tool in ("pytest", "ruff", "aiosmtpd", "check-jsonschema"):
        assert not re.search(rf"^{dev_tool}==", lock, flags=re.M), dev_tool


@pytest.mark.parametrize("path", [".venv", "data", ".git", ".env", "**/__pycache__", "tests"])
def test_dockerignore_keeps_the_build_context_small(path: str) -> None:
    assert path in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
