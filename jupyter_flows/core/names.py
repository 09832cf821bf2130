"""Readable random run names (``brave-otter``), as users know them from Prefect."""

from __future__ import annotations

import random

__all__ = ["generate_run_name"]

_ADJECTIVES = (
    "agile amber ancient azure bold brave bright brisk calm clever cosmic crimson curious "
    "daring dazzling eager electric emerald fancy fearless fierce gentle gilded golden "
    "graceful happy hidden humble icy jolly keen kind lively lucky lunar magic mellow "
    "mighty misty nimble noble olive patient polar proud quick quiet rapid rosy rustic "
    "sandy scarlet serene sharp shiny silent silver smart solar spry steady stellar stormy "
    "sunny swift tidy tranquil vivid warm wild wise witty zesty"
).split()
_ANIMALS = (
    "albatross alpaca badger beaver bison bobcat camel caribou cheetah cobra condor cougar "
    "coyote crane dingo dolphin eagle falcon ferret finch gazelle gecko gibbon heron hornet "
    "ibex jackal jaguar koala lemur leopard lynx marmot meerkat mink moose narwhal ocelot "
    "octopus orca osprey otter owl panda panther pelican penguin puffin quail rabbit raven "
    "salmon seal shark sloth sparrow stork swan tapir tiger toucan trout turtle walrus "
    "weasel whale wombat yak zebra"
).split()


def generate_run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_ANIMALS)}"
