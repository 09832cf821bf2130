"""Work pools' base job templates and job variables, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from jupyter_flows.orchestration.schemas import (
    CreateDeployment,
    CreateDeploymentRun,
    CreateWorkPool,
    UpdateDeployment,
    UpdateWorkPool,
)
from jupyter_flows.orchestration.service import OrchestrationService


def _deploy(service: OrchestrationService, pool: str = "default", **job_variables: object) -> str:
    body = CreateDeployment(
        name="etl", entrypoint="flows/etl.py:etl", work_pool=pool, job_variables=job_variables
    )
    return service.create_deployment(body).id


class TestTemplates:
    def test_each_type_gets_its_default_template(self, service: OrchestrationService) -> None:
        process = service.read_work_pool("default").base_job_template
        assert set(process["variables"]["properties"]) == {
            "command",
            "env",
            "working_dir",
            "python",
            "stream_output",
            "timeout_seconds",
        }
        assert process["job_configuration"]["env"] == "{{ env }}"
        dask = service.create_work_pool(CreateWorkPool(name="d", type="dask")).base_job_template
        assert {"address", "resources", "env", "timeout_seconds", "retries"} == set(
            dask["variables"]["properties"]
        )

    def test_an_unknown_type_or_a_broken_template_is_refused(
        self, service: OrchestrationService
    ) -> None:
        with pytest.raises(ValueError, match="type: unknown work pool type 'k8s'"):
            service.create_work_pool(CreateWorkPool(name="k", type="k8s"))
        with pytest.raises(ValueError, match="base_job_template.variables"):
            service.create_work_pool(
                CreateWorkPool(
                    name="b", base_job_template={"variables": {"type": 5}, "job_configuration": {}}
                )
            )
        with pytest.raises(ValueError, match="unknown key 'image'"):
            service.create_work_pool(CreateWorkPool(name="c", base_job_template={"image": "x"}))

    def test_a_custom_template_and_back_to_the_default(self, service: OrchestrationService) -> None:
        template = {
            "job_configuration": {"env": {"QUEUE": "{{ queue }}"}, "label": "q-{{ queue }}"},
            "variables": {
                "type": "object",
                "properties": {"queue": {"type": "string", "default": "low"}},
            },
        }
        pool = service.create_work_pool(CreateWorkPool(name="q", base_job_template=template))
        assert pool.base_job_template == template
        reset = service.update_work_pool("q", UpdateWorkPool(base_job_template=None))
        assert "env" in reset.base_job_template["variables"]["properties"]


class TestJobVariables:
    def test_wrong_type_and_unknown_variables_name_the_field(
        self, service: OrchestrationService
    ) -> None:
        with pytest.raises(ValueError, match=r"job_variables\.env: 5 is not of type 'object'"):
            _deploy(service, env=5)
        with pytest.raises(ValueError, match=r"job_variables\.image: unknown job variable"):
            _deploy(service, image="python:3.12")
        dep = _deploy(service, env={"A": "1"})
        with pytest.raises(ValueError, match=r"job_variables\.timeout_seconds"):
            service.run_deployment(dep, CreateDeploymentRun(job_variables={"timeout_seconds": -1}))
        with pytest.raises(ValueError, match=r"job_variables\.env\.B"):
            service.update_deployment(dep, UpdateDeployment(job_variables={"env": {"B": 2}}))

    def test_a_claim_has_defaults_then_deployment_then_run(
        self, service: OrchestrationService
    ) -> None:
        dep = _deploy(service, env={"A": "deployment"}, working_dir="sub")
        service.run_deployment(
            dep, CreateDeploymentRun(job_variables={"env": {"A": "run"}, "timeout_seconds": 9})
        )
        (claimed,) = service.claim_runs("default", "w", 1)
        assert claimed.job_configuration == {
            "command": None,
            "env": {"A": "run"},
            "working_dir": "sub",
            "python": None,
            "stream_output": True,
            "timeout_seconds": 9,
        }
        assert service.read_deployment(dep).job_variables == {
            "env": {"A": "deployment"},
            "working_dir": "sub",
        }

    def test_a_deployment_moved_to_another_pool_is_checked_against_it(
        self, service: OrchestrationService
    ) -> None:
        service.create_work_pool(CreateWorkPool(name="d", type="dask"))
        dep = _deploy(service, working_dir="sub")
        with pytest.raises(ValueError, match=r"job_variables\.working_dir: unknown"):
            service.update_deployment(dep, UpdateDeployment(work_pool="d"))
        moved = service.update_deployment(
            dep, UpdateDeployment(work_pool="d", job_variables={"resources": {"GPU": 1}})
        )
        assert moved.work_pool == "d" and moved.job_variables == {"resources": {"GPU": 1}}

    def test_a_retry_keeps_the_runs_job_variables(self, service: OrchestrationService) -> None:
        from jupyter_flows.orchestration.schemas import UpdateRunState

        dep = _deploy(service)
        run = service.run_deployment(dep, CreateDeploymentRun(job_variables={"env": {"X": "1"}}))
        service.claim_runs("default", "w", 1)
        service.set_run_state(run.id, UpdateRunState(type="FAILED", name="Failed", worker="w"))
        service.retry_flow_run(run.id)
        (claimed,) = service.claim_runs("default", "w", 1)
        assert claimed.job_configuration["env"] == {"X": "1"}
