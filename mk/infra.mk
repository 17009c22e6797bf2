# Infrastructure verbs (included by the top-level Makefile):
#   make sam-venv      SAM CLI in its own venv .venv-sam (python3.12) from the hashed lock
#   make validate      sam validate --lint on template.yaml (offline)
#   make build         sam build: SharedLayer + both functions into .aws-sam/build (arm64 wheels)
#   make size          unzipped size of each function + its layers; fails over 250 MB
#   make deploy        sam deploy --config-env $(DEPLOY_ENV) (dev|prod; needs AWS credentials)
#   make lambda-locks  recompile requirements/sam.txt and the per-artifact hashed locks
#
# The SAM CLI lives apart from .venv because its pins (boto3, pydantic, ...) conflict with
# litellm's.

# Included files must not pick the top Makefile's default goal: restored at the end.
INFRA_PREVIOUS_DEFAULT_GOAL := $(.DEFAULT_GOAL)

SAM_VENV ?= .venv-sam
SAM := $(SAM_VENV)/bin/sam
DEPLOY_ENV ?= dev
# The Lambda locks are compiled against this machine-independent target (Lambda python3.12 runs
# on Amazon Linux 2023, glibc 2.34, arm64).
LAMBDA_PLATFORM := aarch64-manylinux_2_34

# uv: on PATH, or the one `make` bootstraps into .venv.
INFRA_UV ?= $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.venv/bin/uv)

# A python3.12 that really runs (a pyenv shim for a version that is not selected does not).
ifndef PYTHON312
PYTHON312 := $(shell for p in "$$(command -v python3.12 2>/dev/null)" \
	"$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do \
	[ -x "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null \
	&& { echo "$$p"; break; }; done)
endif

# SAM needs no AWS account for validate/build; give it a region and dummy credentials so it
# never waits on the instance metadata service, and no telemetry.
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1}
SAM_OFFLINE_ENV := $(SAM_ENV) AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-testing} \
	AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-testing}

.PHONY: sam-venv validate build size deploy lambda-locks require-python312

require-python312:
	@test -n "$(PYTHON312)" || { echo "python3.12 not found (pyenv install 3.12, or set PYTHON312=...)" >&2; exit 1; }

sam-venv: $(SAM)

$(SAM): requirements/sam.txt | require-python312 $(VENV)/.synced  # .venv carries uv
	rm -rf $(SAM_VENV)
	$(INFRA_UV) venv --quiet --python "$(PYTHON312)" $(SAM_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(SAM_VENV) $(INFRA_UV) pip sync --quiet --require-hashes requirements/sam.txt
	@touch $@

validate: $(SAM)
	$(SAM_OFFLINE_ENV) $(SAM) validate --lint --template-file template.yaml

# python3.12 first on PATH: the per-artifact Makefiles run `python3.12 -m pip install --platform
# manylinux..._aarch64 --only-binary=:all: --no-deps --require-hashes` for the Lambda target.
# SAM_BUILD_EXCLUDE (mk/compression.mk): without a Docker engine, the ML function's image.
build: $(SAM) ml-build-note | require-python312
	PATH="$(dir $(PYTHON312)):$$PATH" PIP="$(PYTHON312) -m pip" $(SAM_OFFLINE_ENV) \
		$(SAM) build --template-file template.yaml --parallel $(SAM_BUILD_EXCLUDE)

size:
	PYTHONPATH=$(CURDIR) $(or $(wildcard .venv/bin/python),python3) scripts/size_report.py .aws-sam/build

deploy: build
	$(SAM_ENV) $(SAM) deploy --config-env $(DEPLOY_ENV)

# Locks: SAM CLI for the build machine; layer and completion function for Lambda (arm64,
# CPython 3.12), constrained to requirements/runtime.txt so Lambda runs the versions the local
# venv tests. The runtime's boto3/botocore/s3transfer are never shipped. The completion lock
# also uses the layer lock as constraints and leaves out every package the layer ships, and
# hf-xet (huggingface_hub's upload/download accelerator; the gateway never downloads from the
# Hub: HF_HUB_OFFLINE=1).
LAMBDA_RUNTIME_PROVIDED := boto3 botocore s3transfer
LAYER_LOCK := layers/llmlingua/requirements.txt
LAMBDA_COMPILE = $(INFRA_UV) pip compile --quiet --generate-hashes --python-version 3.12 \
	--python-platform $(LAMBDA_PLATFORM)

lambda-locks:
	cd requirements && $(INFRA_UV) pip compile --quiet --generate-hashes --python-version 3.12 \
		sam.in -o sam.txt
	cd layers/llmlingua && $(LAMBDA_COMPILE) \
		$(addprefix --no-emit-package ,$(LAMBDA_RUNTIME_PROVIDED)) \
		requirements.in -o requirements.txt
	cd functions/completion && $(LAMBDA_COMPILE) \
		$(addprefix --no-emit-package ,$(LAMBDA_RUNTIME_PROVIDED) hf-xet) \
		$$(sed -n 's/^\([A-Za-z0-9._-]*\)==.*/--no-emit-package \1/p' ../../$(LAYER_LOCK)) \
		requirements.in -o requirements.txt

.DEFAULT_GOAL := $(INFRA_PREVIOUS_DEFAULT_GOAL)
