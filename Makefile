# The commands of README.md. Each script says what it does at its top.
.PHONY: start test stories train bench

# Extra pytest arguments, e.g. make test ARGS="-k red_flag -x"
ARGS ?=

start:
	./scripts/start.sh

test:
	./scripts/test.sh $(ARGS)

stories:
	./scripts/stories.sh $(ARGS)

train:
	./scripts/train.sh

bench:
	./scripts/bench.sh
