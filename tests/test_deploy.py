"""The deployment files, validated as far as a machine without a Docker engine or a cluster
allows: they parse, every setting they name exists, their probes are the service's routes,
the image runs the command the tests run, and the compose balancer proxies as the tested
nginx recipe does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.api.app import create_app
from service.settings import LOADER_VARIABLES, Settings
from tests.conftest import ROOT, make_settings

DEPLOY = ROOT / "service" / "deploy"
SERVE = ["uv", "run", "--no-sync", "newsfacts", "serve"]  # what tests/test_replicas.py runs
DOCKER_INSTRUCTIONS = {"FROM", "RUN", "COPY", "WORKDIR", "ENV", "EXPOSE", "HEALTHCHECK",
                       "STOPSIGNAL", "CMD", "ARG", "LABEL", "USER"}  # fmt: skip


def _dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, continuations joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def _k8s() -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((DEPLOY / "k8s.yaml").read_text(encoding="utf-8")))


def _pod() -> dict[str, Any]:
    """The newsfacts Deployment's pod spec."""
    [deployment] = [d for d in _k8s() if d["kind"] == "Deployment" and
                    d["metadata"]["name"] == "newsfacts"]  # fmt: skip
    return dict(deployment["spec"]["template"]["spec"])


def _container(name: str = "newsfacts") -> dict[str, Any]:
    """One container of the newsfacts pod: the replica, or its proxy."""
    [container] = [c for c in _pod()["containers"] if c["name"] == name]
    return dict(container)


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8")))


def _directives(conf: str) -> list[str]:
    """The config's lines without comments, blank lines or repeated spaces."""
    lines = (re.sub(r"(^|\s)#.*$", "", line) for line in conf.splitlines())
    return [" ".join(line.split()) for line in lines if line.strip()]


def _balancer(conf: str) -> list[str]:
    """The balancer's directives (from `limit_req_zone` to the end of the server block),
    without what differs between deployments: the listen address and the replicas."""
    lines = _directives(conf)
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("limit_req_zone")) :]
    if sum(line.count("}") for line in lines) > sum(line.count("{") for line in lines):
        lines.pop()  # the end of the enclosing http block, in the full recipe
    return [line for line in lines if not re.match(r"(listen|server) \S+[ ;]", line)]


def _block(conf: str, opening: str) -> str:
    """The text of the block that opens with `opening` (no nested blocks inside)."""
    found = re.search(re.escape(opening) + r" \{(.*?)\}", conf, re.S)
    assert found, f"no {opening} block"
    return found.group(1)


def _seconds(conf: str, directive: str) -> float:
    """The one value, in seconds, that `directive` is given."""
    [value] = re.findall(rf"^\s*{directive} (\d+)s;", conf, re.M)
    return float(value)


def test_the_image_runs_the_command_the_tests_run() -> None:
    steps = _dockerfile()
    assert {name for name, _ in steps} <= DOCKER_INSTRUCTIONS
    [cmd] = [json.loads(args) for name, args in steps if name == "CMD"]
    assert cmd == SERVE
    assert any(name == "RUN" and "uv sync --frozen" in args for name, args in steps)
    [check] = [args for name, args in steps if name == "HEALTHCHECK"]
    assert "/readyz" in check
    assert _container()["command"] == SERVE


def _named_settings() -> dict[str, str]:
    """Every NEWSFACTS_* variable the deployment files set, with the file that sets it."""
    found: dict[str, str] = {}
    for path in DEPLOY.iterdir():
        for name in re.findall(r"\bNEWSFACTS_[A-Z0-9_]+", path.read_text(encoding="utf-8")):
            found.setdefault(name, path.name)
    return found


@pytest.mark.parametrize("variable", sorted(_named_settings()))
def test_every_setting_the_files_name_exists(variable: str) -> None:
    if variable in LOADER_VARIABLES:
        return  # where settings come from, read by load_settings itself
    field = variable.removeprefix("NEWSFACTS_").lower()
    assert field in Settings.model_fields, f"{_named_settings()[variable]} sets {variable}"


def test_the_probes_are_the_service_routes() -> None:
    paths = set(create_app(make_settings()).openapi()["paths"])
    container = _container()
    probes = {container[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe")}
    assert probes == {"/readyz", "/healthz"} and probes <= paths
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert _pod()["terminationGracePeriodSeconds"] > float(env["NEWSFACTS_SHUTDOWN_GRACE_S"]) + 5


def test_compose_balances_as_the_tested_recipe_does() -> None:
    compose = _compose()
    assert {"vllm", "newsfacts-1", "newsfacts-2", "nginx"} <= set(compose["services"])
    replica = compose["services"]["newsfacts-1"]
    assert replica["environment"]["NEWSFACTS_LLM_BASE_URL"] == "http://vllm:8000/v1"
    assert "--enable-prefix-caching" in compose["services"]["vllm"]["command"]
    balancer = compose["configs"]["balancer"]["content"].replace("$$", "$")
    recipe = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert _balancer(balancer) == _balancer(recipe)
    upstreams = re.findall(r"server (newsfacts-\d+):8000", balancer)
    assert upstreams == [n for n in compose["services"] if n.startswith("newsfacts-")]


def test_the_nginx_recipe_is_valid(tmp_path: Path, nginx_path: str) -> None:
    import subprocess

    (tmp_path / "nginx.conf").write_text((DEPLOY / "nginx.conf").read_text(encoding="utf-8"))
    args = [nginx_path, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "syntax is ok" in r.stderr


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings, normalised (PEP 503)."""
    return {re.sub(r"[-_.]+", "-", re.split(r"[<>=\[ ;]", r)[0]).lower() for r in requirements}


def test_the_product_imports_no_development_only_package() -> None:
    """The image installs without the dev group (`uv sync --frozen --no-dev`): nothing the
    service or the eval harness imports may come from it (vcrpy, once, did)."""
    import importlib.metadata
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    dev_only = _names(project["dependency-groups"]["dev"]) - _names(
        project["project"]["dependencies"]
    )
    owners = importlib.metadata.packages_distributions()  # import name -> distributions
    found = []
    code = [*ROOT.glob("service/**/*.py"), *ROOT.glob("evals/**/*.py"), *ROOT.glob("schemas/*.py")]
    for path in code:
        for name in re.findall(
            r"^\s*(?:from|import) (\w+)", path.read_text(encoding="utf-8"), re.M
        ):
            if _names(owners.get(name, [])) & dev_only:
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert {"pytest", "ruff"} <= dev_only and not found, found


def _dockerfile_env() -> dict[str, str]:
    """The NEWSFACTS_* values the image sets."""
    text = " ".join(args for name, args in _dockerfile() if name == "ENV")
    return dict(re.findall(r"(NEWSFACTS_[A-Z_]+)=(\S+)", text))


def _start_as(env: dict[str, str], secrets: dict[str, str], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Settings:  # fmt: skip
    """Settings as a container would load them: its environment, its mounted secret files."""
    from service.settings import load_settings

    folder = tmp_path / "secrets"
    folder.mkdir(exist_ok=True)
    for name, value in secrets.items():
        (folder / name).write_text(value)
    monkeypatch.chdir(tmp_path)
    for name, value in {**env, "NEWSFACTS_SECRETS_DIR": str(folder)}.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def test_the_image_binds_beyond_loopback_only_with_a_token_from_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.errors import ConfigError

    env = _dockerfile_env()
    assert env["NEWSFACTS_HOST"] == "0.0.0.0" and env["NEWSFACTS_SECRETS_DIR"] == "/run/secrets"
    with pytest.raises(ConfigError, match="NEWSFACTS_API_TOKEN"):
        _start_as(env, {}, tmp_path, monkeypatch)
    settings = _start_as(env, {"newsfacts_api_token": "from-a-secret"}, tmp_path, monkeypatch)
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == "from-a-secret"


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = [args.strip() for name, args in _dockerfile() if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    cmd = [i for i, (name, _) in enumerate(_dockerfile()) if name == "CMD"]
    last_user = max(i for i, (name, _) in enumerate(_dockerfile()) if name == "USER")
    assert last_user < cmd[0]
    for container in _pod()["containers"]:
        assert container["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_kubernetes_gives_the_token_and_the_vllm_key_from_a_secret() -> None:
    env = {e["name"]: e for e in _container()["env"]}
    assert env["NEWSFACTS_HOST"]["value"] == "0.0.0.0"
    for name in ("NEWSFACTS_API_TOKEN", "NEWSFACTS_LLM_API_KEY"):
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]
    [vllm] = [d for d in _k8s() if d["kind"] == "Deployment" and d["metadata"]["name"] == "vllm"]
    [server] = vllm["spec"]["template"]["spec"]["containers"]
    assert "--api-key=$(VLLM_API_KEY)" in server["args"]
    assert server["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "vllm-api-key"


def test_compose_keeps_secrets_in_files_and_the_balancer_on_loopback() -> None:
    compose = _compose()
    replica = compose["services"]["newsfacts-1"]
    assert set(replica["secrets"]) == {"newsfacts_api_token", "newsfacts_llm_api_key"}
    assert not any("TOKEN" in k or "KEY" in k for k in replica["environment"])
    assert all(s["environment"] for s in compose["secrets"].values())  # from the shell
    vllm = compose["services"]["vllm"]
    assert "--api-key" in " ".join(vllm["entrypoint"])
    assert all(port.startswith("127.0.0.1:") for port in compose["services"]["nginx"]["ports"])


def test_the_balancer_limits_rate_and_body_size() -> None:
    recipe = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"limit_req_zone \$binary_remote_addr zone=newsfacts:\d+m rate=\d+r/s;",
                     recipe)  # fmt: skip
    server = _directives(recipe)
    assert "limit_req zone=newsfacts burst=200 nodelay;" in server
    assert "limit_req_status 429;" in server
    # equal: nginx refuses no body the service takes, and spools none it would refuse
    [size] = re.findall(r"client_max_body_size (\d+)m;", recipe)
    assert int(size) * 1024 * 1024 == Settings.model_fields["max_body_bytes"].default


RECIPE = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
DEADLINE_MARGIN_S = 60  # the deadline's clock starts once the body is read and parsed


def test_the_balancer_outwaits_the_deadline_and_never_sends_a_post_twice() -> None:
    """The replica's 504 deadline_exceeded comes before nginx gives up; a POST that reached
    a replica is not resent (no `non_idempotent`); the body is streamed, not spooled."""
    deadline = Settings.model_fields["request_timeout_s"].default
    assert _seconds(RECIPE, "proxy_read_timeout") >= deadline + DEADLINE_MARGIN_S
    [retry] = [d for d in _directives(RECIPE) if d.startswith("proxy_next_upstream ")]
    assert set(retry.removesuffix(";").split()[1:]) == {"error", "timeout"}
    assert "proxy_request_buffering off;" in _directives(RECIPE)


def test_the_balancer_drops_idle_upstream_connections_before_the_replica_does() -> None:
    """A POST sent down a connection the replica has just closed is not retried (above):
    nginx must let an idle one go before uvicorn does."""
    from service.api.server import server_config

    replica = server_config(None, make_settings(), "127.0.0.1", 0)  # as `serve` runs it
    assert _seconds(_block(RECIPE, "upstream newsfacts"), "keepalive_timeout") < min(
        replica.timeout_keep_alive,
        5,  # 5: uvicorn's own default
    )


def test_the_balancer_cuts_off_slow_and_idle_clients() -> None:
    server = RECIPE[RECIPE.index("server {") :]
    for directive, most in [("client_header_timeout", 30), ("client_body_timeout", 60),
                            ("keepalive_timeout", 75), ("send_timeout", 120)]:  # fmt: skip
        assert _seconds(server, directive) <= most, directive
    assert re.search(r"^\s*limit_conn newsfacts_conns \d+;", server, re.M)


def _proxy_conf() -> str:
    """The nginx config the Kubernetes pods' proxy runs."""
    [config] = [d for d in _k8s() if d["kind"] == "ConfigMap"]
    [volume] = [
        v for v in _pod()["volumes"] if v["configMap"]["name"] == config["metadata"]["name"]
    ]
    [mount] = _container("proxy")["volumeMounts"]
    assert (mount["name"], mount["mountPath"]) == (volume["name"], "/etc/nginx/conf.d")
    return str(config["data"]["default.conf"])


def test_kubernetes_sends_clients_through_the_proxy() -> None:
    [service] = [d for d in _k8s() if d["kind"] == "Service" and
                 d["metadata"]["name"] == "newsfacts"]  # fmt: skip
    [port] = service["spec"]["ports"]
    proxy_ports = _container("proxy")["ports"]
    assert port["targetPort"] in [p["name"] for p in proxy_ports]
    [listen] = [p["containerPort"] for p in proxy_ports if p["name"] == port["targetPort"]]
    conf = _proxy_conf()
    assert f"listen {listen};" in _directives(conf)
    # the proxy's one upstream is the replica beside it
    env = {e["name"]: e.get("value") for e in _container()["env"]}
    assert re.findall(r"server (\S+) ", _block(conf, "upstream newsfacts")) == [
        f"127.0.0.1:{env['NEWSFACTS_PORT']}"
    ]
    assert _balancer(conf) == _balancer(RECIPE)
    deadline = float(env.get("NEWSFACTS_REQUEST_TIMEOUT_S") or
                     Settings.model_fields["request_timeout_s"].default)  # fmt: skip
    assert _seconds(conf, "proxy_read_timeout") >= deadline + DEADLINE_MARGIN_S


def test_the_kubernetes_proxy_config_is_valid(tmp_path: Path, nginx_path: str) -> None:
    """The ConfigMap's server, inside the main context the nginx image gives it."""
    import subprocess

    main = (
        "pid nginx.pid; error_log stderr warn; events {} http { client_body_temp_path body; "
        "proxy_temp_path proxy; fastcgi_temp_path f; uwsgi_temp_path u; scgi_temp_path s; "
        "include proxy.conf; }"
    )
    (tmp_path / "proxy.conf").write_text(_proxy_conf())
    (tmp_path / "nginx.conf").write_text(main)
    args = [nginx_path, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
