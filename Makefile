# readout: every artefact comes from a target whose real inputs are its prerequisites.
#   make all   set up .venv, validate gold, split, train the CPU pipeline, evaluate, annotate a sample
#   make test  set up .venv (and doccano's own venv) and run the tests

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READOUT := $(BIN)/readout
SPACY := $(BIN)/python -m spacy
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

GOLD := $(wildcard annotations/gold/*.jsonl)
OOD := annotations/ood/ood.jsonl
CODE := $(wildcard pipeline/*.py) pyproject.toml

.PHONY: all setup validate corpus train-cpu evaluate-cpu sample test lint stats clean

all: validate corpus train-cpu evaluate-cpu sample

setup: $(VENV)/.installed

# torch first, from the CPU wheel: left to pip, a bare torch requirement pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip check
	touch $@

validate: setup
	$(READOUT) validate annotations/gold $(OOD)

corpus/train.spacy corpus/dev.spacy corpus/test.spacy corpus/ood.spacy &: $(GOLD) $(OOD) $(CODE) | setup
	$(READOUT) convert annotations/gold --ood $(OOD) --output corpus --manifest annotations/splits.json

corpus: corpus/train.spacy

models/cpu/model-best: configs/cpu.cfg corpus/train.spacy corpus/dev.spacy $(CODE)
	rm -rf models/cpu
	$(SPACY) train configs/cpu.cfg --output models/cpu --paths.train corpus/train.spacy --paths.dev corpus/dev.spacy

train-cpu: models/cpu/model-best

reports/cpu-test/report.html: models/cpu/model-best corpus/test.spacy
	$(READOUT) evaluate models/cpu/model-best corpus/test.spacy --name cpu-test

reports/cpu-ood/report.html: models/cpu/model-best corpus/ood.spacy
	$(READOUT) evaluate models/cpu/model-best corpus/ood.spacy --name cpu-ood

reports/cpu-dev/report.html: models/cpu/model-best corpus/dev.spacy
	$(READOUT) evaluate models/cpu/model-best corpus/dev.spacy --name cpu-dev

evaluate-cpu: reports/cpu-dev/report.html reports/cpu-test/report.html reports/cpu-ood/report.html

sample: models/cpu/model-best
	$(READOUT) annotate models/cpu/model-best samples/readout.txt --output reports/sample.jsonl

test: setup
	CI=$(CI) bash scripts/test.sh

clean:
	rm -rf corpus models/* reports/*/ $(VENV)
