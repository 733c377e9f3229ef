"""A mock homeserver as its server sees it: the `Mock`, and the `World` behind it that a reset can replace."""

from __future__ import annotations

from dataclasses import dataclass

from mockmx.homeserver.server import Homeserver
from mockmx.push.gateway import Gateway
from mockmx.push.sender import PushSender
from mockmx.scenario.model import Scenario
from mockmx.script import ScriptRunner
from mockmx.transactions import TransactionCache


@dataclass(frozen=True)
class World:
    """Everything a scenario starts: the homeserver's state, its pushing and script, the gateway's journal."""

    scenario: Scenario
    homeserver: Homeserver
    push_sender: PushSender
    script: ScriptRunner
    gateway: Gateway
    transactions: TransactionCache


class Mock:
    """The object behind an app from `create_app`: the current world, and where the server put it."""

    def __init__(self, scenario: Scenario) -> None:
        self.url: str | None = None  # where the server listens, once bound
        self.world = self._build(scenario)

    def _build(self, scenario: Scenario) -> World:
        hs = Homeserver(scenario)
        push_sender = PushSender(hs, scenario.push, resolve_url=self.absolute_url)
        hs.notifications.listeners.append(push_sender.on_notified)
        hs.receipts.listeners.append(push_sender.on_read)
        return World(
            scenario=scenario,
            homeserver=hs,
            push_sender=push_sender,
            script=ScriptRunner(hs, scenario.script),
            gateway=Gateway(scenario.reject),
            transactions=TransactionCache(),
        )

    def absolute_url(self, url: str) -> str | None:
        """`url`, with a bare path taken to be on this mock itself (None while its address is unknown)."""
        if not url.startswith("/"):
            return url
        return self.url.rstrip("/") + url if self.url is not None else None

    def start(self) -> None:
        """Start what runs by itself (the scenario's script); called once the event loop runs."""
        self.world.script.start()

    async def stop(self) -> None:
        world = self.world
        await world.script.stop()
        await world.push_sender.stop()
        world.homeserver.notifier.release_all()

    # -- Hosted ---------------------------------------------------------------------------------------------

    def bound_at(self, url: str) -> None:
        self.url = url

    def release_long_polls(self) -> None:
        self.world.homeserver.notifier.release_all()
