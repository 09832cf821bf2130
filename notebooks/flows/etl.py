"""A small Python flow that the deployment example schedules."""

from jupyter_flows import flow, get_run_logger, task


@task(retries=2)
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def total(values: list[int]) -> int:
    return sum(values)


@flow
def etl(n: int = 10) -> int:
    result = total(extract(n))
    get_run_logger().info("total of %d numbers: %d", n, result)
    return result
