# The two set-up commands of the README, and the static build they rest on.
SWIFT ?= swift
DIST = dist/studio

.PHONY: static test demo clean-dist

## static: the fully static, stripped `studio` executable in dist/studio (flags: scripts/build-static.sh)
static:
	scripts/build-static.sh $(DIST)

## test: every test, unit and integration; the integration tests run the shipped dist/studio.
## The tests are XCTest only; --disable-swift-testing keeps an empty second runner from closing the log.
test: static
	AWS_EC2_METADATA_DISABLED=true GCE_METADATA_HOST=127.0.0.1:9 \
	STUDIOML_VENV=$(CURDIR)/.build/studioml-venv \
	STUDIO_STATIC_BINARY=$(CURDIR)/$(DIST) $(SWIFT) test --disable-swift-testing

clean-dist:
	rm -rf dist
