# Copyright (c) 2026 virtlab.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Options shared by every *_devtest_clones module: the documentation of DEVTEST_COMMON_ARGS."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  set_name:
    description:
      - Name of the clone set (for example a team or a project). Every clone and frozen version records it;
        only objects of this set are ever changed or removed.
      - Letters, digits, V(.), V(_) and V(-), up to 63 characters.
    type: str
    required: true
  golden_version:
    description:
      - Label of the golden state the clones are made from. A label the set does not have yet freezes the
        golden's current content as a new, protected version (with O(action=present), V(refresh) or V(reset)).
      - Existing clones keep their version until O(action=refresh) replaces them.
      - A version is removed only when no clone uses it and it is not the current label.
    type: str
    required: true
  clones:
    description: The clones of the set, one per user.
    type: list
    elements: dict
    default: []
    suboptions:
      user:
        description: Owner of the clone (user or team); one clone per user.
        type: str
        required: true
      name:
        description:
          - Name of the clone; defaults to C(<golden>-<set_name>-<user>) plus the platform's suffix.
          - A foreign object of that name (one not made for this set) is refused, never touched.
        type: str
      address:
        description: A fixed IP address for the clone; claimed before addresses are allocated from O(address_pool).
        type: str
      expires:
        description:
          - When the clone expires - an ISO date (V(2026-12-31)) or date-time (UTC unless given), or a duration
            from its creation (V(30m), V(12h), V(7d), V(2w)).
          - Defaults to O(default_lifetime). O(action=expire) removes clones past their expiry.
        type: str
      refresh:
        description: V(false) keeps this clone on its version when O(action=refresh) replaces the others.
        type: bool
        default: true
  action:
    description:
      - V(present) creates missing clones (idempotent) and never replaces or removes one.
      - V(refresh) also replaces clones on an older version with a fresh clone of O(golden_version), except
        clones with O(clones[].refresh=false) and split clones.
      - V(reset) destroys the O(targets)' clones and clones them again from the version they use (their
        data is lost); it reports a change every time.
      - V(split) makes the O(targets)' clones independent of their version; they stay in the set.
      - V(teardown) removes the set's clones (all, or only O(targets)) and the versions no clone uses any more;
        the golden source is untouched.
      - V(expire) removes the set's clones whose expiry has passed.
    type: str
    choices: [present, refresh, reset, teardown, expire, split]
    default: present
  targets:
    description:
      - Users (or clone names) that O(action=reset), V(split) or V(teardown) acts on. Required for V(reset)
        and V(split); without it V(teardown) removes the whole set.
    type: list
    elements: str
    default: []
  address_pool:
    description:
      - A CIDR (for example V(10.20.0.0/24)) from which clones without a fixed O(clones[].address) get one.
      - Fixed addresses are claimed first, a clone keeps the address it has, the others get the lowest free
        host addresses in list order. A pool too small fails naming this option.
    type: str
  default_lifetime:
    description: Expiry of clones without O(clones[].expires), as a duration from creation (V(14d)).
    type: str
requirements:
  - netaddr (with O(address_pool) or O(clones[].address))
"""
