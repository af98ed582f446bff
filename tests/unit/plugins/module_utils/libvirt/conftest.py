# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the libvirt module_utils unit tests: libvirt's built-in ``test:///default`` driver
(an in-memory hypervisor with a dir pool ``default-pool`` and a domain ``test``; no daemon)."""

from __future__ import annotations

import secrets

import pytest

from ansible_collections.virtlab.infra.plugins.module_utils.libvirt.connection import LibvirtConnection


@pytest.fixture
def connection():
    conn = LibvirtConnection("test:///default")
    yield conn
    conn.close()


@pytest.fixture
def name():
    return "unit-" + secrets.token_hex(4)
