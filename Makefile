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
# Code each step runs, so a change re-runs just the steps it affects.
CORPUS_CODE := $(addprefix pipeline/,gold.py validate.py convert.py split.py schema.py)
TRAIN_CODE := $(addprefix pipeline/,augment.py transformer.py)
EVAL_CODE := $(addprefix pipeline/,evaluate.py report.py)

.SECONDEXPANSION:
.PHONY: all setup validate corpus train-cpu train-trf evaluate-cpu evaluate-trf compare learning-curve active-learning bench case-ablation sample test lint stats clean

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

corpus/train.spacy corpus/dev.spacy corpus/test.spacy corpus/ood.spacy &: $(GOLD) $(OOD) $(CORPUS_CODE) | setup
	$(READOUT) convert annotations/gold --ood $(OOD) --output corpus --manifest annotations/splits.json

corpus: corpus/train.spacy

# Wall time and where it ran are kept beside the model for bench/RESULTS.md.
models/%/model-best: configs/%.cfg corpus/train.spacy corpus/dev.spacy $(TRAIN_CODE)
	rm -rf models/$*
	SECONDS=0; \
	$(SPACY) train configs/$*.cfg --output models/$* --paths.train corpus/train.spacy --paths.dev corpus/dev.spacy $(TRAIN_ARGS) && \
	echo $$SECONDS > models/$*/train_seconds && \
	echo "$(if $(findstring --gpu-id,$(TRAIN_ARGS)),GPU,$$(nproc)-core CPU)" > models/$*/train_device

train-cpu: models/cpu/model-best

# Pass TRAIN_ARGS="--gpu-id 0" on a GPU machine (about 5 minutes there; about 2 hours on 2 CPU cores).
train-trf: models/trf/model-best

# reports/<model>-<split>/: e.g. reports/cpu-test/report.html, reports/trf-ood/report.html
reports/%/report.html: models/$$(firstword $$(subst -, ,$$*))/model-best corpus/$$(lastword $$(subst -, ,$$*)).spacy $(EVAL_CODE)
	$(READOUT) evaluate $< $(word 2,$^) --name $*

# Paired bootstrap: does the transformer beat the CPU pipeline on each split?
reports/compare-cpu-trf-%.json: models/cpu/model-best models/trf/model-best corpus/%.spacy $(EVAL_CODE)
	$(READOUT) compare models/cpu/model-best models/trf/model-best corpus/$*.spacy --json $@

compare: reports/compare-cpu-trf-dev.json reports/compare-cpu-trf-test.json reports/compare-cpu-trf-ood.json

evaluate-cpu: reports/cpu-dev/report.html reports/cpu-test/report.html reports/cpu-ood/report.html
evaluate-trf: reports/trf-dev/report.html reports/trf-test/report.html reports/trf-ood/report.html

reports/learning_curve/curve.png: configs/cpu.cfg corpus/train.spacy corpus/dev.spacy $(TRAIN_CODE) pipeline/curve.py
	$(READOUT) learning-curve configs/cpu.cfg --train corpus/train.spacy --dev corpus/dev.spacy --output reports/learning_curve --max-steps 1500

learning-curve: reports/learning_curve/curve.png

# Uncertainty selection vs random, replayed on gold with hidden labels (about 40 minutes on 2 cores).
reports/active_learning/curve.png: $(GOLD) pipeline/select.py pipeline/confidence.py | setup
	$(READOUT) select simulate --gold annotations/gold $(foreach s,0 1 2 3 4 5 6 7 8 9,--seed $(s)) --out reports/active_learning

active-learning: reports/active_learning/curve.png

bench/RESULTS.md: bench/bench.py models/cpu/model-best models/trf/model-best
	$(BIN)/python bench/bench.py

bench: bench/RESULTS.md

# Transformer with and without readout.CasedTransformerTok2Vec.v1, same step budget.
bench/CASE_ABLATION.md: bench/case_ablation.py configs/trf.cfg corpus/train.spacy corpus/dev.spacy $(TRAIN_CODE)
	$(BIN)/python bench/case_ablation.py --max-steps 150

case-ablation: bench/CASE_ABLATION.md

lint: setup
	$(READOUT) lint annotations/gold annotations/ood

stats: setup
	$(READOUT) stats annotations/gold --ood annotations/ood

sample: models/cpu/model-best
	$(READOUT) annotate models/cpu/model-best samples/readout.txt --output reports/sample.jsonl

test: setup
	CI=$(CI) bash scripts/test.sh

clean:
	rm -rf corpus models/* reports/*/ $(VENV)
