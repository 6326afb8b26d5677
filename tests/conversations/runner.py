"""Play the testers' conversation stories (tests/conversations/*.yml) against
the real system, through the public chat gateway, and report in plain words.

    python -m tests.conversations.runner                      # every story file
    python -m tests.conversations.runner tests/conversations/safety.yml
    python -m tests.conversations.runner -k "16-year-old"     # stories whose name holds this
    python -m tests.conversations.runner --base https://staging.example.org

Without --base the whole system is started the way scripts/start.sh starts it
(action server, Rasa, API, delivery worker) on free ports and a throwaway
data folder, with a coordinator account for the stories' `referral` checks,
and stopped at the end. With --base, those checks log in with
STORIES_COORDINATOR_EMAIL and STORIES_COORDINATOR_PASSWORD. The story format
is in README.md here. Exit code 0 when every story passed, 1 otherwise;
--junit writes JUnit XML.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

HERE = Path(__file__).resolve().parent
STEP_KEYS = frozenset({"say", "tap", "expect", "until", "answers", "repeat"})
EXPECT_KEYS = frozenset({"asks", "outcome", "urgent", "says", "never_says", "buttons", "refused"})
STORY_KEYS = frozenset({"name", "steps", "referral"})
REFERRAL_KEYS = frozenset({"name", "arrives", "outcome", "respondent", "helper", "levels", "answers", "results", "withdraw"})
ARRIVES_WITHIN_S = 30  # the delivery worker sends the outbox within seconds
NOT_SENT_WAIT_S = 8  # how long a story waits to be sure a referral did not arrive
MAX_TURNS_UNTIL = 30  # an `until` step that takes longer is a loop: the story fails


class StoryError(ValueError):
    """A story file a tester has to fix (said with the file and the story)."""


@dataclass
class Turn:
    said: str  # what the patient sent, as they would see it ("(tapped) Yes")
    status: int
    reply: dict[str, Any]

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.reply.get("messages") or []]

    @property
    def buttons(self) -> list[str]:
        return [b["title"] for m in self.reply.get("messages") or [] for b in m.get("buttons") or []]


@dataclass
class Result:
    name: str
    source: str
    turns: list[Turn] = field(default_factory=list)
    failure: Optional[str] = None

    @property
    def passed(self) -> bool:
        return self.failure is None


class Gateway:
    """One conversation through POST /chat/sessions and /chat/messages."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.token = ""
        self.last: dict[str, Any] = {}

    def _post(self, path: str, body: Optional[dict[str, str]]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body or {}).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-Chat-Session": self.token},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:  # the gateway answers kindly on errors too
            return refused.code, json.loads(refused.read() or b"{}")

    def open(self) -> Turn:
        status, reply = self._post("/chat/sessions", None)
        self.token = reply.get("session_id") or ""
        self.last = reply
        return Turn("(opens the chat)", status, reply)

    def say(self, text: str) -> Turn:
        status, reply = self._post("/chat/messages", {"text": text})
        self.last = reply if status == 200 else self.last
        return Turn(text, status, reply)

    def tap(self, title: str) -> Turn:
        for message in self.last.get("messages") or []:
            for button in message.get("buttons") or []:
                if button["title"].strip().lower() == title.strip().lower():
                    status, reply = self._post("/chat/messages", {"payload": button["payload"]})
                    self.last = reply if status == 200 else self.last
                    return Turn(f"(tapped) {button['title']}", status, reply)
        offered = [b["title"] for m in self.last.get("messages") or [] for b in m.get("buttons") or []]
        raise _Failed(f'there is no button "{title}" to tap; the bot offered: {_quote(offered) or "no buttons"}')


class _Failed(Exception):
    pass


def _quote(items: list[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def check(turn: Turn, expect: dict[str, Any]) -> list[str]:
    """What in this turn differs from the expectation (empty: as expected)."""
    problems = []
    reply, words = turn.reply, " ".join(turn.texts).lower()
    refused = expect.get("refused")
    if refused is None and turn.status not in (200, 201):
        problems.append(f"the gateway answered {turn.status} ({reply.get('error')})")
    if refused is not None and (turn.status < 400 or reply.get("error") != refused):
        problems.append(f"expected the gateway to refuse the message kindly ({refused}); "
                        f"it answered {turn.status} ({reply.get('error') or 'no refusal'})")
    if "asks" in expect:
        wanted = expect["asks"] if isinstance(expect["asks"], list) else [expect["asks"]]
        wanted = [None if w in (None, "none") else w for w in wanted]  # "none": waits for no answer
        if reply.get("asks") not in wanted:
            said = " or ".join("nothing" if w is None else str(w) for w in wanted)
            problems.append(f"expected the bot to ask {said}; it asks {reply.get('asks') or 'nothing'}")
    if "outcome" in expect:
        wanted_outcome = None if expect["outcome"] in (None, "none") else expect["outcome"]
        if reply.get("outcome") != wanted_outcome:
            problems.append(f"expected outcome {wanted_outcome or 'none yet'}; got {reply.get('outcome') or 'none yet'}")
    if "urgent" in expect and bool(reply.get("urgent")) != bool(expect["urgent"]):
        problems.append("expected the urgent-care message" if expect["urgent"] else "the bot sent the urgent-care message")
    for phrase in expect.get("says") or []:
        if str(phrase).lower() not in words:
            problems.append(f'expected the words "{phrase}"')
    for phrase in expect.get("never_says") or []:
        if str(phrase).lower() in words:
            problems.append(f'the bot said "{phrase}", which the story forbids')
    for title in expect.get("buttons") or []:
        if str(title).lower() not in [b.lower() for b in turn.buttons]:
            problems.append(f'expected a button "{title}"; offered: {_quote(turn.buttons) or "none"}')
    return problems


def _validate(story: dict[str, Any], where: str) -> None:
    if not isinstance(story, dict) or not story.get("name") or not isinstance(story.get("steps"), list):
        raise StoryError(f"{where}: a story needs a name and a list of steps")
    if set(story) - STORY_KEYS:
        raise StoryError(f"{where}: unknown keys {sorted(set(story) - STORY_KEYS)} (allowed: {sorted(STORY_KEYS)})")
    referral = story.get("referral")
    if referral is not None and (not isinstance(referral, dict) or set(referral) - REFERRAL_KEYS
                                 or not referral.get("name") or "arrives" not in referral):
        raise StoryError(f"{where}: referral needs name (the contact name the story gives) and arrives "
                         f"(true or false); it may also hold {sorted(REFERRAL_KEYS - {'name', 'arrives'})}")
    for number, step in enumerate(story["steps"], 1):
        here = f"{where}, step {number}"
        if not isinstance(step, dict) or not step:
            raise StoryError(f"{here}: a step is a mapping such as {{say: hello}}")
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise StoryError(f"{here}: unknown keys {sorted(unknown)} (allowed: {sorted(STEP_KEYS)})")
        if ("say" in step) + ("tap" in step) + ("until" in step) > 1:
            raise StoryError(f"{here}: one of say, tap or until per step")
        if "repeat" in step and ("say" not in step or not isinstance(step["repeat"], int) or step["repeat"] < 1):
            raise StoryError(f"{here}: repeat N types the say text N times in one message")
        if "until" in step and not isinstance(step.get("answers"), dict):
            raise StoryError(f"{here}: until needs answers (question id -> what to say or tap)")
        for key in ("expect", "until"):
            if key in step and (not isinstance(step[key], dict) or set(step[key]) - EXPECT_KEYS):
                raise StoryError(f"{here}: {key} takes the keys {sorted(EXPECT_KEYS)}")


def load(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    stories = []
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as unreadable:
            raise StoryError(f"{path}: {unreadable}") from None
        for index, story in enumerate(data.get("stories") or [], 1):
            where = f"{path.name}, story {index} ({story.get('name', 'no name') if isinstance(story, dict) else '?'})"
            _validate(story, where)
            stories.append((path.name, story))
    return stories


class Queue:
    """The coordinators' referral queue, read through the coordinator API."""

    def __init__(self, base: str, email: Optional[str], password: Optional[str]) -> None:
        self.base, self.email, self.password = base.rstrip("/"), email, password
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.logged_in = False
        self.csrf = ""

    def _get(self, path: str) -> Any:
        with self.http.open(self.base + path, timeout=30) as response:
            return json.loads(response.read())

    def login(self) -> None:
        if self.logged_in:
            return
        if not self.email or not self.password:
            raise _Failed("this story checks the referral queue: set STORIES_COORDINATOR_EMAIL and "
                          "STORIES_COORDINATOR_PASSWORD for --base")
        request = urllib.request.Request(
            self.base + "/auth/login", data=json.dumps({"email": self.email, "password": self.password}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        try:
            with self.http.open(request, timeout=30) as response:
                self.csrf = json.loads(response.read()).get("csrf_token") or ""
        except urllib.error.HTTPError as refused:
            raise _Failed(f"could not log in to the coordinator API as {self.email} ({refused.code})") from None
        self.logged_in = True

    def find(self, name: str, wait_s: float) -> list[dict[str, Any]]:
        self.login()
        deadline = time.monotonic() + wait_s
        while True:
            # The search text goes in the body, never the address (security review, finding 7).
            request = urllib.request.Request(
                f"{self.base}/coordinator/referrals/search", method="POST", data=json.dumps({"q": name}).encode(),
                headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf})
            with self.http.open(request, timeout=30) as response:
                items = json.loads(response.read())["items"]
            found = [item for item in items if item.get("contact_name") == name]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)

    def detail(self, referral_id: str) -> dict[str, Any]:
        return self._get(f"/coordinator/referrals/{referral_id}")

    def withdraw(self, referral_id: str, name: str) -> list[str]:
        """Delete the referral as a coordinator does for a patient's withdrawal; what went wrong."""
        self.login()
        request = urllib.request.Request(
            f"{self.base}/coordinator/referrals/{referral_id}", method="DELETE",
            data=json.dumps({"reason": "patient_withdrawal"}).encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf})
        try:
            self.http.open(request, timeout=30).close()
        except urllib.error.HTTPError as refused:
            return [f"the coordinator could not withdraw the referral ({refused.code})"]
        if self.find(name, 0):
            return [f'after the withdrawal, a referral for "{name}" is still in the queue']
        return []


def check_referral(queue: Queue, expect: dict[str, Any]) -> list[str]:
    """What in the queue differs from the story's `referral` expectation."""
    name = str(expect["name"])
    found = queue.find(name, ARRIVES_WITHIN_S if expect["arrives"] else NOT_SENT_WAIT_S)
    if not expect["arrives"]:
        return [f'a referral for "{name}" reached the queue, which the story forbids'] if found else []
    if len(found) != 1:
        return [f'expected one referral for "{name}" in the queue within {ARRIVES_WITHIN_S} s; found {len(found)}']
    detail = queue.detail(found[0]["id"])
    problems = []
    for key in ("outcome", "respondent", "helper"):
        if key in expect and detail.get(key) != expect[key]:
            problems.append(f"expected the referral's {key} {expect[key]}; it is {detail.get(key)}")
    if "levels" in expect and detail.get("spine_levels") != expect["levels"]:
        problems.append(f"expected the referral's spine levels {expect['levels']}; they are {detail.get('spine_levels')}")
    if expect.get("withdraw"):
        problems += queue.withdraw(found[0]["id"], name)
    rows = {row["question_id"]: row for row in detail.get("criteria") or []}
    for qid, value in (expect.get("answers") or {}).items():
        got = (rows.get(qid) or {}).get("answer")
        if json.dumps(got, sort_keys=True) != json.dumps(value, sort_keys=True):
            problems.append(f"expected the referral's answer to {qid} to be {json.dumps(value)}; it is {json.dumps(got)}")
    for qid, result in (expect.get("results") or {}).items():
        got = (rows.get(qid) or {}).get("status")
        if got != result:
            problems.append(f"expected the referral's result for {qid} to be {result}; it is {got}")
    return problems


def _words(value: Any) -> str:
    # YAML reads an unquoted yes or no as true or false: the tester meant the word.
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _send(chat: Gateway, step: dict[str, Any], answer: Any = None) -> Turn:
    what = answer if answer is not None else step
    if isinstance(what, dict) and "tap" in what:
        return chat.tap(_words(what["tap"]))
    text = _words(what["say"] if isinstance(what, dict) else what)
    repeat = step.get("repeat", 1) if answer is None else 1
    turn = chat.say(text * repeat)
    if repeat > 1:  # the report shows what was typed, not hundreds of characters
        turn = Turn(f"{text.strip()} (x{repeat}: {len(text * repeat)} characters)", turn.status, turn.reply)
    return turn


def play(base: str, source: str, story: dict[str, Any], queue: Optional[Queue] = None) -> Result:
    result = Result(story["name"], source)
    chat = Gateway(base)
    try:
        result.turns.append(chat.open())
        for number, step in enumerate(story["steps"], 1):
            if "until" in step:
                for _ in range(MAX_TURNS_UNTIL):
                    if not check(result.turns[-1], step["until"]):
                        break
                    asked = result.turns[-1].reply.get("asks")
                    if asked not in step["answers"]:
                        raise _Failed(f"step {number}: waiting for {step['until']}, the bot asks {asked or 'nothing'}, "
                                      f"which this step's answers do not cover")
                    result.turns.append(_send(chat, step, step["answers"][asked]))
                else:
                    raise _Failed(f"step {number}: {step['until']} did not happen within {MAX_TURNS_UNTIL} turns")
            elif "say" in step or "tap" in step:
                result.turns.append(_send(chat, step))
            problems = check(result.turns[-1], step.get("expect") or {})
            if problems:
                raise _Failed(f"step {number} (patient: {result.turns[-1].said}): " + "; ".join(problems))
        if story.get("referral") is not None:
            problems = check_referral(queue or Queue(base, None, None), story["referral"])
            if not problems and story["referral"].get("withdraw"):
                # The withdrawal also closes the patient's chat: nothing more is kept or sent.
                result.turns.append(chat.say("hello, it's me again"))
                if result.turns[-1].status != 401:
                    problems = [f"after the withdrawal the patient's chat still answers ({result.turns[-1].status}); "
                                "it must be closed (session_unknown)"]
            if problems:
                raise _Failed("after the conversation, in the coordinators' queue: " + "; ".join(problems))
    except _Failed as failed:
        result.failure = str(failed)
    except (urllib.error.URLError, OSError, ValueError) as broken:
        result.failure = f"could not talk to {base}: {broken}"
    return result


def transcript(result: Result) -> str:
    lines = []
    for turn in result.turns:
        lines.append(f"  patient: {turn.said}")
        for text in turn.texts:
            lines.append(f"  bot:     {text}")
        if turn.buttons:
            lines.append(f"           [{' | '.join(turn.buttons)}]")
        marks = [f"asks {turn.reply['asks']}"] if turn.reply.get("asks") else []
        marks += [f"outcome {turn.reply['outcome']}"] if turn.reply.get("outcome") else []
        marks += ["URGENT"] if turn.reply.get("urgent") else []
        marks += [f"status {turn.status}"] if turn.status not in (200, 201) else []
        if marks:
            lines.append(f"           ({', '.join(marks)})")
    return "\n".join(lines)


def report(results: list[Result]) -> str:
    out = []
    for result in results:
        if not result.passed:
            out.append(f"FAILED  {result.source}: {result.name}\n  {result.failure}\n  What the patient saw:\n{transcript(result)}\n")
    width = max((len(r.name) for r in results), default=10)
    out.append(f"{'story'.ljust(width)}  {'file'.ljust(24)}  result")
    for result in results:
        out.append(f"{result.name.ljust(width)}  {result.source.ljust(24)}  {'passed' if result.passed else 'FAILED'}")
    failed = sum(not r.passed for r in results)
    out.append(f"\n{len(results) - failed} of {len(results)} stories passed" + (f", {failed} failed" if failed else ""))
    return "\n".join(out)


def junit(results: list[Result], path: Path) -> None:
    suite = ET.Element("testsuite", name="conversation stories", tests=str(len(results)),
                       failures=str(sum(not r.passed for r in results)))
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=result.source, name=result.name)
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=result.failure or "")
            failure.text = transcript(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)


def story_files(args: list[str]) -> list[Path]:
    if not args:
        return sorted(HERE.glob("*.yml"))
    return [Path(a) for a in args]


def run(base: Optional[str], files: list[Path], name_filter: Optional[str] = None) -> list[Result]:
    stories = [(s, st) for s, st in load(files) if not name_filter or name_filter.lower() in st["name"].lower()]
    if base is not None:
        queue = Queue(base, os.environ.get("STORIES_COORDINATOR_EMAIL"), os.environ.get("STORIES_COORDINATOR_PASSWORD"))
        return [play(base, source, story, queue) for source, story in stories]
    from tests.servers import running_system  # only when we start the system ourselves

    # Stories send messages without pauses: the gateway's rate limits are not what they test.
    limits = {"SESSION_MESSAGES_PER_MINUTE": "0", "CLIENT_MESSAGES_PER_MINUTE": "0"}
    with tempfile.TemporaryDirectory(prefix="stories-") as data:
        print("Starting the action server, Rasa, the API and the delivery worker...", file=sys.stderr)
        with running_system(Path(data), env=limits, accounts=()) as servers:
            queue = coordinator_for(servers)
            print(f"Playing {len(stories)} stories through {servers.api_url} ...", file=sys.stderr)
            return [play(servers.api_url, source, story, queue) for source, story in stories]


def coordinator_for(servers: Any) -> Queue:
    """A throwaway coordinator account on a system this runner started."""
    email, password = "stories@example.org", secrets.token_urlsafe(18)
    servers.add_account("create-admin", email, password)
    return Queue(servers.api_url, email, password)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="story files (default: every tests/conversations/*.yml)")
    parser.add_argument("-k", dest="name", help="only the stories whose name contains this")
    parser.add_argument("--base", help="a running system's public URL (the API); default: start one here")
    parser.add_argument("--junit", type=Path, help="write JUnit XML here")
    args = parser.parse_args(argv)
    try:
        results = run(args.base, story_files(args.files), args.name)
    except StoryError as wrong:
        print(f"story file problem: {wrong}", file=sys.stderr)
        return 2
    print(report(results))
    if args.junit:
        junit(results, args.junit)
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
