"""deploy/kubernetes/ (doc/deploy.md, "Kubernetes"): key material made by deploy/orrery-keys, the
manifests rendered by `kubectl kustomize` (offline, no cluster), and the result checked: what runs
as what, which Secret each pod gets, the probes, and that the NetworkPolicies let through only
ARCHITECTURE's IPC links and the P2P port. No cluster runs here: nothing is applied."""
import base64
import shutil
import subprocess
import sys

import pytest

from conftest import SOURCE_ROOT

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed")
pytest.importorskip("zmq", reason="python3-zmq is not installed (deploy/orrery-keys makes CurveZMQ keys with it)")

KUBE_DIR = SOURCE_ROOT / "deploy" / "kubernetes"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (Debian: kubernetes-client)")
    copy = tmp_path_factory.mktemp("kubernetes") / "k"
    shutil.copytree(KUBE_DIR, copy, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run([sys.executable, str(SOURCE_ROOT / "deploy" / "orrery-keys"), str(copy / "secrets"), "--rpc"],
                   check=True, capture_output=True, timeout=60)
    result = subprocess.run(["kubectl", "kustomize", str(copy)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    return {(o["kind"], o["metadata"]["name"].rsplit("-", 1)[0] if o["kind"] in ("Secret", "ConfigMap")
             else o["metadata"]["name"]): o for o in objects}


def pod_spec(rendered, kind, name):
    return rendered[(kind, name)]["spec"]["template"]["spec"]


def test_kustomize_renders_the_node_and_wallet_as_stateful_sets_and_the_bridge_behind_a_service(rendered):
    assert all(o["metadata"].get("namespace") == "orrery" for k, o in rendered.items() if k[0] != "Namespace")
    node = rendered[("StatefulSet", "orrery-node")]
    wallet = rendered[("StatefulSet", "orrery-wallet")]
    print("the node and the wallet keep their data on their own volumes")
    for workload in (node, wallet):
        assert workload["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert rendered[("Deployment", "orrery-gui-bridge")]["spec"]["replicas"] == 1
    assert {p["port"] for p in rendered[("Service", "orrery-gui-bridge")]["spec"]["ports"]} == {8332, 28442, 28332}
    assert rendered[("Service", "orrery-p2p")]["spec"]["ports"][0]["port"] == 8333

    print("every container runs without privileges, with orrery-cli probes on the services")
    for kind, name in (("StatefulSet", "orrery-node"), ("StatefulSet", "orrery-wallet"),
                       ("Deployment", "orrery-gui-bridge")):
        spec = pod_spec(rendered, kind, name)
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 10001
        for container in spec["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        main = spec["containers"][0]
        assert "orrery-cli" in " ".join(main["livenessProbe"]["exec"]["command"])
        assert "orrery-cli" in " ".join(main["readinessProbe"]["exec"]["command"])
        print(f"{name}: tcp:// endpoints only")
        endpoints = [a for a in main["args"] if "://" in a]
        assert endpoints and all(a.split("=", 1)[1].startswith("tcp://") for a in endpoints), endpoints


def test_each_pod_gets_only_its_own_key_material_from_secrets(rendered):
    def secret_of(spec, volume):
        return next(v["secret"]["secretName"] for v in spec["volumes"] if v["name"] == volume)

    def files(secret_name):
        return sorted(rendered[("Secret", secret_name.rsplit("-", 1)[0])]["data"])

    node = pod_spec(rendered, "StatefulSet", "orrery-node")
    assert files(secret_of(node, "keys")) == ["authorized_clients", "gui-bridge.pub", "node.key"]
    print("the p2p agents ask the node to admit their peers with their own key: no orreryd key anywhere")
    assert files(secret_of(node, "p2p-keys")) == ["node.pub", "p2p-agent.key"]
    wallet = pod_spec(rendered, "StatefulSet", "orrery-wallet")
    assert files(secret_of(wallet, "keys")) == ["gui-bridge.pub", "node.pub", "wallet.key"]
    bridge = pod_spec(rendered, "Deployment", "orrery-gui-bridge")
    assert files(secret_of(bridge, "keys")) == ["authorized_clients", "gui-bridge.key", "node.pub"]
    print("the bridge follows the node's chain: its key is in the node's allow-list as gui-bridge")
    assert "-ipcconnect=tcp://orrery-node:28440" in bridge["containers"][0]["args"]
    node_clients = rendered[("Secret", "orrery-node-keys")]["data"]["authorized_clients"]
    roles = sorted(line.split()[1] for line in base64.b64decode(node_clients).decode().splitlines()
                   if line and not line.startswith("#"))
    assert roles == ["gui-bridge", "p2p-agent", "wallet"]
    print("the p2p container starts one agent per connection, which reaches the node in its pod")
    p2p = next(c for c in node["containers"] if c["name"] == "p2p")
    assert p2p["args"][:3] == ["systemd-socket-activate", "--accept", "--listen=0.0.0.0:8333"]
    assert "-ipcconnect=tcp://127.0.0.1:28440" in p2p["args"]


def test_network_policies_allow_only_the_ipc_links_of_the_architecture_and_the_p2p_port(rendered):
    policies = {name: o["spec"] for (kind, name), o in rendered.items() if kind == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    def component(peer):
        return peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")

    allowed = set()  # (from, to, port): from None means anywhere
    for name in ("node", "wallet", "gui-bridge"):
        spec = policies[name]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == name
        for rule in spec.get("ingress", []):
            sources = [component(p) or p.get("podSelector", {}).get("matchLabels") for p in rule.get("from", [])]
            for port in rule["ports"]:
                for source in sources or [None]:
                    allowed.add(("in", str(source), name, port["port"]))
        for rule in spec.get("egress", []):
            for peer in rule["to"]:
                for port in rule["ports"]:
                    allowed.add(("out", name, component(peer), port["port"]))
    print(sorted(allowed))
    assert allowed == {
        ("in", "wallet", "node", 28440), ("in", "gui-bridge", "node", 28440), ("in", "None", "node", 8333),
        ("in", "node", "gui-bridge", 28442), ("in", "wallet", "gui-bridge", 28442),
        ("in", "node", "gui-bridge", 8332), ("in", "wallet", "gui-bridge", 8332),
        ("in", "{'orrery.io/rpc-client': 'true'}", "gui-bridge", 8332),
        ("in", "{'orrery.io/rpc-client': 'true'}", "gui-bridge", 28332), ("out", "gui-bridge", "node", 28440),
        ("out", "node", "gui-bridge", 28442), ("out", "node", "gui-bridge", 8332),
        ("out", "wallet", "node", 28440), ("out", "wallet", "gui-bridge", 28442), ("out", "wallet", "gui-bridge", 8332),
    }
