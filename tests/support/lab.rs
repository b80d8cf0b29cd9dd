//! The registry lab that `lab/test` starts: registry addresses, credentials and the seeded
//! images (`images.json`), read from the `KZ_*` environment, and the fixture variables that
//! the cluster fixtures in `tests/clusters/` use.

use std::collections::BTreeMap;
use std::env;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

/// Panic message when the lab environment is missing.
pub const NEED_LAB: &str = "the integration tests need the lab: run lab/test";

/// Host of the only entry in `OTHER_HOST_DOCKERCONFIGJSON`: a registry no image uses.
pub const OTHER_HOST: &str = "other.example.test";

/// The lab environment that `lab/test` exports before it runs `cargo test`.
#[derive(Debug)]
pub struct Lab {
    pub dir: PathBuf,
    pub images_path: PathBuf,
    /// CA that signed every lab registry's certificate.
    pub ca: PathBuf,
    /// Basic-auth TLS registry as `127.0.0.1:PORT`.
    pub tls_registry: String,
    /// The same registry as `registry.lab.test:PORT`, for host-name checks.
    pub tls_name_registry: String,
    pub user: String,
    pub pass: String,
    /// Registry without auth or TLS, as `127.0.0.1:PORT`.
    pub plain_registry: String,
    pub plain_name_registry: String,
    /// Token-auth TLS registry as `127.0.0.1:PORT`.
    pub token_registry: String,
    pub token_user: String,
    pub token_pass: String,
    /// Token-registry user granted pull on `openclaw/workspace` only.
    pub limited_user: String,
    pub limited_pass: String,
    /// Absolute path of the `lab/` scripts.
    pub bin: PathBuf,
    /// Whether the tests run inside `lab/netns` (only `lo`, fake DNS).
    pub netns: bool,
    pub images: Vec<LabImage>,
}

/// One `repo:tag` entry of `images.json`, as `lab/make-image` writes it.
#[derive(Debug, Clone, Deserialize)]
pub struct LabImage {
    pub repo: String,
    pub tag: String,
    pub digest: String,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `manifest` or `index`.
    pub kind: String,
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub config: Option<String>,
    #[serde(default)]
    pub layers: Vec<String>,
    /// Children of an index.
    #[serde(default)]
    pub manifests: Vec<LabChildManifest>,
}

/// One platform manifest inside an index entry of `images.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct LabChildManifest {
    pub platform: String,
    pub digest: String,
    #[serde(default)]
    pub layers: Vec<String>,
}

/// Returns the lab environment, read once.
///
/// # Panics
/// With [`NEED_LAB`] and the missing variable when `lab/test` did not set the environment.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(Lab::from_env)
}

/// Returns whether the `KZ_*` lab environment is present, for messages and assertions only.
pub fn lab_available() -> bool {
    env::var_os("KZ_LAB_DIR").is_some()
}

fn required(name: &str) -> String {
    match env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!("{NEED_LAB} ({name} is not set)"),
    }
}

impl Lab {
    fn from_env() -> Lab {
        let images_path = PathBuf::from(required("KZ_LAB_IMAGES"));
        let images = read_images(&images_path);
        Lab {
            dir: PathBuf::from(required("KZ_LAB_DIR")),
            images_path,
            ca: PathBuf::from(required("KZ_CA")),
            tls_registry: required("KZ_TLS_REGISTRY"),
            tls_name_registry: required("KZ_TLS_NAME_REGISTRY"),
            user: required("KZ_USER"),
            pass: required("KZ_PASS"),
            plain_registry: required("KZ_PLAIN_REGISTRY"),
            plain_name_registry: required("KZ_PLAIN_NAME_REGISTRY"),
            token_registry: required("KZ_TOKEN_REGISTRY"),
            token_user: required("KZ_TOKEN_USER"),
            token_pass: required("KZ_TOKEN_PASS"),
            limited_user: required("KZ_LIMITED_USER"),
            limited_pass: required("KZ_LIMITED_PASS"),
            bin: PathBuf::from(required("KZ_LAB_BIN")),
            netns: env::var("KZ_NETNS").is_ok_and(|value| value == "1"),
            images,
        }
    }

    /// Returns the `images.json` entry of `repo:tag`.
    ///
    /// # Panics
    /// When the lab seeds no such image.
    pub fn image(&self, repo: &str, tag: &str) -> &LabImage {
        self.images
            .iter()
            .find(|image| image.repo == repo && image.tag == tag)
            .unwrap_or_else(|| panic!("{} lists no image {repo}:{tag}", self.images_path.display()))
    }

    /// Returns the manifest or index digest (`sha256:...`) that `repo:tag` points to.
    pub fn digest(&self, repo: &str, tag: &str) -> String {
        self.image(repo, tag).digest.clone()
    }

    /// Builds the standard fixture variables for this lab (see [`Vars`]).
    pub fn vars(&self) -> Vars {
        let registry = &self.tls_registry;
        let missingblob = self.image("openclaw/missingblob", "latest");
        let missingblob_layer = missingblob
            .layers
            .first()
            .unwrap_or_else(|| panic!("images.json: openclaw/missingblob:latest has no layers"));
        let mut vars = Vars::default();
        vars.set("REGISTRY", registry)
            .set("PLAIN_REGISTRY", &self.plain_registry)
            .set("TOKEN_REGISTRY", &self.token_registry)
            .set("REGISTRY_NAME", &self.tls_name_registry)
            .set(
                "DOCKERCONFIGJSON",
                &docker_config_json(registry, &self.user, &self.pass),
            )
            .set(
                "BAD_DOCKERCONFIGJSON",
                &docker_config_json(registry, &self.user, "wrong-password"),
            )
            .set(
                "TOKEN_DOCKERCONFIGJSON",
                &docker_config_json(&self.token_registry, &self.token_user, &self.token_pass),
            )
            .set(
                "LIMITED_DOCKERCONFIGJSON",
                &docker_config_json(&self.token_registry, &self.limited_user, &self.limited_pass),
            )
            .set(
                "OTHER_HOST_DOCKERCONFIGJSON",
                &docker_config_json(OTHER_HOST, &self.user, &self.pass),
            )
            .set("DIGEST_LATEST", &self.digest("openclaw/openclaw", "latest"))
            .set("DIGEST_OLD", &self.digest("openclaw/openclaw", OLD_TAG))
            .set(
                "DIGEST_WORKSPACE",
                &self.digest("openclaw/workspace", "latest"),
            )
            .set("DIGEST_ARMONLY", &self.digest("openclaw/armonly", "latest"))
            .set("MISSINGBLOB_LAYER", missingblob_layer);
        let latest = format!(
            "{registry}/openclaw/openclaw@{}",
            self.digest("openclaw/openclaw", "latest")
        );
        let old = format!(
            "{registry}/openclaw/openclaw@{}",
            self.digest("openclaw/openclaw", OLD_TAG)
        );
        vars.set("IMAGE_ID_LATEST", &latest)
            .set("IMAGE_ID_OLD", &old);
        vars
    }
}

/// Older release whose index digest stands in for "what :latest pointed to before".
///
/// It is a real image in the registry, so a stale pod's imageID still resolves, and no test
/// moves `:latest` to it (stale-image tests move `:latest` to `sha-bbbb`).
pub const OLD_TAG: &str = "v1.0.0";

fn read_images(path: &Path) -> Vec<LabImage> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("invalid images.json {}: {error}", path.display()))
}

/// Returns a `.dockerconfigjson` with one `auths` entry for `host`, as
/// `kubectl create secret docker-registry` writes it.
pub fn docker_config_json(host: &str, user: &str, pass: &str) -> String {
    let auth = STANDARD.encode(format!("{user}:{pass}"));
    json!({"auths": {host: {"username": user, "password": pass, "auth": auth}}}).to_string()
}

/// Values for the `${NAME}` placeholders in fixture files.
///
/// Standard names (all set by [`Lab::vars`] and [`Vars::dummy`]): `REGISTRY`,
/// `PLAIN_REGISTRY`, `TOKEN_REGISTRY`, `REGISTRY_NAME`, `DOCKERCONFIGJSON` (right password for
/// `REGISTRY`), `BAD_DOCKERCONFIGJSON` (wrong password), `TOKEN_DOCKERCONFIGJSON`,
/// `LIMITED_DOCKERCONFIGJSON`, `OTHER_HOST_DOCKERCONFIGJSON` (an entry for
/// [`OTHER_HOST`] only), `IMAGE_ID_LATEST` and `IMAGE_ID_OLD` (`REGISTRY/openclaw/openclaw@...`),
/// `DIGEST_LATEST`, `DIGEST_OLD`, `DIGEST_WORKSPACE`, `DIGEST_ARMONLY` and
/// `MISSINGBLOB_LAYER` (`sha256:...`). The server itself provides `NOW` and `NOW_MICRO`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

impl Vars {
    /// Returns placeholder values that need no lab: fixtures load and deserialize with them,
    /// but no registry stands behind the addresses.
    pub fn dummy() -> Vars {
        let registry = "127.0.0.1:5001";
        let token_registry = "127.0.0.1:5003";
        let digest = |seed: char| format!("sha256:{}", seed.to_string().repeat(64));
        let mut vars = Vars::default();
        vars.set("REGISTRY", registry)
            .set("PLAIN_REGISTRY", "127.0.0.1:5000")
            .set("TOKEN_REGISTRY", token_registry)
            .set("REGISTRY_NAME", "registry.lab.test:5001")
            .set(
                "DOCKERCONFIGJSON",
                &docker_config_json(registry, "puller", "dummy-password"),
            )
            .set(
                "BAD_DOCKERCONFIGJSON",
                &docker_config_json(registry, "puller", "wrong-password"),
            )
            .set(
                "TOKEN_DOCKERCONFIGJSON",
                &docker_config_json(token_registry, "puller", "dummy-password"),
            )
            .set(
                "LIMITED_DOCKERCONFIGJSON",
                &docker_config_json(token_registry, "limited", "dummy-password"),
            )
            .set(
                "OTHER_HOST_DOCKERCONFIGJSON",
                &docker_config_json(OTHER_HOST, "puller", "dummy-password"),
            )
            .set("DIGEST_LATEST", &digest('a'))
            .set("DIGEST_OLD", &digest('b'))
            .set("DIGEST_WORKSPACE", &digest('c'))
            .set("DIGEST_ARMONLY", &digest('d'))
            .set("MISSINGBLOB_LAYER", &digest('e'))
            .set(
                "IMAGE_ID_LATEST",
                &format!("{registry}/openclaw/openclaw@{}", digest('a')),
            )
            .set(
                "IMAGE_ID_OLD",
                &format!("{registry}/openclaw/openclaw@{}", digest('b')),
            );
        vars
    }

    /// Sets or replaces one value.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Vars {
        self.values.insert(name.to_string(), value.to_string());
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Adds every value of `other`, replacing those with the same name.
    pub fn extend(&mut self, other: &Vars) -> &mut Vars {
        for (name, value) in &other.values {
            self.values.insert(name.clone(), value.clone());
        }
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Replaces `${NAME}` placeholders the way `lab/kube-apiserver` does: each value is
    /// JSON-string-escaped, and `${NOW}`, `${NOW-30m}` and `${NOW_MICRO-30m}` become times
    /// relative to now.
    ///
    /// # Errors
    /// Names the first placeholder that has no value or a malformed offset.
    pub fn substitute(&self, text: &str) -> Result<String, String> {
        let now = chrono::Utc::now();
        let mut output = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            output.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unterminated placeholder at {:?}", &rest[start..]))?;
            let placeholder = &after[..end];
            output.push_str(&self.placeholder_value(placeholder, now)?);
            rest = &after[end + 1..];
        }
        output.push_str(rest);
        Ok(output)
    }

    fn placeholder_value(
        &self,
        placeholder: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, String> {
        let (name, offset) = match placeholder.split_once('-') {
            Some((name, offset)) => (name, Some(offset)),
            None => (placeholder, None),
        };
        if name == "NOW" || name == "NOW_MICRO" {
            let seconds = match offset {
                Some(offset) => parse_offset(offset)
                    .ok_or_else(|| format!("invalid offset in ${{{placeholder}}}"))?,
                None => 0,
            };
            let moment = now - chrono::Duration::seconds(seconds);
            let format = if name == "NOW" {
                "%Y-%m-%dT%H:%M:%SZ"
            } else {
                "%Y-%m-%dT%H:%M:%S%.6fZ"
            };
            return Ok(moment.format(format).to_string());
        }
        if offset.is_some() {
            return Err(format!(
                "only NOW and NOW_MICRO take an offset: ${{{placeholder}}}"
            ));
        }
        let value = self
            .get(name)
            .ok_or_else(|| format!("placeholder ${{{name}}} has no value"))?;
        let quoted = serde_json::to_string(value).expect("a string always serializes");
        Ok(quoted[1..quoted.len() - 1].to_string())
    }
}

/// Parses `30m`-style offsets (units s, m, h, d) into seconds.
fn parse_offset(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return None,
    };
    Some(amount * factor)
}
