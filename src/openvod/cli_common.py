"""What the ``openvod`` sub-command modules (cli, cli_dna, cli_tag, cli_upload) share."""

from __future__ import annotations

from typing import Any


class CliError(Exception):
    """A user-facing error: printed as ``openvod: <message>``, exit status 2."""


def account_id(rt: Any, name: str, create: bool = False) -> str:
    """The id of an existing account; an unknown name is refused unless ``create``."""
    found = rt.accounts.find_account(name)
    if found:
        return str(found)
    if not create:
        known = sorted({k.account_name for k in rt.accounts.list_keys()})
        raise CliError(f"no account named {name!r} (accounts: {', '.join(known) or 'none'}); "
                       "check the spelling, or pass --create-account to create it")
    return str(rt.accounts.ensure_account(name))
