# The commands of README.md. Each script says what it does at its top.
.PHONY: start test stories train bench

start:
	./scripts/start.sh

test:
	./scripts/test.sh

stories:
	./scripts/stories.sh

train:
	./scripts/train.sh

bench:
	./scripts/bench.sh
