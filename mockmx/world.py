"""A mock homeserver as its server sees it: the `Mock`, and the `World` behind it that a reset can replace."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute

from mockmx.control.changes import Changes, Topic
from mockmx.control.gate import ControlGate
from mockmx.control.journal import DEFAULT_LIMIT, RequestJournal
from mockmx.control.to_device_log import ToDeviceLog
from mockmx.faults import FaultRules
from mockmx.homeserver.server import Homeserver
from mockmx.push.gateway import Gateway
from mockmx.push.sender import PushSender
from mockmx.scenario.model import Scenario
from mockmx.script import ScriptRunner
from mockmx.transactions import TransactionCache


@dataclass(frozen=True)
class World:
    """Everything a scenario starts: the homeserver's state, its pushing and script, the gateway's journal, the
    fault rules and the journals of what was asked."""

    scenario: Scenario
    homeserver: Homeserver
    push_sender: PushSender
    script: ScriptRunner
    gateway: Gateway
    transactions: TransactionCache
    faults: FaultRules
    requests: RequestJournal
    to_device: ToDeviceLog


class Mock:
    """The object behind an app from `create_app`: the current world, and where the server put it.

    `journal_limit` (the command line's) bounds the request journal over the scenario's own `journal_limit`;
    `control_token` is what the control API asks for (see control/gate.py); `routes` name requests' routes.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        journal_limit: int | None = None,
        control_token: str | None = None,
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.url: str | None = None  # where the server listens, once bound
        self.changes = Changes()
        self.gate = ControlGate(control_token)
        self.journal_limit = journal_limit
        self.routes = routes
        # Called with each new world a reset or a new scenario makes: what follows the world (the pytest
        # plugin's journals) moves its listeners there.
        self.world_listeners: list[Callable[[World], None]] = []
        self.resets = 0
        self._running = False
        self.world = self._build(scenario)

    def _build(self, scenario: Scenario) -> World:
        hs = Homeserver(scenario)
        changes = self.changes
        push_sender = PushSender(hs, scenario.push, resolve_url=self.absolute_url)
        hs.notifications.listeners.append(push_sender.on_notified)
        hs.receipts.listeners.append(push_sender.on_read)
        push_sender.on_attempt = changes.listener(Topic.PUSHES)
        hs.listeners.append(changes.listener(Topic.ROOMS))
        script = ScriptRunner(hs, scenario.script)
        script.on_change = changes.listener(Topic.SCRIPT)
        gateway = Gateway(scenario.reject, max_kept=scenario.limits.max_gateway_notifications)
        gateway.listeners.append(changes.listener(Topic.NOTIFICATIONS))
        limit = self.journal_limit or scenario.journal_limit or DEFAULT_LIMIT
        requests = RequestJournal(limit, routes=self.routes)
        requests.on_change = changes.listener(Topic.REQUESTS)
        to_device = ToDeviceLog(hs.to_device, limit)
        to_device.on_change = changes.listener(Topic.TO_DEVICE)
        return World(
            scenario=scenario,
            homeserver=hs,
            push_sender=push_sender,
            script=script,
            gateway=gateway,
            transactions=TransactionCache(max_entries=scenario.limits.max_transactions),
            faults=FaultRules(scenario.faults),
            requests=requests,
            to_device=to_device,
        )

    def absolute_url(self, url: str) -> str | None:
        """`url`, with a bare path taken to be on this mock itself (None while its address is unknown)."""
        if not url.startswith("/"):
            return url
        return self.url.rstrip("/") + url if self.url is not None else None

    def start(self) -> None:
        """Start what runs by itself (the scenario's script); called once the event loop runs."""
        self._running = True
        self.world.script.start()

    async def stop(self) -> None:
        self._running = False
        await self._retire(self.world)
        self.changes.close()

    async def reset(self, scenario: Scenario | None = None) -> World:
        """Start over: a new world from `scenario` (default: the current one's), the old one's script and pushes
        stopped and its long polls answered."""
        old = self.world
        self.world = new = self._build(scenario or old.scenario)
        self.resets += 1
        for listener in self.world_listeners:
            listener(new)
        if self._running:
            new.script.start()
        await self._retire(old)
        self.changes.fire(Topic.WORLD)
        return new

    @staticmethod
    async def _retire(world: World) -> None:
        world.homeserver.notifier.release_all()
        await world.script.stop()
        await world.push_sender.stop()

    # -- Controlled (the control middleware) -------------------------------------------------------------------

    def journal(self) -> RequestJournal:
        return self.world.requests

    def faults(self) -> FaultRules:
        return self.world.faults

    # -- Hosted ---------------------------------------------------------------------------------------------

    def bound_at(self, url: str) -> None:
        self.url = url
        self.gate.bound_at(url)

    def release_long_polls(self) -> None:
        self.world.homeserver.notifier.release_all()
        self.changes.close()
