"""The README stays true: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from parvis.cli import app
from parvis.config import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"| `{name}` |" in README, f"document setting {name} in README.md's Configuration"


def _commands() -> list[str]:
    def name_of(command: typer.models.CommandInfo) -> str:
        assert command.callback is not None
        return command.name or command.callback.__name__.replace("_", "-")

    names = [f"parvis {name_of(c)}" for c in app.registered_commands]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        for command in group.typer_instance.registered_commands:
            names.append(f"parvis {group.name} {name_of(command)}")
    return names


def test_every_command_is_in_the_readme() -> None:
    missing = [name for name in _commands() if f"`{name}" not in README]
    assert not missing, f"document these commands in README.md: {missing}"
