"""Several Asterisk nodes in one configuration file ([[pbx.nodes]]): validation, the
node's own view, and what `callcenter pbx up` renders on a node."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from callcenter.adapters.pbx.render import PbxLayout, Renderer, ami_permit, nodes_conf
from callcenter.config import ConfigError, Settings, load_settings


def node(tmp_path: Path, name: str, address: str, **extra: Any) -> dict[str, Any]:
    secret = tmp_path / f"{name}.secret"
    secret.write_text(f"secret-{name}\n")
    return {
        "name": name,
        "address": address,
        "ami_secret_file": str(secret),
        "state_dir": str(tmp_path / name),
        **extra,
    }


def two_nodes(tmp_path: Path, **pbx: Any) -> Settings:
    return Settings(
        state_dir=tmp_path / "controller",
        agi={"host": "10.9.0.1"},
        pbx={
            "nodes": [node(tmp_path, "alpha", "10.9.1.2"), node(tmp_path, "beta", "10.9.2.2")],
            "controller_networks": ["10.9.0.0/16"],
            **pbx,
        },
    )


def test_single_box_stays_as_it_was() -> None:
    settings = Settings()
    assert settings.pbx.nodes == [] and settings.pbx.node == ""
    assert settings.agi.host == "127.0.0.1"
    assert ami_permit(settings) == "permit = 127.0.0.0/255.0.0.0"


def test_agi_off_loopback_only_with_nodes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"agi\.host"):
        Settings(agi={"host": "10.9.0.1"})
    assert two_nodes(tmp_path).agi.host == "10.9.0.1"


def test_public_addresses_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a private address"):
        Settings(
            pbx={
                "nodes": [node(tmp_path, "alpha", "8.8.8.8")],
                "controller_networks": ["10.0.0.0/8"],
            }
        )
    with pytest.raises(ValueError, match=r"agi\.host"):
        two_nodes(tmp_path).model_validate(
            {**two_nodes(tmp_path).model_dump(), "agi": {"host": "0.0.0.0"}}
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"node": "gamma"}, "not one of"),
        ({"controller_networks": []}, "controller_networks"),
    ],
)
def test_bad_node_settings(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        two_nodes(tmp_path, **change)


def test_duplicate_names_and_addresses(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="names must differ"):
        Settings(
            agi={"host": "10.9.0.1"},
            pbx={
                "nodes": [node(tmp_path, "alpha", "10.9.1.2"), node(tmp_path, "alpha", "10.9.2.2")],
                "controller_networks": ["10.9.0.0/16"],
            },
        )
    with pytest.raises(ValueError, match="share one SIP"):
        Settings(
            agi={"host": "10.9.0.1"},
            pbx={
                "nodes": [node(tmp_path, "alpha", "10.9.1.2"), node(tmp_path, "beta", "10.9.1.2")],
                "controller_networks": ["10.9.0.0/16"],
            },
        )


def test_error_names_the_key_and_file(tmp_path: Path) -> None:
    path = tmp_path / "cc.toml"
    path.write_text(
        '[agi]\nhost = "10.9.0.1"\n[pbx]\ncontroller_networks = ["10.9.0.0/16"]\n'
        '[[pbx.nodes]]\nname = "alpha"\naddress = "1.2.3.4"\n'
        f'ami_secret_file = "{tmp_path}/a"\nstate_dir = "{tmp_path}/a"\n'
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert "pbx.nodes.0.address" in str(error.value) and str(path) in str(error.value)


def test_node_view(tmp_path: Path) -> None:
    view = two_nodes(tmp_path).node_settings("beta")
    assert view.state_dir == tmp_path / "beta"
    assert (view.ami.host, view.ami.port, view.ami.secret) == ("10.9.2.2", 5038, "secret-beta")
    assert (view.sip.bind, view.pbx.node) == ("10.9.2.2", "beta")
    assert view.agi.host == "10.9.0.1"  # the controller's address, shared


def test_missing_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    settings = two_nodes(tmp_path)
    (tmp_path / "alpha.secret").unlink()
    with pytest.raises(ConfigError, match="alpha: AMI secret file"):
        settings.node_settings("alpha")


def test_each_node_renders_a_trunk_to_the_others(tmp_path: Path) -> None:
    view = two_nodes(tmp_path).node_settings("alpha")
    text = nodes_conf(view)
    assert "[node-beta](node-endpoint)" in text
    assert "contact = sip:10.9.2.2:5060" in text and "match = 10.9.2.2" in text
    assert "node-alpha" not in text
    assert ami_permit(view) == "permit = 10.9.0.0/16"


def test_rendered_node(tmp_path: Path) -> None:
    view = two_nodes(tmp_path).node_settings("beta")
    layout = _layout(tmp_path / "beta" / "pbx")
    Renderer(view, layout).render("secret-beta", None)
    etc = tmp_path / "beta" / "pbx" / "etc"
    assert "systemname = beta" in (etc / "asterisk.conf").read_text()
    manager = (etc / "manager.conf").read_text()
    assert "bindaddr = 10.9.2.2" in manager and "permit = 10.9.0.0/16" in manager
    assert "bind = 10.9.2.2:5060" in (etc / "pjsip.conf").read_text()
    assert "[node-alpha](node-endpoint)" in (etc / "generated/pjsip_nodes.conf").read_text()
    assert "agi://10.9.0.1:4573" in (etc / "generated/globals.conf").read_text()


def _layout(pbx_dir: Path) -> PbxLayout:
    return PbxLayout(
        host_dir=pbx_dir,
        inner_dir=str(pbx_dir),
        mod_dir="/usr/lib/asterisk/modules",
        data_dir="/usr/share/asterisk",
        run_user="nobody",
        uid=os.getuid(),
        gid=os.getgid(),
    )


# -- two controllers on two hosts ([agi] controllers, [ha]) -----------------------------------
PG = {"url": "postgresql+psycopg2://cc@10.9.0.9/callcenter"}


def two_controllers(tmp_path: Path, host: str = "10.9.0.1", **agi: Any) -> Settings:
    base = two_nodes(tmp_path).model_dump()
    return Settings.model_validate(
        {
            **base,
            "agi": {"host": host, "controllers": ["10.9.0.1", "10.9.0.2"], **agi},
            "ha": {"enabled": True},
            "database": PG,
        }
    )


def test_each_controller_is_one_of_the_list_and_the_nodes_start_with_the_first(
    tmp_path: Path,
) -> None:
    first, second = two_controllers(tmp_path), two_controllers(tmp_path, host="10.9.0.2")
    assert first.agi.url() == "agi://10.9.0.1:4573" and second.agi.url() == "agi://10.9.0.2:4573"
    assert first.agi.first_url() == second.agi.first_url() == "agi://10.9.0.1:4573"
    with pytest.raises(ValueError, match=r"not one of agi\.controllers"):
        two_controllers(tmp_path, host="10.9.0.3")
    # On a node's machine [agi] host is not a controller's own: the list is what counts.
    view = two_controllers(tmp_path, host="10.9.0.2").node_settings("alpha")
    layout = _layout(tmp_path / "alpha" / "pbx")
    Renderer(view, layout).render("secret-alpha", None)
    text = (tmp_path / "alpha" / "pbx" / "etc" / "generated/globals.conf").read_text()
    assert "CC_AGI = agi://10.9.0.1:4573" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agi": {"host": "10.9.0.1", "controllers": ["10.9.0.1", "10.9.0.1"]}}, "twice"),
        ({"agi": {"host": "10.9.0.1", "controllers": ["10.9.0.1", "8.8.8.8"]}}, "private"),
        ({"ha": {"enabled": False}}, r"\[ha\] enabled"),
    ],
)
def test_bad_controller_lists(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    base = two_controllers(tmp_path).model_dump()
    with pytest.raises(ValueError, match=message):
        Settings.model_validate({**base, **change})


def test_a_single_box_lists_no_controllers() -> None:
    with pytest.raises(ValueError, match=r"\[\[pbx.nodes\]\]"):
        Settings(agi={"controllers": ["127.0.0.1", "127.0.0.2"]}, ha={"enabled": True}, database=PG)
    assert Settings().agi.first_url() == "agi://127.0.0.1:4573"
