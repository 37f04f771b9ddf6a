"""The project as a package: which warnings may pass, the supported Pythons."""

from __future__ import annotations

import warnings

import pytest

UTCNOW = "datetime.datetime.utcnow() is deprecated and scheduled for removal"


def test_only_named_third_party_warnings_are_silenced(pytestconfig: pytest.Config) -> None:
    first, *ignored = pytestconfig.getini("filterwarnings")
    assert first == "error"
    for entry in ignored:
        action, message, category, module = entry.split(":")
        assert action == "ignore" and message and category  # a named warning, never a blanket
        assert module and not module.startswith(("backupshare", "tests"))  # never our own


def test_our_deprecated_calls_fail_and_the_sdks_do_not() -> None:
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit(UTCNOW, DeprecationWarning, "auth.py", 1, module="backupshare.auth")
    with warnings.catch_warnings(record=True) as seen:  # the filters in force, and a record
        warnings.warn_explicit(
            UTCNOW, DeprecationWarning, "signer.py", 1, module="huaweicloudsdkcore.signer.signer"
        )
    assert seen == []
