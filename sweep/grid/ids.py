"""A run's id: the same run gets the same id in every process, sweep and machine."""

import hashlib
import json

from sweep.config import RunConfig


def run_id(cfg: RunConfig) -> str:
    """A stable id of one run: the first 16 hex digits of the SHA-256 of its config.

    The config (seed included) is written as canonical JSON (sorted keys, no spaces), so
    the same run gets the same id in every process, sweep and machine.
    """
    return hashlib.sha256(canonical_json(cfg).encode()).hexdigest()[:16]


def canonical_json(cfg: RunConfig) -> str:
    """The config as canonical JSON (sorted keys, no spaces): what :func:`run_id` hashes."""
    return json.dumps(cfg.to_dict(), sort_keys=True, separators=(",", ":"))
