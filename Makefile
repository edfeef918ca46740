# The two commands a newcomer types: `make demo` and `make test`. Both set themselves up.
.PHONY: demo test bench build clean

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash bench/run.sh

build:
	swift build

clean:
	rm -rf .build .demo
