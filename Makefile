# Madam — `make run` serves the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := web/static/vendor
export MADAM_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/madam_test
export MADAM_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test setup install static translations lint pytest serve demo clean messages

run: setup
	$(BIN)/madam db upgrade
	$(BIN)/madam demo load
	$(BIN)/madam serve --host 127.0.0.1 --port 5000

test: setup lint pytest

setup: install static translations

install: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Madam needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,prod]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Front-end libraries come from npm; only the files the pages load are copied into static.
static: node_modules/.package-lock.json
	mkdir -p $(VENDOR)/bootstrap/css $(VENDOR)/bootstrap/js $(VENDOR)/vazirmatn/fonts/webfonts
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.rtl.min.css $(VENDOR)/bootstrap/css/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/js/
	cp node_modules/vazirmatn/Vazirmatn-Variable-font-face.css $(VENDOR)/vazirmatn/
	cp 'node_modules/vazirmatn/fonts/webfonts/Vazirmatn[wght].woff2' $(VENDOR)/vazirmatn/fonts/webfonts/
	mkdir -p $(VENDOR)/jalalidatepicker
	cp node_modules/@majidh1/jalalidatepicker/dist/jalalidatepicker.min.js node_modules/@majidh1/jalalidatepicker/dist/jalalidatepicker.min.css $(VENDOR)/jalalidatepicker/
	mkdir -p $(VENDOR)/leaflet/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/leaflet/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/leaflet/images/
	mkdir -p $(VENDOR)/chart.js
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.js/
	mkdir -p $(VENDOR)/bpmn-js
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js node_modules/bpmn-js/dist/assets/diagram-js.css \
		node_modules/bpmn-js/dist/assets/bpmn-js.css $(VENDOR)/bpmn-js/
	mkdir -p $(VENDOR)/bpmn-js/bpmn-font/css $(VENDOR)/bpmn-js/bpmn-font/font
	cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js $(VENDOR)/bpmn-js/
	cp node_modules/bpmn-js/dist/assets/bpmn-font/css/bpmn.css $(VENDOR)/bpmn-js/bpmn-font/css/
	cp node_modules/bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2 node_modules/bpmn-js/dist/assets/bpmn-font/font/bpmn.woff \
		$(VENDOR)/bpmn-js/bpmn-font/font/
	mkdir -p $(VENDOR)/bpmn-js-bpmnlint $(VENDOR)/form-js $(VENDOR)/madam
	cp node_modules/bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css $(VENDOR)/bpmn-js-bpmnlint/
	cp node_modules/@bpmn-io/form-js/dist/assets/form-js.css node_modules/@bpmn-io/form-js/dist/assets/form-js-editor.css \
		node_modules/@bpmn-io/form-js/dist/assets/properties-panel.css $(VENDOR)/form-js/
	node_modules/.bin/esbuild web/static/src/modeler-lint.js --bundle --minify --format=iife --log-level=warning \
		--outdir=$(VENDOR)/madam
# form-js's editor pins an older preact than its viewer: one copy, or the two sets of hooks never meet
	node_modules/.bin/esbuild web/static/src/form-editor.js --bundle --minify --format=iife --log-level=warning \
		--alias:preact=./node_modules/@bpmn-io/form-js-editor/node_modules/preact --outdir=$(VENDOR)/madam

translations: install
	@for po in madam/translations/*/LC_MESSAGES/*.po; do $(BIN)/pybabel compile -i $$po -o $${po%.po}.mo; done

# Refresh the platform's catalogue after changing UI text: extract, merge, then translate new entries.
# A package with its own catalogue (madam/translations/fa/LC_MESSAGES/<package>.po) is extracted the same
# way with its own folders and `-D <package>`.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o madam/translations/messages.pot \
		--ignore-dirs=".venv node_modules tests" madam core web
	$(BIN)/pybabel update -i madam/translations/messages.pot -d madam/translations -D messages --no-fuzzy-matching

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache
