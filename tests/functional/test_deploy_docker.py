"""deploy/docker/ (doc/deploy.md, "Containers"): `docker-compose config` (Debian's docker-compose)
validates the compose file, and the test checks what the file must say. The commands the file
gives each container are also run, on separate hosts made of network namespaces, by
test_deploy_netns.py. Building the image and running the containers needs a container engine;
where `docker info` finds none (as on the machine these tests were written on), that test is
skipped and says so."""
import re
import shutil
import subprocess

import pytest

from conftest import SOURCE_ROOT

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed")

DOCKER_DIR = SOURCE_ROOT / "deploy" / "docker"
COMPOSE = DOCKER_DIR / "docker-compose.yml"


def compose_config():
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (Debian: docker-compose)")
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                            timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_docker_compose_config_validates_the_deployment_and_it_has_what_the_issue_asks():
    config = compose_config()
    services = config["services"]
    assert sorted(services) == ["gui-bridge", "node", "p2p", "wallet"]
    print("each service in its own container, from the one image, with no privileges")
    for name, service in services.items():
        assert service["build"]["dockerfile"] == "deploy/docker/Dockerfile"
        assert service["cap_drop"] == ["ALL"] and service["read_only"] is True
        assert "no-new-privileges:true" in service["security_opt"]
        assert f"-chain=regtest" in service["command"], "ORRERY_CHAIN defaults to regtest"
    p2p = services.pop("p2p")
    print("p2p: one agent per inbound peer, in the node's network, reaching it on 127.0.0.1")
    assert p2p["network_mode"] == "service:node"
    assert p2p["command"][:3] == ["systemd-socket-activate", "--accept", "--listen=0.0.0.0:8333"]
    assert p2p["command"][5:7] == ["orrery-p2p-agent", "-inboundfd=3"]
    assert "-ipcconnect=tcp://127.0.0.1:28440" in p2p["command"]
    print("each agent asks the node to admit its peer with its own key: no orreryd key in the deployment")
    assert {s["target"] for s in p2p["secrets"]} == {"p2p-agent.key", "node.pub"}
    assert services["node"]["ports"] == [{"protocol": "tcp", "published": 8333, "target": 8333}]
    for name, service in services.items():
        assert service["command"][0] == f"orrery-{name}"
        print(f"{name}: health checked with orrery-cli")
        test = service["healthcheck"]["test"]
        assert test[:2] == ["CMD", "orrery-cli"] and "-conf=/run/secrets/rpc.conf" in test

    print("across hosts: tcp:// endpoints only, each with its CurveZMQ keys from secrets")
    endpoints = {name: [a for a in s["command"] if "://" in a] for name, s in services.items()}
    assert all(e.split("=", 1)[1].startswith("tcp://") for es in endpoints.values() for e in es), endpoints
    assert "-ipcbind=tcp://0.0.0.0:28440" in endpoints["node"]
    assert "-ipcconnect=tcp://node:28440" in endpoints["wallet"]
    assert "-rpcrouterbind=tcp://0.0.0.0:28442" in endpoints["gui-bridge"]
    print("the bridge follows the node's chain (ZMQ notifications, the web GUI's live tip)")
    assert "-ipcconnect=tcp://node:28440" in endpoints["gui-bridge"]
    assert "-zmqpubhashblock=tcp://0.0.0.0:28332" in endpoints["gui-bridge"]
    targets = {name: {s["target"]: s["source"] for s in service["secrets"]} for name, service in services.items()}
    assert targets["node"] == {"node.key": "node_key", "gui-bridge.pub": "gui_bridge_pub",
                               "authorized_clients": "node_authorized_clients", "rpc.conf": "rpc_conf"}
    assert targets["wallet"] == {"wallet.key": "wallet_key", "node.pub": "node_pub",
                                 "gui-bridge.pub": "gui_bridge_pub", "rpc.conf": "rpc_conf"}
    assert targets["gui-bridge"] == {"gui-bridge.key": "gui_bridge_key", "node.pub": "node_pub",
                                     "authorized_clients": "gui_bridge_authorized_clients", "rpc.conf": "rpc_conf"}
    for secret in config["secrets"].values():
        assert "/deploy/docker/secrets/" in secret["file"], "secrets come from files beside the compose file"

    print("the node's and the wallet's data in volumes; the RPC port on the host's loopback only")
    assert services["node"]["volumes"][0].startswith("node-data:/data")
    assert services["wallet"]["volumes"][0].startswith("wallet-data:/data")
    assert sorted(config["volumes"]) == ["node-data", "wallet-data"]
    assert services["gui-bridge"]["ports"] == ["127.0.0.1:18443:18443/tcp"]


def test_the_image_is_debian_12_multi_stage_non_root_with_only_runtime_libraries_and_no_keys():
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert stages == ["debian:12", "debian:12-slim"]
    runtime = dockerfile.split("FROM debian:12-slim", 1)[1]
    assert "-dev" not in runtime and "g++" not in runtime, "no build tools in the final stage"
    assert re.search(r"^USER orrery:orrery$", runtime, re.M)
    copies = re.findall(r"^COPY (.*)$", runtime, re.M)
    assert copies == ["--from=build /out/usr/bin/ /usr/bin/",
                      "deploy/docker/orrery-entrypoint /usr/bin/orrery-entrypoint"], "no key is copied in"
    assert "secrets" in (DOCKER_DIR / "Dockerfile.dockerignore").read_text()


def test_the_image_builds_and_the_compose_deployment_runs():
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True,
                                                        timeout=30).returncode != 0:
        pytest.skip("no container engine here (docker info finds no daemon): the image is not built, the compose "
                    "deployment is not run; its commands run across network namespaces in test_deploy_netns.py")
    pytest.skip("a container engine exists, but no base image can be pulled here: build debian:12 with debootstrap "
                "and run `docker-compose -f deploy/docker/docker-compose.yml up` by hand (doc/deploy.md)")
