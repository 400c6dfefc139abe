"""Per-user spending over streamable HTTP with OAuth: each token's subject is a user with a budget of their own,
the deployment's budget caps them all together, `usage` shows each user their own spending (and an admin
everyone's), and a user cannot read another's batch job or task."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult

from support.emulated import BGE_BASE
from support.http import AppFactory, asgi_client, mcp_over
from support.oauth_issuer import INVOKE, READ, Issuer
from support.results import data_of, text_of
from support.tasks import TaskHandle, TasksDeclared, poll, task_request
from workers_ai_mcp.settings import Settings

TEXT = {"text": "Otters are playful animals that live in rivers. " * 10}  # bart-large-cnn: no catalog price
ADMIN = "workers-ai:admin"
SLOW_IMAGE = {"prompt": "a lighthouse at dusk", "model": "@cf/black-forest-labs/flux-2-dev", "seed": 7}

Session = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture
def team_settings(oauth_settings: Settings) -> Settings:
    """Every summary counts as $0.10 (its price is unknown); $0.20 a day for each user, $0.50 for everyone."""
    return oauth_settings.model_copy(
        update={"unpriced_call_usd": 0.10, "user_max_cost_usd": 0.20, "max_cost_usd": 0.50}
    )


@pytest.fixture
def team(
    make_app: AppFactory, team_settings: Settings, issuer: Issuer
) -> Callable[[], AbstractAsyncContextManager[Session]]:
    """`async with team() as session_of:` serves one server; `session_of("alice", admin=False, **client_options)`
    opens an MCP session on it over streamable HTTP with a token whose subject is that user."""

    @asynccontextmanager
    async def serve() -> AsyncIterator[Session]:
        app = make_app(settings=team_settings)

        def session(user: str, *, admin: bool = False, **options: Any) -> AbstractAsyncContextManager[Client]:
            scope = f"{READ} {INVOKE}" + (f" {ADMIN}" if admin else "")
            return mcp_over(asgi_client(app, token=issuer.token(sub=user, scope=scope)), **options)

        async with app.router.lifespan_context(app):
            yield session

    return serve


Team = Callable[[], AbstractAsyncContextManager[Session]]


async def summaries(client: Client, count: int) -> list[CallToolResult]:
    return [await client.call_tool("summarize", TEXT) for _ in range(count)]


async def usage_of(client: Client) -> dict[str, Any]:
    return data_of(await client.call_tool("usage", {}))


async def test_a_user_who_spent_their_budget_is_refused_while_another_user_still_spends(team: Team) -> None:
    async with team() as session_of:
        async with session_of("alice") as alice:
            spent = await summaries(alice, 3)
        async with session_of("bob") as bob:
            other = await summaries(bob, 1)
        assert [r.is_error for r in spent] == [False, False, True]
        refusal = text_of(spent[2])
        assert "you have already spent or committed about $0.2000 today (UTC) of your $0.2000 daily budget" in refusal
        assert "(WORKERS_AI_MCP_USER_MAX_COST_USD)" in refusal and "nothing was sent" in refusal
        assert not other[0].is_error


async def test_the_deployment_budget_caps_every_user_together(team: Team) -> None:
    async with team() as session_of:
        async with session_of("alice") as alice, session_of("bob") as bob, session_of("carol") as carol:
            first = await summaries(alice, 2) + await summaries(bob, 2)  # $0.40 of the deployment's $0.50
            last = await summaries(carol, 2)  # carol's own budget has room for both
        assert not any(r.is_error for r in first)
        assert [r.is_error for r in last] == [False, True]
        refusal = text_of(last[1])
        assert "the deployment's $0.5000 daily budget (WORKERS_AI_MCP_MAX_COST_USD)" in refusal
        assert (
            "every user and server process of this deployment has already spent or committed about $0.5000" in refusal
        )


async def test_usage_shows_each_user_their_own_spending_and_an_admin_everyone_s(team: Team) -> None:
    async with team() as session_of:
        async with session_of("alice") as alice, session_of("bob") as bob:
            await summaries(alice, 2)
            await summaries(bob, 1)
            mine, theirs = await usage_of(alice), await usage_of(bob)
        async with session_of("root", admin=True) as admin:
            everyone = await usage_of(admin)
            resource = await admin.read_resource("workers-ai://usage")
        async with session_of("bob") as bob_again:
            bob_resource = await bob_again.read_resource("workers-ai://usage")

        assert mine["user"] == "alice" and mine["today"]["total"]["calls"] == 2
        assert mine["today"]["total"]["fallback_usd"] == pytest.approx(0.2)
        assert mine["today"]["budget_usd"] == 0.2 and mine["today"]["budget_left_usd"] == 0.0
        assert "users" not in mine or mine["users"] is None
        assert theirs["user"] == "bob" and theirs["today"]["total"]["calls"] == 1
        assert theirs["today"]["budget_left_usd"] == pytest.approx(0.1)

        assert everyone["user"] == "*" and everyone["today"]["total"]["calls"] == 3
        assert everyone["today"]["budget_left_usd"] == pytest.approx(0.2)  # the deployment's $0.50 less $0.30
        by_user = {entry["user"]: entry for entry in everyone["users"]}
        assert set(by_user) == {"alice", "bob"}
        assert by_user["alice"]["today_usd"] == pytest.approx(0.2) and by_user["bob"]["month_usd"] == pytest.approx(0.1)
        assert len(json.dumps(everyone)) < 6_000  # compact: a few KB

        read = json.loads(getattr(resource.contents[0], "text", "{}"))
        assert read["user"] == "*" and read["today"]["total"]["calls"] == 3
        bob_read = json.loads(getattr(bob_resource.contents[0], "text", "{}"))
        assert bob_read["user"] == "bob" and bob_read["today"]["total"]["calls"] == 1


async def test_a_user_cannot_read_or_list_another_user_s_batch_job(team: Team) -> None:
    async with team() as session_of:
        async with session_of("alice") as alice:
            job = data_of(await alice.call_tool("submit_batch", {"model": BGE_BASE, "inputs": [{"text": "one"}]}))
            own = data_of(await alice.call_tool("list_batches", {}))
        async with session_of("bob") as bob:
            peeked = await bob.call_tool("get_batch", {"job_id": job["job_id"]})
            unknown = await bob.call_tool("get_batch", {"job_id": "no-such-job"})
            listed = data_of(await bob.call_tool("list_batches", {}))
        async with session_of("root", admin=True) as admin:
            everyone = data_of(await admin.call_tool("list_batches", {}))
        async with session_of("alice") as alice_again:
            done = await alice_again.call_tool("get_batch", {"job_id": job["job_id"]})

        assert [j["job_id"] for j in own["jobs"]] == [job["job_id"]] and own["jobs"][0]["user_id"] == "alice"
        assert peeked.is_error and unknown.is_error
        assert text_of(peeked).replace(job["job_id"], "X") == text_of(unknown).replace("no-such-job", "X")
        assert listed["jobs"] == [] and listed["total"] == 0
        assert [j["job_id"] for j in everyone["jobs"]] == [job["job_id"]]
        assert not done.is_error and data_of(done)["status"] in ("queued", "running", "done")


async def test_a_task_is_readable_only_by_the_user_who_made_it_and_spends_that_user_s_budget(
    team: Team,
) -> None:
    async with team() as session_of:
        async with session_of("alice", extensions=[TasksDeclared()]) as alice:
            handle = await alice.session.call_tool("generate_image", SLOW_IMAGE, allow_claimed=True)
            assert isinstance(handle, TaskHandle)
            async with session_of("bob", extensions=[TasksDeclared()]) as bob:
                with pytest.raises(MCPError, match="task not found") as peeked:
                    await task_request(bob, "tasks/get", handle.task_id)
                with pytest.raises(MCPError, match="task not found"):
                    await task_request(bob, "tasks/cancel", handle.task_id)
                with pytest.raises(MCPError, match="task not found") as unknown:
                    await task_request(bob, "tasks/get", "no-such-task")
            task = await poll(alice, handle.task_id)
            mine = await usage_of(alice)
        async with session_of("bob") as bob_again:
            theirs = await usage_of(bob_again)

        assert peeked.value.code == unknown.value.code and str(peeked.value) == str(unknown.value)
        assert task["status"] == "completed", task
        assert [m["model"] for m in mine["today"]["models"]] == [SLOW_IMAGE["model"]]
        assert theirs["today"]["total"]["calls"] == 0
