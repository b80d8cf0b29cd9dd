//! Property tests that feed hostile input to the parsers that see untrusted text: event
//! messages, pull secrets, image references, registry headers and platform strings.
//!
//! Each property checks that the function returns without a panic and keeps a simple
//! invariant. The default is 256 cases per property; `PROPTEST_CASES=100000 cargo test --test
//! fuzz` runs longer (see fuzz/README.md). Needs no lab.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::{Value, json};

use kubectl_zot::classify::classify;
use kubectl_zot::credentials::{
    Keyring, REDACTED, decode_docker_config_json, decode_secret, match_explanation,
};
use kubectl_zot::registry::challenge::{parse_next_link, parse_www_authenticate};
use kubectl_zot::registry::{ImageRef, Platform};

/// Fragments of real pull errors, so generated messages reach deep into the classifier's rules.
const MESSAGE_FRAGMENTS: &[&str] = &[
    "Failed to pull image \"",
    "rpc error: code = NotFound desc = failed to pull and unpack image \"",
    "failed to resolve reference \"",
    "failed to copy: httpReadSeeker: failed open: unexpected status code ",
    ": not found",
    ": 401 Unauthorized",
    "403 Forbidden",
    "429 Too Many Requests",
    "toomanyrequests: You have reached your pull rate limit",
    "x509: certificate signed by unknown authority",
    "tls: failed to verify certificate: x509: certificate is valid for a, not b",
    "http: server gave HTTP response to HTTPS client",
    "dial tcp: lookup registry.example on 10.0.0.10:53: no such host",
    "dial tcp 10.0.0.1:443: connect: connection refused",
    "i/o timeout",
    "manifest unknown",
    "no match for platform in manifest",
    "pull access denied, repository does not exist or may require authorization",
    "ErrImageNeverPull",
    "Container image \"x\" is not present with pull policy of Never",
    "InvalidImageName",
    "couldn't parse image name",
    "unexpected media type application/vnd.cncf.helm.config.v1+json",
    "reading manifest v1 in 127.0.0.1:5000/team/app",
    "blob sha256:",
    "unknown: unknown error",
    "\\\"",
    "\\n",
    "\n",
    "127.0.0.1:5000/openclaw/openclaw:v9.9.9",
    "registry.lab.test:443/a/b@sha256:",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "\"",
    ":",
    "/",
    "@",
    " ",
];

/// Generates a message of real error fragments and arbitrary text, in any order.
fn error_message() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        3 => proptest::sample::select(MESSAGE_FRAGMENTS).prop_map(str::to_string),
        1 => any::<String>(),
        1 => "[a-z0-9./:@_-]{0,40}",
        1 => "[0-9]{3}",
    ];
    proptest::collection::vec(fragment, 0..12).prop_map(|parts| parts.concat())
}

/// Generates a password that cannot occur by chance in any message the decoder writes.
fn password() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/=!%&*]{6,24}".prop_map(|tail| format!("Pw7q{tail}"))
}

/// Generates any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |number| number.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[a-z.:/]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{0,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Generates registry keys as people write them in Docker configs, and some invalid ones.
fn registry_key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("127.0.0.1:5000".to_string()),
        Just("https://index.docker.io/v1/".to_string()),
        Just("docker.io".to_string()),
        Just("*.lab.test".to_string()),
        Just("http://registry.lab.test:5000/v2/".to_string()),
        Just("".to_string()),
        "[a-z0-9.*:/\\[\\]-]{0,30}",
        any::<String>(),
    ]
}

/// Generates an image name as a pod spec or a kubelet lookup gives it.
fn image_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("docker.io/library/nginx".to_string()),
        Just("127.0.0.1:5000/openclaw/openclaw".to_string()),
        Just("a.lab.test/team/app".to_string()),
        "[a-z0-9.:/-]{0,40}",
        any::<String>(),
    ]
}

/// Generates one `auths` entry with a known password in every field that may carry it.
fn auth_entry(user: String, pass: String) -> impl Strategy<Value = Value> {
    let auth = STANDARD.encode(format!("{user}:{pass}"));
    (any::<[bool; 5]>(), json_value()).prop_map(move |(present, extra)| {
        let mut entry = serde_json::Map::new();
        if present[0] {
            entry.insert("username".into(), Value::from(user.clone()));
        }
        if present[1] {
            entry.insert("password".into(), Value::from(pass.clone()));
        }
        if present[2] {
            entry.insert("auth".into(), Value::from(auth.clone()));
        }
        if present[3] {
            entry.insert("identitytoken".into(), Value::from(pass.clone()));
        }
        if present[4] {
            entry.insert("registrytoken".into(), Value::from(pass.clone()));
        }
        entry.insert("email".into(), extra);
        Value::Object(entry)
    })
}

/// Generates a `.dockerconfigjson` document, or a legacy `.dockercfg` one, that contains `pass`.
fn docker_config(pass: String) -> impl Strategy<Value = Value> {
    let entries = proptest::collection::vec(
        (registry_key(), auth_entry("puller".to_string(), pass)),
        1..4,
    );
    (entries, any::<bool>()).prop_map(|(entries, wrapped)| {
        let auths: serde_json::Map<String, Value> = entries.into_iter().collect();
        if wrapped {
            json!({ "auths": auths })
        } else {
            Value::Object(auths)
        }
    })
}

/// Checks that neither the password nor the `auth` value made from it appears in `text`.
fn assert_secret_hidden(text: &str, pass: &str, what: &str) -> Result<(), TestCaseError> {
    let auth = STANDARD.encode(format!("puller:{pass}"));
    prop_assert!(
        !text.contains(pass),
        "the password appears in {}: {}",
        what,
        text
    );
    prop_assert!(
        !text.contains(&auth),
        "the auth value appears in {}: {}",
        what,
        text
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn classify_never_panics(message in error_message()) {
        let classification = classify(&message);
        prop_assert_eq!(
            classification.candidates.first().copied(),
            Some(classification.cause),
            "candidates must start with the cause"
        );
        if let Some(detail) = &classification.detail {
            prop_assert!(detail.chars().count() <= 120, "detail too long: {:?}", detail);
        }
    }

    #[test]
    fn classify_handles_any_text(message in any::<String>()) {
        let classification = classify(&message);
        prop_assert!(!classification.candidates.is_empty());
    }

    #[test]
    fn decode_config_hides_passwords(
        (pass, document) in password().prop_flat_map(|pass| (Just(pass.clone()), docker_config(pass)))
    ) {
        let bytes = serde_json::to_vec(&document).unwrap();
        let decoded = decode_docker_config_json(&bytes);
        assert_secret_hidden(&format!("{decoded:?}"), &pass, "Debug output")?;
        let serialized = serde_json::to_string(&decoded).unwrap();
        assert_secret_hidden(&serialized, &pass, "JSON output")?;
        for problem in &decoded.problems {
            assert_secret_hidden(&problem.to_string(), &pass, "a problem message")?;
        }
        for entry in &decoded.entries {
            if let Some(password) = &entry.password {
                prop_assert_eq!(format!("{password:?}"), REDACTED);
                prop_assert_eq!(password.to_string(), REDACTED);
            }
        }
    }

    #[test]
    fn decode_secret_hides_passwords(
        (pass, document) in password().prop_flat_map(|pass| (Just(pass.clone()), docker_config(pass))),
        type_name in prop_oneof![
            Just("kubernetes.io/dockerconfigjson".to_string()),
            Just("kubernetes.io/dockercfg".to_string()),
            Just("Opaque".to_string()),
            any::<String>(),
        ],
        key in prop_oneof![
            Just(".dockerconfigjson".to_string()),
            Just(".dockercfg".to_string()),
            "[a-z.]{0,12}",
        ],
    ) {
        let mut data = BTreeMap::new();
        data.insert(key, serde_json::to_vec(&document).unwrap());
        let decoded = decode_secret(&type_name, &data);
        assert_secret_hidden(&format!("{decoded:?}"), &pass, "Debug output")?;
        assert_secret_hidden(&serde_json::to_string(&decoded).unwrap(), &pass, "JSON output")?;
        for problem in &decoded.problems {
            assert_secret_hidden(&problem.to_string(), &pass, "a problem message")?;
        }
        let mut keyring = Keyring::new();
        keyring.add_secret("openclaw/regcred", &decoded);
        for matched in keyring.lookup("127.0.0.1:5000/openclaw/openclaw") {
            assert_secret_hidden(&format!("{matched:?}"), &pass, "a keyring match")?;
        }
    }

    #[test]
    fn decode_config_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let decoded = decode_docker_config_json(&bytes);
        prop_assert_eq!(decoded.kubelet_reads, !bytes.is_empty());
    }

    #[test]
    fn decode_config_takes_any_json(document in json_value()) {
        let decoded = decode_docker_config_json(&serde_json::to_vec(&document).unwrap());
        let _ = format!("{decoded:?}");
    }

    #[test]
    fn decode_secret_takes_any_data(
        type_name in any::<String>(),
        data in proptest::collection::btree_map(
            prop_oneof![Just(".dockerconfigjson".to_string()), Just(".dockercfg".to_string()), any::<String>()],
            proptest::collection::vec(any::<u8>(), 0..256),
            0..3,
        ),
    ) {
        let decoded = decode_secret(&type_name, &data);
        if decoded.kubelet_reads {
            prop_assert!(
                type_name == "kubernetes.io/dockerconfigjson" || type_name == "kubernetes.io/dockercfg",
                "the kubelet reads only pull-secret types, not {:?}", type_name
            );
        }
    }

    #[test]
    fn image_ref_parse_never_panics(reference in prop_oneof![image_name(), any::<String>(), "[a-zA-Z0-9.:/@_-]{0,80}"]) {
        if let Ok(image) = ImageRef::parse(&reference) {
            prop_assert!(!image.registry.is_empty(), "{:?} parsed without a registry", reference);
            prop_assert!(!image.repository.is_empty(), "{:?} parsed without a repository", reference);
            let _ = image.api_host();
            let _ = image.manifest_reference();
            let _ = image.with_tag("v1");
        }
    }

    #[test]
    fn www_authenticate_never_panics(value in prop_oneof![
        any::<String>(),
        "(Bearer|Basic|bearer|,| |realm|=|\"|\\\\|service|scope|[a-z:/.]){0,30}",
    ]) {
        for challenge in parse_www_authenticate(&value) {
            prop_assert!(!challenge.scheme.is_empty());
            prop_assert_eq!(challenge.scheme.clone(), challenge.scheme.to_ascii_lowercase());
        }
    }

    #[test]
    fn bearer_challenge_keeps_its_realm(realm in "https://[a-z]{1,10}\\.lab\\.test(:[0-9]{1,5})?/[a-z/]{0,10}") {
        let value = format!("Bearer realm=\"{realm}\",service=\"reg\",scope=\"repository:a/b:pull\"");
        let challenges = parse_www_authenticate(&value);
        prop_assert_eq!(challenges.len(), 1);
        prop_assert_eq!(challenges[0].param("realm"), Some(realm.as_str()));
    }

    #[test]
    fn next_link_never_panics(value in prop_oneof![
        any::<String>(),
        "(<|>|;|,| |rel|=|\"|next|/v2/[a-z]{0,5}|\\?n=1&last=[a-z]{0,3}){0,20}",
    ]) {
        if let Some(target) = parse_next_link(&value) {
            prop_assert!(value.contains(&target));
        }
    }

    #[test]
    fn match_explanation_never_panics(key in registry_key(), image in image_name()) {
        let _ = match_explanation(&key, &image);
    }

    #[test]
    fn keyring_lookup_never_panics(
        keys in proptest::collection::vec(registry_key(), 0..5),
        image in image_name(),
        pass in password(),
    ) {
        let auths: serde_json::Map<String, Value> = keys
            .into_iter()
            .map(|key| (key, json!({"username": "puller", "password": pass})))
            .collect();
        let decoded = decode_docker_config_json(&serde_json::to_vec(&json!({"auths": auths})).unwrap());
        let mut keyring = Keyring::new();
        keyring.add("file", &decoded.entries);
        for matched in keyring.lookup(&image) {
            prop_assert!(keyring.keys().contains(&matched.normalized) || matched.docker_hub_fallback);
            assert_secret_hidden(&format!("{matched:?}"), &pass, "a keyring match")?;
        }
    }

    #[test]
    fn platform_parse_never_panics(text in prop_oneof![any::<String>(), "[a-zA-Z0-9_/-]{0,30}"]) {
        if let Ok(platform) = Platform::parse(&text) {
            prop_assert!(!platform.os.is_empty());
            prop_assert!(!platform.architecture.is_empty());
            prop_assert!(platform.accepts(&platform), "{:?} does not accept itself", platform);
        }
    }
}

/// Builds a long message by repeating every fragment `times` times, in order.
fn long_message(times: usize) -> String {
    MESSAGE_FRAGMENTS
        .iter()
        .map(|fragment| fragment.repeat(times))
        .collect()
}

#[test]
fn classify_long_message_finds_causes() {
    // About 110 KB, the size of a long CI log that `explain` may read from stdin. How long
    // this takes belongs in a benchmark, not in a test.
    let message = long_message(100);
    let classification = classify(&message);
    assert!(!classification.candidates.is_empty());
}

#[test]
fn decode_long_secret_matches_one_entry() {
    let auths: serde_json::Map<String, Value> = (0..5000)
        .map(|index| {
            (
                format!("registry-{index}.lab.test:5000"),
                json!({"username": "puller", "password": "Pw7qlong", "auth": "cHVsbGVyOlB3N3Fsb25n"}),
            )
        })
        .collect();
    let bytes = serde_json::to_vec(&json!({ "auths": auths })).unwrap();
    let decoded = decode_docker_config_json(&bytes);
    let mut keyring = Keyring::new();
    keyring.add("file", &decoded.entries);
    let matches = keyring.lookup("registry-4999.lab.test:5000/team/app");
    assert_eq!(decoded.entries.len(), 5000);
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].key, "registry-4999.lab.test:5000");
}
