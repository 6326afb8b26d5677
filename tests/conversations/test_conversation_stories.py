"""The testers' conversation stories, played in `make test` against the real
system started once (action server, Rasa, API, delivery worker), plus a
deliberately wrong story that must fail with a report a tester can read."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.conversations.runner import Queue, StoryError, coordinator_for, load, play, report, story_files, transcript
from tests.servers import Servers, running_system


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    limits = {"SESSION_MESSAGES_PER_MINUTE": "0", "CLIENT_MESSAGES_PER_MINUTE": "0"}
    with running_system(tmp_path_factory.mktemp("stories"), env=limits, accounts=()) as servers:
        yield servers


@pytest.fixture(scope="module")
def queue(system: Servers) -> Queue:
    return coordinator_for(system)


def test_every_conversation_story_passes(system: Servers, queue: Queue) -> None:
    stories = load(story_files([]))
    assert len(stories) >= 20 and any(story.get("referral") for _, story in stories)
    results = [play(system.api_url, source, story, queue) for source, story in stories]
    assert all(r.passed for r in results), report(results)


def test_a_referral_the_story_expects_but_the_queue_lacks_fails(system: Servers, queue: Queue, tmp_path: Path) -> None:
    wrong = tmp_path / "no-referral.yml"
    wrong.write_text(
        "stories:\n"
        "  - name: a referral that was never sent\n"
        "    steps:\n"
        "      - tap: For myself\n"
        "    referral: {name: Nobody Sent-This, arrives: true}\n",
        encoding="utf-8",
    )
    [(source, story)] = load([wrong])
    result = play(system.api_url, source, story, queue)
    assert result.failure == ('after the conversation, in the coordinators\' queue: expected one referral for '
                              '"Nobody Sent-This" in the queue within 30 s; found 0')


def test_a_wrong_expectation_fails_with_the_turn_and_what_the_patient_saw(system: Servers, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yml"
    wrong.write_text(
        "stories:\n"
        "  - name: a deliberately wrong expectation\n"
        "    steps:\n"
        "      - tap: For myself\n"
        "      - say: 'no'\n"
        "        expect: {asks: pain_score}\n",
        encoding="utf-8",
    )
    [(source, story)] = load([wrong])
    result = play(system.api_url, source, story)
    assert not result.passed
    assert result.failure == "step 2 (patient: no): expected the bot to ask pain_score; it asks age"
    seen = transcript(result)
    assert "patient: (tapped) For myself" in seen and "(asks age)" in seen
    assert "FAILED  wrong.yml: a deliberately wrong expectation" in report([result])


def test_a_story_file_mistake_is_named_with_the_file_the_story_and_the_step(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("stories:\n  - name: typo\n    steps:\n      - sya: hello\n", encoding="utf-8")
    with pytest.raises(StoryError, match=r"bad.yml, story 1 \(typo\), step 1: unknown keys \['sya'\]"):
        load([bad])
    broken = tmp_path / "broken.yml"
    broken.write_text("stories:\n  - name: \"yes\" is quoted wrong\n", encoding="utf-8")
    with pytest.raises(StoryError, match="broken.yml"):
        load([broken])
