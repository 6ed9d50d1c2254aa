"""load_settings: defaults, the TOML file, CALLCENTER_* variables, and errors that name the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callcenter import config
from callcenter.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CALLCENTER_* variable and no /etc file from the machine leaks into a test."""
    for name in list(os.environ):
        if name.upper().startswith("CALLCENTER_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", tmp_path / "no-such-default.toml")


def write(tmp_path: Path, text: str, name: str = "callcenter.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path | str | None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return str(caught.value)


# -- sources -----------------------------------------------------------------------
def test_defaults_without_file_or_environment() -> None:
    settings = load_settings()
    assert settings.ami.host == "127.0.0.1"
    assert settings.ami.port == 5038
    assert settings.agi.port == 4573
    assert settings.trunks == []
    assert settings.database_url == f"sqlite:///{settings.state_dir / 'callcenter.db'}"
    assert settings.pbx_dir == settings.state_dir / "pbx"
    # Metrics open a port: off unless asked for, and then on loopback only.
    assert not settings.metrics.enabled
    assert (settings.metrics.host, settings.metrics.port) == ("127.0.0.1", 9464)


def test_values_from_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
state_dir = "{tmp_path / "state"}"
[ami]
port = 6038
username = "ops"
ping_interval = 0.5
[agi]
port = 6573
[sip]
bind = "127.0.0.1"
external_address = "192.0.2.10"
[database]
url = "postgresql://cc@localhost/cc"
[log]
level = "DEBUG"
[[trunks]]
name = "carrier"
match = ["192.0.2.0/24", "198.51.100.7"]
contact = "192.0.2.1:5060"
""",
    )
    settings = load_settings(path)
    assert settings.state_dir == tmp_path / "state"
    assert (settings.ami.port, settings.ami.username, settings.ami.ping_interval) == (
        6038,
        "ops",
        0.5,
    )
    assert settings.agi.port == 6573
    assert settings.sip.external_address == "192.0.2.10"
    assert settings.database_url == "postgresql://cc@localhost/cc"
    assert settings.log.level == "DEBUG"
    assert [t.name for t in settings.trunks] == ["carrier"]
    assert settings.trunks[0].match == ["192.0.2.0/24", "198.51.100.7"]


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CALLCENTER_AMI__PORT", "5039")
    monkeypatch.setenv("CALLCENTER_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CALLCENTER_TRUNKS", '[{"name": "t1", "match": ["127.0.0.2"]}]')
    settings = load_settings()
    assert settings.ami.port == 5039
    assert settings.state_dir == tmp_path
    assert settings.trunks[0].name == "t1"


def test_environment_beats_the_file_key_by_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path, '[ami]\nport = 6000\nusername = "fromfile"\n')
    monkeypatch.setenv("CALLCENTER_AMI__PORT", "5039")
    settings = load_settings(path)
    assert settings.ami.port == 5039  # the environment wins...
    assert settings.ami.username == "fromfile"  # ...without wiping the rest of [ami]


def test_environment_can_override_a_bad_file_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path, "[ami]\nport = 70000\n")
    monkeypatch.setenv("CALLCENTER_AMI__PORT", "5040")
    assert load_settings(path).ami.port == 5040


def test_file_named_by_callcenter_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, "[agi]\nport = 7573\n")
    monkeypatch.setenv("CALLCENTER_CONFIG", str(path))
    assert load_settings().agi.port == 7573


def test_explicit_path_beats_callcenter_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CALLCENTER_CONFIG", str(write(tmp_path, "[agi]\nport = 7573\n", "a.toml")))
    explicit = write(tmp_path, "[agi]\nport = 8573\n", "b.toml")
    assert load_settings(explicit).agi.port == 8573


def test_default_file_is_read_when_present(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", write(tmp_path, "[ami]\nport = 5555\n"))
    assert load_settings().ami.port == 5555


# -- errors name the key and the file --------------------------------------------------
@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[ami]\nport = 70000\n", "ami.port"),
        ("[ami]\nport = 0\n", "ami.port"),
        ('[ami]\nport = "many"\n', "ami.port"),
        ('[ami]\nhost = "10.0.0.1"\n', "ami.host"),
        ('[ami]\nhost = "localhost"\n', "ami.host"),
        ('[agi]\nhost = "0.0.0.0"\n', "agi.host"),
        ('[ami]\nusername = "Bad User"\n', "ami.username"),
        ("[ami]\nping_timeout = 0\n", "ami.ping_timeout"),
        ("[ami]\nbogus = 1\n", "ami.bogus"),
        ("bogus = 1\n", "bogus"),
        ('[sip]\nbind = "not-an-ip"\n', "sip.bind"),
        ("[sip]\nrtp_start = 80\n", "sip.rtp_start"),
        ('[pbx]\nprovider = "docker"\n', "pbx.provider"),
        ('[metrics]\nhost = "0.0.0.0"\n', "metrics.host"),
        ("[metrics]\nport = 70000\n", "metrics.port"),
        ('[log]\nlevel = "TRACE"\n', "log.level"),
        ('[[trunks]]\nname = "t"\nmatch = ["300.1.1.1"]\n', "trunks.0.match"),
        ('[[trunks]]\nname = "t"\nmatch = []\n', "trunks.0.match"),
        ('[[trunks]]\nname = "Bad Name"\nmatch = ["127.0.0.2"]\n', "trunks.0.name"),
    ],
)
def test_bad_value_names_key_and_file(tmp_path: Path, toml: str, key: str) -> None:
    path = write(tmp_path, toml)
    message = error_of(path)
    assert f"{key}:" in message
    assert str(path) in message


def test_loopback_error_says_why(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, '[ami]\nhost = "10.0.0.1"\n'))
    assert "10.0.0.1 is not a loopback address" in message


def test_ipv6_loopback_is_accepted(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, '[ami]\nhost = "::1"\n')).ami.host == "::1"


def test_every_bad_key_is_listed(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, '[ami]\nport = 70000\nhost = "10.0.0.1"\n'))
    assert "ami.port:" in message
    assert "ami.host:" in message


def test_bad_environment_value_names_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_AMI__PORT", "abc")
    message = error_of(None)
    assert "ami.port:" in message
    assert "CALLCENTER_* environment" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[ami\nport = 1\n")
    message = error_of(path)
    assert str(path) in message
    assert "not valid TOML" in message


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    message = error_of(path)
    assert str(path) in message
    assert "does not exist" in message


def test_missing_file_from_callcenter_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CALLCENTER_CONFIG", str(tmp_path / "gone.toml"))
    assert str(tmp_path / "gone.toml") in error_of(None)


def test_malformed_json_in_environment_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALLCENTER_TRUNKS", "[{name: t1}")
    assert "trunks" in error_of(None)


def test_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[ami]\nusername = "caf\xe9"\n')
    assert str(path) in error_of(path)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    assert str(tmp_path) in error_of(tmp_path)


def test_a_standby_needs_postgresql_and_a_fence_longer_than_a_check(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "")).ha.enabled is False  # one box by default
    message = error_of(write(tmp_path, '[ha]\nenabled = true\nnode = "cc1"\n'))
    assert "needs a PostgreSQL" in message
    postgres = '[database]\nurl = "postgresql+psycopg2://cc@db/cc"\n'
    settings = load_settings(write(tmp_path, postgres + '[ha]\nenabled = true\nnode = "cc1"\n'))
    assert (settings.ha.node, settings.ha.fence_after) == ("cc1", 1.5)
    message = error_of(write(tmp_path, postgres + "[ha]\ncheck_interval = 2.0\n"))
    assert "check_interval must be below fence_after" in message
    assert "ha.node" in error_of(write(tmp_path, postgres + '[ha]\nnode = "Bad Name"\n'))
