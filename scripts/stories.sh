#!/usr/bin/env bash
# The testers' stories:
#   1. conversation stories (tests/conversations/*.yml) played against the
#      real system through the public chat gateway (ARGS: story files, -k NAME,
#      --base URL, --junit FILE; see tests/conversations/README.md);
#   2. the Rasa test stories (tests/stories/*.yml): a narrower check of the
#      classifier and the dialogue rules, with a readable report of failing turns.
# Exit code non-zero when either fails.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup_env.sh" || exit 1
model="$("$ROOT/scripts/train.sh" | tail -n 1)" || exit 1
export MODEL="$model"
echo "Conversation stories (tests/conversations/), against the real system..."
"$API_PY" -m tests.conversations.runner --junit "$ROOT/results/junit/conversation-stories.xml" "$@"
conversations=$?
echo "Rasa test stories (tests/stories/): the classifier and the dialogue rules..."
"$PY" "$ROOT/tests/stories_report.py" --model "$model"
rasa_stories=$?
[ "$conversations" -eq 0 ] && [ "$rasa_stories" -eq 0 ]
