"""`make fuzz`: Schemathesis against the OpenAPI schema of the running app (no 5xx, responses match the schema).

Starts its own stack on free ports in a temporary folder, signs a candidate in (so authenticated routes are
reached, not just refused) and fuzzes every operation, then fuzzes the question bank as a recruiter (candidates
may not use it). Exits with Schemathesis's status.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from stack.cli import running_app
from stack.settings import load_settings
from stack.supervisor import free_port

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
MAX_EXAMPLES = "40"
REPORTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "fuzz"


def main() -> int:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            {"MOCKI_DATA_DIR": data_dir, "MOCKI_PORTS": "free", "MOCKI_API_PORT": str(free_port())}
        )
        with running_app(settings) as (_endpoints, api_url):
            token = sign_up(api_url, "candidate")
            auth = {"Authorization": f"Bearer {token}"}
            room_id = httpx.post(f"{api_url}/rooms", json={"role": "Backend Engineer"}, headers=auth).json()["room_id"]
            job = httpx.post(f"{api_url}/rooms/{room_id}/ai/message", json={"text": "Hello."}, headers=auth)
            # Real ids for the path parameters, so the fuzzer reaches the handlers, not just their 404s.
            config = Path(data_dir) / "schemathesis.toml"
            config.write_text(
                f'[parameters]\nroom_id = "{room_id}"\njob_id = "{job.json()["job_id"]}"\nquestion_id = "intro-1"\n'
            )
            everything = fuzz(api_url, config, token, REPORTS / "candidate")
            # The question bank refuses candidates outright: a recruiter reaches its handlers, at a pace its writes
            # budget allows (120 a minute), or they would mostly be answered 429.
            recruiter = sign_up(api_url, "recruiter")
            bank = fuzz(
                api_url, config, recruiter, REPORTS / "recruiter", "--include-path-regex", "^/questions",
                "--rate-limit", "110/m",
            )  # fmt: skip
            return everything or bank


def sign_up(api_url: str, role: str) -> str:
    """A new account's access token."""
    signup = httpx.post(
        f"{api_url}/auth/signup",
        json={
            "email": f"fuzz-{uuid.uuid4().hex[:8]}@fuzz.mocki.local",
            "password": "fuzzing passphrase",
            "display_name": f"Fuzz {role}",
            "role": role,
        },
    )
    signup.raise_for_status()
    return str(signup.json()["access_token"])


def fuzz(api_url: str, config: Path, token: str, reports: Path, *only: str) -> int:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", f"{api_url}/docs/openapi.json",
        "--checks", CHECKS,
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", MAX_EXAMPLES,
        "--seed", "20261121",
        "--request-timeout", "30",
        "--report", "junit",
        "--report-dir", str(reports),
        *only,
    ]  # fmt: skip
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
