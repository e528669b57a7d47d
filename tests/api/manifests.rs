//! The Kubernetes manifests in `manifests/k8s/`: what Rebound needs of them
//! (its configuration loads, every secret it reads exists in the example
//! Secret, probes hit its health routes, the grace period outlasts a stop,
//! migrations run once before `serve --no-migrate`), then validation
//! against the Kubernetes schemas, offline, with `kubernetes-validate`
//! (PyPI) on what `kubectl kustomize` builds, or on each file when no
//! kustomize is installed. With CI=true a missing validator is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn k8s_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/k8s")
}

fn yaml(relative: &str) -> Value {
    let text = std::fs::read_to_string(k8s_dir().join(relative)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn pod_spec(workload: &Value) -> &Value {
    &workload["spec"]["template"]["spec"]
}

fn container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    pod_spec(workload)["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"].as_array()?.iter().find(|e| e["name"] == name)
}

/// Checks one workload's pod the way both variants must be.
fn assert_hardened_pod(workload: &Value, what: &str) {
    let pod = pod_spec(workload);
    assert!(
        pod["terminationGracePeriodSeconds"].as_i64().unwrap() >= 45,
        "{what}: preStop 5 s + drain 10 s + a 30 s Slack call must fit"
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{what}");
    assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
    let all: Vec<&Value> = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(pod["initContainers"].as_array().into_iter().flatten())
        .collect();
    for c in &all {
        let security = &c["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true, "{what}");
        assert_eq!(security["allowPrivilegeEscalation"], false, "{what}");
        assert_eq!(security["capabilities"]["drop"][0], "ALL", "{what}");
        assert!(c["resources"]["limits"]["memory"].is_string(), "{what}: memory limit");
    }
    let main = container(workload, "rebound");
    assert_eq!(main["livenessProbe"]["httpGet"]["path"], "/healthz", "{what}");
    assert_eq!(main["startupProbe"]["httpGet"]["path"], "/healthz", "{what}");
    assert_eq!(main["readinessProbe"]["httpGet"]["path"], "/readyz", "{what}");
    assert_eq!(env_value(main, "REBOUND_ADDR").unwrap()["value"], "0.0.0.0:3000");
    assert_eq!(
        env_value(main, "REBOUND_CONFIG").unwrap()["value"],
        "/etc/rebound/rebound.toml"
    );
    let secret = yaml("secret.example.yaml");
    for c in all {
        for env in c["env"].as_array().unwrap() {
            let Some(reference) = env["valueFrom"].get("secretKeyRef") else {
                continue;
            };
            assert_eq!(reference["name"], "rebound-secrets", "{what}");
            let key = reference["key"].as_str().unwrap();
            assert!(
                secret["stringData"][key].is_string(),
                "{what}: the example Secret lacks {key}"
            );
        }
    }
}

#[test]
fn the_postgres_deployment_migrates_once_then_serves_two_replicas() {
    let deployment = yaml("deployment.yaml");
    assert_hardened_pod(&deployment, "deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    assert_eq!(pod_spec(&deployment)["initContainers"][0]["args"][0], "migrate");
    let main = container(&deployment, "rebound");
    assert_eq!(main["args"], serde_json::json!(["serve", "--no-migrate"]));
    let spread = pod_spec(&deployment)["topologySpreadConstraints"].as_array().unwrap();
    assert!(spread.iter().any(|s| s["topologyKey"] == "kubernetes.io/hostname"));
    let pdb = yaml("pdb.yaml");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    let service = yaml("common/service.yaml");
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"], "http",
        "only the public listener"
    );
}

#[test]
fn the_sqlite_variant_is_one_replica_with_its_database_on_a_claim() {
    let statefulset = yaml("sqlite/statefulset.yaml");
    assert_hardened_pod(&statefulset, "statefulset");
    assert_eq!(statefulset["spec"]["replicas"], 1, "SQLite has one writer");
    let main = container(&statefulset, "rebound");
    let url = env_value(main, "DATABASE_URL").unwrap()["value"].as_str().unwrap();
    assert!(url.starts_with("sqlite:///var/lib/rebound/"), "{url}");
    let mounts = main["volumeMounts"].as_array().unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m["name"] == "data" && m["mountPath"] == "/var/lib/rebound")
    );
    assert_eq!(
        statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "data"
    );
}

#[test]
fn the_configmap_holds_a_configuration_rebound_loads() {
    let configmap = yaml("common/configmap.yaml");
    let toml = configmap["data"]["rebound.toml"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rebound.toml");
    std::fs::write(&path, toml).unwrap();
    let env: std::collections::BTreeMap<String, String> =
        [("REBOUND_CONFIG".to_string(), path.display().to_string())].into();
    let settings = rebound::config::Settings::load(&env).unwrap();
    assert_eq!(settings.file.slack.announce_channel, "incidents");
}

#[test]
fn the_example_secret_is_clearly_a_placeholder() {
    let secret = yaml("secret.example.yaml");
    for (key, value) in secret["stringData"].as_object().unwrap() {
        assert!(value.as_str().unwrap().contains("PLACEHOLDER"), "{key}");
    }
    for kustomization in [
        "kustomization.yaml",
        "common/kustomization.yaml",
        "sqlite/kustomization.yaml",
    ] {
        let resources = yaml(kustomization)["resources"].to_string();
        assert!(
            !resources.contains("secret"),
            "{kustomization}: applying it must not overwrite a real Secret"
        );
    }
}

fn installed(program: &str, probe: &[&str]) -> bool {
    Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What the cluster would be given: the built kustomizations, or every
/// resource file when no kustomize is installed.
fn documents_to_validate(dir: &Path) -> Vec<PathBuf> {
    let secret = k8s_dir().join("secret.example.yaml");
    if installed("kubectl", &["version", "--client"]) {
        let mut built = vec![secret];
        for (variant, out) in [("", "postgres.yaml"), ("sqlite", "sqlite.yaml")] {
            let output = Command::new("kubectl")
                .args(["kustomize"])
                .arg(k8s_dir().join(variant))
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            std::fs::write(dir.join(out), output.stdout).unwrap();
            built.push(dir.join(out));
        }
        return built;
    }
    eprintln!("no kubectl: validating each manifest file instead of the built kustomizations");
    [
        "common/configmap.yaml",
        "common/service.yaml",
        "deployment.yaml",
        "pdb.yaml",
        "sqlite/statefulset.yaml",
    ]
    .iter()
    .map(|f| k8s_dir().join(f))
    .chain([secret])
    .collect()
}

#[test]
fn the_manifests_validate_against_the_kubernetes_schemas() {
    if !installed("kubernetes-validate", &["--version"]) {
        assert!(
            std::env::var("CI").is_err(),
            "kubernetes-validate is required in CI (pip install kubernetes-validate)"
        );
        eprintln!("skipping: kubernetes-validate is not installed (pip install kubernetes-validate)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let documents = documents_to_validate(dir.path());
    let output = Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", "1.30.0"])
        .args(&documents)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}");
    for kind in [
        "deployment/rebound",
        "statefulset/rebound",
        "poddisruptionbudget/rebound",
    ] {
        assert!(
            report.contains(kind) || !documents.iter().any(|d| d.ends_with("postgres.yaml")),
            "{kind} was validated: {report}"
        );
    }
}
