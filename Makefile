# Thin wrappers: the npm scripts in package.json are the source of truth.
.PHONY: run test check bench build deps

deps:
	npm ci --no-audit --no-fund
	npm run setup

run: deps
	npm start

test: deps
	npm test

check: deps
	npm run check

bench: deps
	npm run bench

build: deps
	npm run build
