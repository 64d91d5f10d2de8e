# Rasa's own environment. Include from the top Makefile with `include nlu/rasa.mk`.
#
# Rasa Open Source 3.6 runs only on Python 3.8-3.10 and pins old libraries (TensorFlow 2.12,
# SQLAlchemy 1.4, numpy 1.23), so it lives in .venv-rasa, apart from the app's .venv. Created on
# first use; idempotent through a stamp file that names the Rasa version and the constraints.
#
# Pins: nlu/rasa-constraints.txt is the pip freeze of a working install. Rasa 3.6.21 itself pins
# setuptools 70.3 (it still imports pkg_resources); no other manual pins were needed. jieba (pinned
# there too) is installed beside Rasa for the JiebaTokenizer; its dictionary ships in the package.
# Nothing is downloaded at train or run time (no spaCy or Hugging Face models in the pipeline).
#
# Targets:
#   make .venv-rasa       create the venv (a few minutes, once)
#   make nlu-train        train the model if nlu/rasa/ changed (hash-named under var/rasa-models/)
#   make nlu-data         regenerate nlu/rasa/data/reference.yml from reference/reference.yaml

RASA_VERSION := 3.6.21
RASA_VENV := .venv-rasa
RASA_STAMP := $(RASA_VENV)/.installed-$(RASA_VERSION)
# Python 3.10: a working python3.10 on PATH (a pyenv shim may not work), else pyenv's 3.10.
RASA_PYTHON ?= $(or $(shell python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null),$(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10))))

.PHONY: .venv-rasa nlu-train nlu-data

.venv-rasa: $(RASA_STAMP)

$(RASA_STAMP): nlu/rasa-constraints.txt
	@test -n "$(RASA_PYTHON)" || { echo "Rasa needs Python 3.10: install it (pyenv install 3.10) or set RASA_PYTHON"; exit 1; }
	test -x $(RASA_VENV)/bin/python || $(RASA_PYTHON) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RASA_VENV)/bin/python -m pip install --quiet -c nlu/rasa-constraints.txt 'rasa==$(RASA_VERSION)' jieba
	RASA_TELEMETRY_ENABLED=false $(RASA_VENV)/bin/rasa --version >/dev/null
	$(RASA_VENV)/bin/python -c 'import jieba'
	touch $(RASA_STAMP)

nlu-train: $(RASA_STAMP) $(STAMP)
	$(BIN)/jobline nlu train

nlu-data: $(STAMP)
	$(BIN)/python -m nlu.rasa_data
