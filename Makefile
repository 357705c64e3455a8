# The two set-up commands of the README, and the static build they rest on.
SWIFT ?= swift
# -Osize (and -Os for the C code): 3 MB smaller and fewer pages touched at start-up; the hot paths
# are system calls and BoringSSL's assembly, which it does not slow down.
STATIC_FLAGS = -c release --static-swift-stdlib -Xswiftc -static-executable -Xswiftc -Osize -Xcc -Os -Xlinker -s
STATIC_BIN = .build/release/studio
DIST = dist/studio

.PHONY: static test demo clean-dist

## static: the fully static, stripped `studio` executable in dist/studio
static:
	$(SWIFT) build $(STATIC_FLAGS) --product studio
	mkdir -p dist
	# A new file renamed into place: a running dist/studio is not disturbed (no "text file busy").
	cp $(STATIC_BIN) $(DIST).new
	strip $(DIST).new
	mv -f $(DIST).new $(DIST)
	@ls -l $(DIST) | awk '{print "dist/studio: " $$5 " bytes"}'

## test: every test, unit and integration; the integration tests also run dist/studio in a chroot.
## The tests are XCTest only; --disable-swift-testing keeps an empty second runner from closing the log.
test: static
	AWS_EC2_METADATA_DISABLED=true GCE_METADATA_HOST=127.0.0.1:9 \
	STUDIOML_VENV=$(CURDIR)/.build/studioml-venv \
	STUDIO_STATIC_BINARY=$(CURDIR)/$(DIST) $(SWIFT) test --disable-swift-testing

clean-dist:
	rm -rf dist
