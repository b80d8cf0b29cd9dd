//! Table tests across decoding, keyring lookup and redaction. Several rows
//! reproduce pull-secret mistakes reported publicly against Kubernetes,
//! OpenShift, Harbor and operators, with hosts replaced by placeholders.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::ProblemKind::*;
use super::*;

const JSON: &str = DOCKER_CONFIG_JSON_TYPE;
const CFG: &str = DOCKERCFG_TYPE;

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.as_bytes().to_vec()))
        .collect()
}

fn config_json(document: &str) -> DecodedSecret {
    decode_secret(JSON, &data(&[(DOCKER_CONFIG_JSON_KEY, document)]))
}

fn dockercfg(document: &str) -> DecodedSecret {
    decode_secret(CFG, &data(&[(DOCKERCFG_KEY, document)]))
}

fn kinds(decoded: &DecodedSecret) -> Vec<ProblemKind> {
    decoded
        .problems
        .iter()
        .map(|problem| problem.kind)
        .collect()
}

/// One decoding case: the secret, the problems expected in order, and the
/// text each problem message must contain.
struct DecodeCase {
    name: &'static str,
    type_name: &'static str,
    data: Vec<(&'static str, String)>,
    problems: Vec<ProblemKind>,
    message_parts: Vec<&'static str>,
}

fn case(
    name: &'static str,
    type_name: &'static str,
    key: &'static str,
    document: impl Into<String>,
    problems: Vec<ProblemKind>,
    message_parts: Vec<&'static str>,
) -> DecodeCase {
    DecodeCase {
        name,
        type_name,
        data: vec![(key, document.into())],
        problems,
        message_parts,
    }
}

fn decode_cases() -> Vec<DecodeCase> {
    let auth = b64("user:pass");
    let k = DOCKER_CONFIG_JSON_KEY;
    let c = DOCKERCFG_KEY;
    vec![
        case(
            "valid auth",
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#),
            vec![],
            vec![],
        ),
        case(
            "valid fields",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"username":"u","password":"p"}}}"#,
            vec![],
            vec![],
        ),
        case(
            "auth agrees with fields",
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"username":"user","password":"pass","auth":"{auth}"}}}}}}"#
            ),
            vec![],
            vec![],
        ),
        case(
            "auth overrides username",
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"username":"other","password":"pass","auth":"{auth}"}}}}}}"#
            ),
            vec![AuthMismatch],
            vec!["\"user\"", "\"other\"", "uses the values in auth"],
        ),
        case(
            "auth overrides password",
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"username":"user","password":"old","auth":"{auth}"}}}}}}"#
            ),
            vec![AuthMismatch],
            vec!["different passwords"],
        ),
        // An operator created the secret as Opaque although it contains a
        // .dockerconfigjson key.
        DecodeCase {
            name: "opaque with dockerconfigjson",
            type_name: "Opaque",
            data: vec![(
                k,
                r#"{"auths":{"r.example.com":{"username":"u","password":"p"}}}"#.into(),
            )],
            problems: vec![WrongType],
            message_parts: vec![
                "\"Opaque\"",
                "ignores",
                "kubectl create secret docker-registry",
                "--type=kubernetes.io/dockerconfigjson",
            ],
        },
        DecodeCase {
            name: "empty type is opaque",
            type_name: "",
            data: vec![("token", "x".into())],
            problems: vec![WrongType],
            message_parts: vec!["\"Opaque\""],
        },
        // The right type with the data under another key.
        case(
            "wrong data key",
            JSON,
            "data-1",
            r#"{"auths":{}}"#,
            vec![MissingKey],
            vec!["no .dockerconfigjson key", "\"data-1\""],
        ),
        case(
            "dockercfg key in json type",
            JSON,
            c,
            r#"{}"#,
            vec![MissingKey],
            vec!["reads .dockercfg only from secrets of type kubernetes.io/dockercfg"],
        ),
        case(
            "dockerconfigjson key in cfg type",
            CFG,
            k,
            r#"{}"#,
            vec![MissingKey],
            vec!["no .dockercfg key"],
        ),
        case(
            "empty value",
            JSON,
            k,
            "",
            vec![EmptyData],
            vec!["the .dockerconfigjson value is empty"],
        ),
        case(
            "invalid json",
            JSON,
            k,
            "{\"auths\":{\n\"r.example.com\" {}}}",
            vec![InvalidJson],
            vec!["line 2 column 17", "expected `:`", "fails every image pull"],
        ),
        case(
            "whitespace only",
            JSON,
            k,
            "  \n",
            vec![InvalidJson],
            vec!["EOF while parsing"],
        ),
        case(
            "top-level array",
            JSON,
            k,
            "[]",
            vec![InvalidFieldType],
            vec!["is an array"],
        ),
        case(
            "top-level null",
            JSON,
            k,
            "null",
            vec![MissingAuths],
            vec![],
        ),
        // Legacy .dockercfg content stored as .dockerconfigjson.
        case(
            "registries without auths",
            JSON,
            k,
            r#"{"r.example.com:5000":{"auth":"dXNlcjpwYXNz"}}"#,
            vec![MissingAuths],
            vec!["no \"auths\" object", "\"r.example.com:5000\"", "wrap them"],
        ),
        case(
            "auths empty",
            JSON,
            k,
            r#"{"auths":{}}"#,
            vec![NoEntries],
            vec!["\"auths\" in the .dockerconfigjson value is empty"],
        ),
        case(
            "auths array",
            JSON,
            k,
            r#"{"auths":[]}"#,
            vec![InvalidFieldType],
            vec!["\"auths\"", "an array"],
        ),
        case(
            "auths null after object",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"username":"u","password":"p"}},"Auths":null}"#,
            vec![MissingAuths],
            vec![],
        ),
        case(
            "auths objects merge",
            JSON,
            k,
            r#"{"auths":{"a.example.com":{"username":"a","password":"p"}},"AUTHS":{"b.example.com":{"username":"b","password":"p"}}}"#,
            vec![],
            vec![],
        ),
        case(
            "capitalised fields",
            JSON,
            k,
            r#"{"Auths":{"r.example.com":{"Username":"u","PASSWORD":"p"}}}"#,
            vec![],
            vec![],
        ),
        case(
            "entry is a string",
            JSON,
            k,
            r#"{"auths":{"r.example.com":"dXNlcjpwYXNz"}}"#,
            vec![InvalidFieldType],
            vec!["entry \"r.example.com\" is a string"],
        ),
        case(
            "username is a number",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"username":42,"password":"p"}}}"#,
            vec![InvalidFieldType],
            vec!["field \"username\"", "a number"],
        ),
        case(
            "email is a boolean",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"auth":"dXNlcjpwYXNz","email":true}}}"#,
            vec![InvalidFieldType],
            vec!["field \"email\""],
        ),
        case(
            "http headers invalid",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"auth":"dXNlcjpwYXNz"}},"HttpHeaders":{"X-A":1}}"#,
            vec![InvalidFieldType],
            vec!["\"HttpHeaders\""],
        ),
        // A config.json written by Docker Desktop keeps passwords in the
        // desktop credential store.
        case(
            "credsStore only",
            JSON,
            k,
            r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"desktop"}"#,
            vec![CredentialHelperOnly],
            vec![
                "credsStore \"desktop\"",
                "\"https://index.docker.io/v1/\"",
                "never runs credential helpers",
            ],
        ),
        case(
            "credHelpers only",
            JSON,
            k,
            r#"{"credHelpers":{"gcr.io":"gcloud"}}"#,
            vec![CredentialHelperOnly],
            vec!["credHelpers for gcr.io"],
        ),
        case(
            "no credential",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{}}}"#,
            vec![NoCredential],
            vec!["entry \"r.example.com\" has no auth, username or password"],
        ),
        case(
            "email only",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"email":"a@example.com"}}}"#,
            vec![NoCredential],
            vec![],
        ),
        case(
            "entry null",
            JSON,
            k,
            r#"{"auths":{"r.example.com":null}}"#,
            vec![NoCredential],
            vec![],
        ),
        case(
            "identity token only",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"identitytoken":"t"}}}"#,
            vec![TokenIgnored],
            vec!["only identitytoken", "does not read"],
        ),
        case(
            "registry token only",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"registrytoken":"t"}}}"#,
            vec![TokenIgnored],
            vec!["only registrytoken"],
        ),
        case(
            "auth not base64",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"auth":"%%%%"}}}"#,
            vec![InvalidAuthBase64],
            vec![
                "not valid base64",
                "illegal base64 data",
                "fails every image pull",
            ],
        ),
        case(
            "auth never encoded",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"auth":"user:pass"}}}"#,
            vec![InvalidAuthBase64],
            vec!["contains a colon"],
        ),
        case(
            "auth url-safe alphabet",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"auth":"dXNlcjpw-_Nz"}}}"#,
            vec![InvalidAuthBase64],
            vec!["URL-safe"],
        ),
        case(
            "auth with inner space",
            JSON,
            k,
            r#"{"auths":{"r.example.com":{"auth":"dXNlcjpw YXNz"}}}"#,
            vec![InvalidAuthBase64],
            vec!["space or tab"],
        ),
        case(
            "auth with trailing space",
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"auth":"{auth} "}}}}}}"#),
            vec![InvalidAuthBase64],
            vec!["leading or trailing space"],
        ),
        case(
            "auth without colon",
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{}"}}}}}}"#,
                b64("userpass")
            ),
            vec![AuthWithoutColon],
            vec!["without a colon", "unable to parse auth field"],
        ),
        case(
            "auth encoded twice",
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{}"}}}}}}"#,
                b64(&b64("user:pass"))
            ),
            vec![AuthWithoutColon],
            vec!["encoded twice"],
        ),
        case(
            "auth unpadded",
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{}"}}}}}}"#,
                STANDARD_NO_PAD.encode("user:passw")
            ),
            vec![],
            vec![],
        ),
        case(
            "auth trailing newline",
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"auth":"{auth}\n"}}}}}}"#),
            vec![],
            vec![],
        ),
        case(
            "key with space",
            JSON,
            k,
            r#"{"auths":{"r.example.com /team":{"username":"u","password":"p"}}}"#,
            vec![InvalidRegistryKey],
            vec!["invalid character \" \" in host name", "skips this entry"],
        ),
        case(
            "key with newline",
            JSON,
            k,
            r#"{"auths":{"r.example.com\n":{"username":"u","password":"p"}}}"#,
            vec![InvalidRegistryKey],
            vec!["invalid control character"],
        ),
        case(
            "key with upper-case scheme",
            JSON,
            k,
            r#"{"auths":{"HTTPS://r.example.com":{"username":"u","password":"p"}}}"#,
            vec![InvalidRegistryKey],
            vec!["\"HTTPS\"", "matches no image"],
        ),
        case(
            "key with oci scheme",
            JSON,
            k,
            r#"{"auths":{"oci://r.example.com":{"username":"u","password":"p"}}}"#,
            vec![InvalidRegistryKey],
            vec!["\"oci\""],
        ),
        // A shell expanded $oauthtoken to nothing.
        case(
            "empty username",
            JSON,
            k,
            r#"{"auths":{"nvcr.io":{"username":"","password":"key"}}}"#,
            vec![SuspectUsername],
            vec!["empty username", "$oauthtoken"],
        ),
        // A shell expanded the $NAME part of a Harbor robot account.
        case(
            "harbor robot expanded",
            JSON,
            k,
            r#"{"auths":{"harbor.example.test":{"username":"robot","password":"p"}}}"#,
            vec![SuspectUsername],
            vec!["robot$NAME"],
        ),
        case(
            "ngc username intact",
            JSON,
            k,
            r#"{"auths":{"nvcr.io":{"username":"$oauthtoken","password":"key"}}}"#,
            vec![],
            vec![],
        ),
        case(
            "auths nested twice",
            JSON,
            k,
            r#"{"auths":{"auths":{"r.example.com":{"auth":"dXNlcjpwYXNz"}}}}"#,
            vec![AuthsWrapper],
            vec!["wrapped in \"auths\" twice", "\"r.example.com\""],
        ),
        case(
            "legacy dockercfg",
            CFG,
            c,
            format!(
                r#"{{"https://index.docker.io/v1/":{{"auth":"{auth}","email":"a@example.com"}}}}"#
            ),
            vec![],
            vec![],
        ),
        // A config.json with its "auths" wrapper stored as .dockercfg: the
        // kubelet reads "auths" as the only registry.
        case(
            "dockercfg with auths wrapper",
            CFG,
            c,
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}","email":"a@example.com"}}}}}}"#
            ),
            vec![AuthsWrapper],
            vec![
                "reads \"auths\" as a registry name",
                "\"https://index.docker.io/v1/\"",
                "kubernetes.io/dockerconfigjson",
            ],
        ),
        case(
            "dockercfg with config.json settings",
            CFG,
            c,
            format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}},"credsStore":"desktop"}}"#
            ),
            vec![AuthsWrapper, InvalidFieldType],
            vec!["config.json setting"],
        ),
        case(
            "dockercfg null",
            CFG,
            c,
            "null",
            vec![NoEntries],
            vec!["lists no registry"],
        ),
        case(
            "dockercfg entry null",
            CFG,
            c,
            r#"{"r.example.com":null}"#,
            vec![NoCredential],
            vec![],
        ),
        case(
            "dockercfg entry number",
            CFG,
            c,
            r#"{"r.example.com":5}"#,
            vec![InvalidFieldType],
            vec![],
        ),
    ]
}

#[test]
fn decode_secret_table() {
    for case in decode_cases() {
        let data: BTreeMap<String, Vec<u8>> = case
            .data
            .iter()
            .map(|(key, value)| (key.to_string(), value.as_bytes().to_vec()))
            .collect();
        let decoded = decode_secret(case.type_name, &data);
        assert_eq!(
            kinds(&decoded),
            case.problems,
            "{}: problem kinds",
            case.name
        );
        for part in &case.message_parts {
            let found = decoded.problems.iter().any(|p| p.message.contains(part));
            assert!(
                found,
                "{}: no message contains {part:?}: {:#?}",
                case.name, decoded.problems
            );
        }
        for problem in &decoded.problems {
            assert_eq!(
                problem.effect,
                problem.kind.effect(),
                "{}: effect",
                case.name
            );
        }
    }
}

#[test]
fn decode_secret_entries() {
    let auth = b64("user:pass");
    // (name, decoded, key, kubelet key, username, password)
    let cases = [
        (
            "auth decoded",
            config_json(&format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#
            )),
            "r.example.com",
            Some("r.example.com"),
            Some("user"),
            Some("pass"),
        ),
        (
            "fields used",
            config_json(r#"{"auths":{"r.example.com:5000":{"username":"u","password":"p"}}}"#),
            "r.example.com:5000",
            Some("r.example.com:5000"),
            Some("u"),
            Some("p"),
        ),
        (
            "auth wins",
            config_json(&format!(
                r#"{{"auths":{{"https://r.example.com/v2/":{{"username":"x","password":"y","auth":"{auth}"}}}}}}"#
            )),
            "https://r.example.com/v2/",
            Some("r.example.com"),
            Some("user"),
            Some("pass"),
        ),
        (
            "password with colon",
            config_json(&format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{}"}}}}}}"#,
                b64("user:pa:ss")
            )),
            "r.example.com",
            Some("r.example.com"),
            Some("user"),
            Some("pa:ss"),
        ),
        (
            "last username wins",
            config_json(
                r#"{"auths":{"r.example.com":{"username":"a","Username":"b","password":"p"}}}"#,
            ),
            "r.example.com",
            Some("r.example.com"),
            Some("b"),
            Some("p"),
        ),
        (
            "duplicate key last wins",
            config_json(
                r#"{"auths":{"r.example.com":{"username":"a","password":"p"},"r.example.com":{"username":"b","password":"q"}}}"#,
            ),
            "r.example.com",
            Some("r.example.com"),
            Some("b"),
            Some("q"),
        ),
        (
            "invalid auth uses nothing",
            config_json(
                r#"{"auths":{"r.example.com":{"username":"u","password":"p","auth":"%%"}}}"#,
            ),
            "r.example.com",
            Some("r.example.com"),
            None,
            None,
        ),
        (
            "invalid key",
            config_json(r#"{"auths":{"r example.com":{"username":"u","password":"p"}}}"#),
            "r example.com",
            None,
            Some("u"),
            Some("p"),
        ),
        (
            "legacy docker hub key",
            dockercfg(&format!(
                r#"{{"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}"#
            )),
            "https://index.docker.io/v1/",
            Some("index.docker.io"),
            Some("user"),
            Some("pass"),
        ),
        (
            "wrapper as registry",
            dockercfg(&format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#
            )),
            "auths",
            Some("auths"),
            None,
            None,
        ),
    ];
    for (name, decoded, key, normalized, username, password) in cases {
        let Some(entry) = decoded.entry(key) else {
            panic!("{name}: no entry {key:?} in {decoded}");
        };
        assert_eq!(
            entry.normalized.as_deref(),
            normalized,
            "{name}: normalized"
        );
        assert_eq!(entry.username.as_deref(), username, "{name}: username");
        assert_eq!(
            entry.password.as_ref().map(SecretString::expose),
            password,
            "{name}: password"
        );
    }
}

#[test]
fn decode_secret_entry_flags() {
    let auth = b64("user:pass");
    let both = config_json(&format!(
        r#"{{"auths":{{"r.example.com":{{"auth":"{auth}","username":"user","password":"pass","email":"e@example.com","identitytoken":"t"}}}}}}"#
    ));
    let entry = &both.entries[0];
    assert!(entry.auth_present);
    assert_eq!(entry.auth_agrees, Some(true));
    assert!(entry.email_present);
    assert_eq!(
        entry.fields,
        ["auth", "username", "password", "identitytoken"]
    );
    assert_eq!(entry.username_field.as_deref(), Some("user"));

    let disagree = config_json(&format!(
        r#"{{"auths":{{"r.example.com":{{"auth":"{auth}","username":"x"}}}}}}"#
    ));
    assert_eq!(disagree.entries[0].auth_agrees, Some(false));
    assert_eq!(disagree.entries[0].username_field.as_deref(), Some("x"));

    let auth_only = config_json(&format!(
        r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#
    ));
    assert_eq!(auth_only.entries[0].auth_agrees, None);
    assert!(!auth_only.entries[0].email_present);
}

#[test]
fn decode_secret_kind_and_reads() {
    // (name, type, data, kind type, kubelet reads)
    let cases = [
        (
            "json type",
            JSON,
            data(&[(DOCKER_CONFIG_JSON_KEY, "{}")]),
            JSON,
            true,
        ),
        ("cfg type", CFG, data(&[(DOCKERCFG_KEY, "{}")]), CFG, true),
        (
            "opaque",
            "Opaque",
            data(&[(DOCKER_CONFIG_JSON_KEY, "{}")]),
            "Opaque",
            false,
        ),
        ("missing key", JSON, data(&[]), JSON, false),
        (
            "empty value",
            JSON,
            data(&[(DOCKER_CONFIG_JSON_KEY, "")]),
            JSON,
            false,
        ),
        (
            "invalid json read",
            JSON,
            data(&[(DOCKER_CONFIG_JSON_KEY, "{")]),
            JSON,
            true,
        ),
    ];
    for (name, type_name, data, kind, reads) in cases {
        let decoded = decode_secret(type_name, &data);
        assert_eq!(decoded.kind.type_name(), kind, "{name}: kind");
        assert_eq!(decoded.kubelet_reads, reads, "{name}: kubelet_reads");
    }
    assert!(config_json("{").unparsable().is_some());
    let opaque_broken = decode_secret("Opaque", &data(&[(DOCKER_CONFIG_JSON_KEY, "{")]));
    assert_eq!(kinds(&opaque_broken), [WrongType, InvalidJson]);
    assert!(opaque_broken.unparsable().is_none());
    assert!(config_json(r#"{"auths":{}}"#).unparsable().is_none());
}

#[test]
fn decode_file_table() {
    // (name, file, problem kinds, message part)
    let cases: [(&str, &str, &[ProblemKind], &str); 6] = [
        ("empty file", "", &[EmptyData], "the file is empty"),
        (
            "docker login file",
            r#"{"auths":{"r.example.com":{"auth":"dXNlcjpwYXNz"}},"psFormat":"table"}"#,
            &[],
            "",
        ),
        (
            "identity token file",
            r#"{"auths":{"r.example.com":{"identitytoken":"t"}}}"#,
            &[],
            "",
        ),
        (
            "desktop store file",
            r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"desktop"}"#,
            &[CredentialHelperOnly],
            "can be read from this file",
        ),
        (
            "invalid json file",
            r#"{"auths":"#,
            &[InvalidJson],
            "cannot be read as a Docker config",
        ),
        (
            "no auths file",
            r#"{"credsStore":""}"#,
            &[MissingAuths],
            "the file has no \"auths\" object",
        ),
    ];
    for (name, file, expected, part) in cases {
        let decoded = decode_docker_config_json(file.as_bytes());
        assert_eq!(kinds(&decoded), expected, "{name}: kinds");
        if !part.is_empty() {
            assert!(
                decoded.problems.iter().any(|p| p.message.contains(part)),
                "{name}: {:#?}",
                decoded.problems
            );
        }
    }
}

#[test]
fn entry_credential_precedence() {
    let file = |entry: &str| {
        decode_docker_config_json(format!(r#"{{"auths":{{"r.example.com":{entry}}}}}"#).as_bytes())
    };
    let basic = Credential::Basic {
        username: "user".to_string(),
        password: SecretString::new("pass"),
    };
    // (name, entry, credential, kubelet credential)
    let cases = [
        (
            "basic",
            r#"{"auth":"dXNlcjpwYXNz"}"#,
            Some(basic.clone()),
            Some(basic.clone()),
        ),
        (
            "identity token",
            r#"{"auth":"dXNlcjpwYXNz","identitytoken":"i"}"#,
            Some(Credential::IdentityToken {
                token: SecretString::new("i"),
            }),
            Some(basic.clone()),
        ),
        (
            "registry token first",
            r#"{"identitytoken":"i","registrytoken":"r"}"#,
            Some(Credential::RegistryToken {
                token: SecretString::new("r"),
            }),
            None,
        ),
        ("nothing", r#"{}"#, None, None),
        (
            "password only",
            r#"{"password":"p"}"#,
            Some(Credential::Basic {
                username: String::new(),
                password: SecretString::new("p"),
            }),
            Some(Credential::Basic {
                username: String::new(),
                password: SecretString::new("p"),
            }),
        ),
    ];
    for (name, entry, credential, kubelet) in cases {
        let decoded = file(entry);
        assert_eq!(
            decoded.entries[0].credential(),
            credential,
            "{name}: credential"
        );
        assert_eq!(
            decoded.entries[0].kubelet_credential(),
            kubelet,
            "{name}: kubelet credential"
        );
    }
}

/// Builds a keyring from `(source, .dockerconfigjson document)` pairs.
fn keyring(secrets: &[(&str, &str)]) -> Keyring {
    let mut keyring = Keyring::new();
    for (source, document) in secrets {
        let decoded = config_json(document);
        assert!(
            keyring.add_secret(source, &decoded),
            "{source} was not added: {decoded}"
        );
    }
    keyring
}

fn entry(key: &str) -> String {
    format!(r#"{{"auths":{{"{key}":{{"username":"u","password":"p"}}}}}}"#)
}

/// (name, secrets as (source, document), image, expected (source, key as
/// written) in lookup order)
type LookupCase = (
    &'static str,
    Vec<(&'static str, String)>,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

#[test]
fn keyring_lookup_table() {
    let two_keys = r#"{"auths":{"quay.io":{"username":"a","password":"p"},"quay.io/coreos":{"username":"b","password":"p"}}}"#;
    let hub_both = r#"{"auths":{"https://index.docker.io/v1/":{"username":"a","password":"p"},"docker.io":{"username":"b","password":"p"}}}"#;
    let cases: Vec<LookupCase> = vec![
        (
            "exact host",
            vec![("ns/a", entry("r.example.com"))],
            "r.example.com/app",
            vec![("ns/a", "r.example.com")],
        ),
        (
            "specific path first",
            vec![("ns/a", two_keys.to_string())],
            "quay.io/coreos/etcd",
            vec![("ns/a", "quay.io/coreos"), ("ns/a", "quay.io")],
        ),
        (
            "path prefix excludes",
            vec![("ns/a", two_keys.to_string())],
            "quay.io/other/app",
            vec![("ns/a", "quay.io")],
        ),
        (
            "exact before wildcard",
            vec![
                ("ns/a", entry("*.example.com")),
                ("ns/b", entry("r.example.com")),
            ],
            "r.example.com/app",
            vec![("ns/b", "r.example.com"), ("ns/a", "*.example.com")],
        ),
        (
            "wildcard one label only",
            vec![("ns/a", entry("*.example.com"))],
            "a.b.example.com/app",
            vec![],
        ),
        (
            "same key in pod order",
            vec![
                ("ns/a", entry("r.example.com")),
                ("ns/b", entry("https://r.example.com/v2/")),
            ],
            "r.example.com/app",
            vec![
                ("ns/a", "r.example.com"),
                ("ns/b", "https://r.example.com/v2/"),
            ],
        ),
        (
            "docker.io direct",
            vec![("ns/a", entry("docker.io"))],
            "docker.io/library/nginx",
            vec![("ns/a", "docker.io")],
        ),
        (
            "legacy hub key fallback",
            vec![("ns/a", entry("https://index.docker.io/v1/"))],
            "docker.io/library/nginx",
            vec![("ns/a", "https://index.docker.io/v1/")],
        ),
        (
            "index host fallback",
            vec![("ns/a", entry("index.docker.io"))],
            "docker.io/team/app",
            vec![("ns/a", "index.docker.io")],
        ),
        (
            "fallback only without match",
            vec![("ns/a", hub_both.to_string())],
            "docker.io/library/nginx",
            vec![("ns/a", "docker.io")],
        ),
        (
            "registry-1 never matches",
            vec![("ns/a", entry("registry-1.docker.io"))],
            "docker.io/library/nginx",
            vec![],
        ),
        (
            "localhost takes hub fallback",
            vec![("ns/a", entry("https://index.docker.io/v1/"))],
            "localhost/app",
            vec![("ns/a", "https://index.docker.io/v1/")],
        ),
        (
            "hub key not for private",
            vec![("ns/a", entry("https://index.docker.io/v1/"))],
            "r.example.com/app",
            vec![],
        ),
        // The secret was created for the IP without the port the images use.
        (
            "missing port",
            vec![("ns/a", entry("10.0.0.5"))],
            "10.0.0.5:9595/app",
            vec![],
        ),
        (
            "port 443 not implied",
            vec![("ns/a", entry("foo.bar.host.com"))],
            "foo.bar.host.com:443/app",
            vec![],
        ),
        // Current kubelets add https:// themselves, so a key with a port and
        // no scheme matches.
        (
            "port without scheme",
            vec![("ns/a", entry("registry.example.test:5000"))],
            "registry.example.test:5000/app1-static",
            vec![("ns/a", "registry.example.test:5000")],
        ),
        (
            "port with scheme",
            vec![("ns/a", entry("https://registry.example.test:5000"))],
            "registry.example.test:5000/app1-static",
            vec![("ns/a", "https://registry.example.test:5000")],
        ),
        (
            "invalid key skipped",
            vec![("ns/a", entry("r.example.com:x"))],
            "r.example.com/app",
            vec![],
        ),
        (
            "host case differs",
            vec![("ns/a", entry("R.example.com"))],
            "r.example.com/app",
            vec![],
        ),
    ];
    for (name, secrets, image, expected) in cases {
        let secrets: Vec<(&str, &str)> = secrets.iter().map(|(s, d)| (*s, d.as_str())).collect();
        let found = keyring(&secrets).lookup(image);
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|m| (m.source.as_str(), m.key.as_str()))
            .collect();
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn keyring_match_details() {
    let keyring = keyring(&[
        (
            "ns/hub",
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"}}}"#,
        ),
        ("ns/empty", r#"{"auths":{"r.example.com":{}}}"#),
    ]);
    let hub = keyring.lookup("docker.io/library/nginx");
    assert_eq!(hub.len(), 1);
    assert!(hub[0].docker_hub_fallback);
    assert_eq!(hub[0].normalized, "index.docker.io");
    let Some(Credential::Basic { username, .. }) = &hub[0].credential else {
        panic!("expected a basic credential: {:?}", hub[0].credential);
    };
    assert_eq!(username, "user");

    // An entry without credentials still matches, and the runtime then
    // pulls without them.
    let empty = keyring.lookup("r.example.com/app");
    assert_eq!(empty.len(), 1);
    assert!(empty[0].credential.is_none());
    assert!(!empty[0].docker_hub_fallback);
    assert_eq!(keyring.keys(), ["r.example.com", "index.docker.io"]);
}

#[test]
fn keyring_add_secret_filters() {
    let mut keyring = Keyring::new();
    let opaque = decode_secret(
        "Opaque",
        &data(&[(DOCKER_CONFIG_JSON_KEY, &entry("r.example.com"))]),
    );
    let broken = config_json(r#"{"auths":{"r.example.com":{"auth":"%%"}}}"#);
    let good = config_json(&entry("r.example.com"));
    assert!(!keyring.add_secret("ns/opaque", &opaque));
    assert!(!keyring.add_secret("ns/broken", &broken));
    assert!(keyring.is_empty());
    assert!(keyring.add_secret("ns/good", &good));
    assert_eq!(keyring.lookup("r.example.com/app").len(), 1);
}

#[test]
fn lookup_union_keeps_keyring_order() {
    let pod = keyring(&[("ns/pod", &entry("r.example.com"))]);
    let mut node = Keyring::new();
    node.add(
        "/var/lib/kubelet/config.json",
        &decode_docker_config_json(entry("*.example.com").as_bytes()).entries,
    );
    let found = lookup_union(&[&pod, &node], "r.example.com/app");
    let sources: Vec<&str> = found.iter().map(|m| m.source.as_str()).collect();
    assert_eq!(sources, ["ns/pod", "/var/lib/kubelet/config.json"]);
}

/// (name, key, image, expected reason, text the message contains)
type ExplanationCase = (
    &'static str,
    &'static str,
    &'static str,
    Result<(), MismatchReason>,
    &'static str,
);

#[test]
fn match_explanation_table() {
    let port =
        |key: &str, key_port: Option<&str>, image_port: Option<&str>| MismatchReason::PortDiffers {
            key: key.to_string(),
            key_port: key_port.map(str::to_string),
            image_port: image_port.map(str::to_string),
        };
    let host = |key_host: &str, image_host: &str, case_only| MismatchReason::HostDiffers {
        key_host: key_host.to_string(),
        image_host: image_host.to_string(),
        case_only,
    };
    let labels = |key_host: &str, image_host: &str| MismatchReason::LabelCountDiffers {
        key_host: key_host.to_string(),
        image_host: image_host.to_string(),
    };
    let cases: Vec<ExplanationCase> = vec![
        (
            "same host",
            "registry.example.com",
            "registry.example.com/app",
            Ok(()),
            "",
        ),
        (
            "port in key only",
            "registry.example.com:5000",
            "registry.example.com/app",
            Err(port("registry.example.com:5000", Some("5000"), None)),
            "the entry is for registry.example.com:5000 with port 5000 but the image uses no port",
        ),
        (
            "port in image only",
            "10.0.0.5",
            "10.0.0.5:9595/app",
            Err(port("10.0.0.5", None, Some("9595"))),
            "with no port but the image uses port 9595",
        ),
        (
            "443 not implied",
            "foo.bar.host.com",
            "foo.bar.host.com:443/app",
            Err(port("foo.bar.host.com", None, Some("443"))),
            ":443",
        ),
        (
            "wildcard too shallow",
            "*.example.com",
            "a.b.example.com/app",
            Err(labels("*.example.com", "a.b.example.com")),
            "label by label",
        ),
        (
            "wildcard not apex",
            "*.example.com",
            "example.com/app",
            Err(labels("*.example.com", "example.com")),
            "exactly one label",
        ),
        (
            "other host",
            "other.example.com",
            "registry.example.com/app",
            Err(host("other.example.com", "registry.example.com", false)),
            "the entry is for other.example.com but the image is on registry.example.com",
        ),
        (
            "case differs",
            "Registry.Example.com",
            "registry.example.com/app",
            Err(host("Registry.Example.com", "registry.example.com", true)),
            "case-sensitively",
        ),
        (
            "registry-1 host",
            "registry-1.docker.io",
            "docker.io/library/nginx",
            Err(MismatchReason::DockerHubHost {
                key: "registry-1.docker.io".into(),
                host: "registry-1.docker.io".into(),
            }),
            "https://index.docker.io/v1/",
        ),
        (
            "hub api host with scheme",
            "https://registry.hub.docker.com",
            "docker.io/library/nginx",
            Err(MismatchReason::DockerHubHost {
                key: "https://registry.hub.docker.com".into(),
                host: "registry.hub.docker.com".into(),
            }),
            "serves Docker Hub",
        ),
        (
            "legacy hub key",
            "https://index.docker.io/v1/",
            "docker.io/library/nginx",
            Ok(()),
            "",
        ),
        (
            "index host",
            "index.docker.io",
            "docker.io/team/app",
            Ok(()),
            "",
        ),
        (
            "docker.io key",
            "docker.io",
            "docker.io/library/nginx",
            Ok(()),
            "",
        ),
        (
            "path not prefix",
            "quay.io/coreos",
            "quay.io/other/app",
            Err(MismatchReason::PathNotPrefix {
                key_path: "/coreos".into(),
                image_path: "/other/app".into(),
            }),
            "does not start with it",
        ),
        (
            "invalid key",
            "r example.com",
            "r.example.com/app",
            Err(MismatchReason::InvalidKey {
                key: "r example.com".into(),
                error: "invalid character \" \" in host name".into(),
            }),
            "skips key",
        ),
        (
            "malformed glob",
            "r[.example.com",
            "r.example.com/app",
            Err(MismatchReason::InvalidGlob {
                key_host: "r[.example.com".into(),
                label: "r[".into(),
            }),
            "malformed glob",
        ),
        (
            "unclosed bracket host",
            "[r.example.com",
            "r.example.com/app",
            Err(MismatchReason::InvalidKey {
                key: "[r.example.com".into(),
                error: "missing ']' in host".into(),
            }),
            "not a valid host",
        ),
        // CRI-O rewrote the host after the kubelet had matched the prefix
        // host correctly, so the kubelet side matches.
        (
            "kubelet matches prefix host",
            "registry-a.example.test",
            "registry-a.example.test/image",
            Ok(()),
            "",
        ),
    ];
    for (name, key, image, expected, text) in cases {
        let got = match_explanation(key, image);
        assert_eq!(got, expected, "{name}");
        if let Err(reason) = got {
            let message = reason.to_string();
            assert!(message.contains(text), "{name}: {message}");
        }
    }
}

#[test]
fn match_explanation_agrees_with_lookup() {
    let keys = [
        "registry.example.com",
        "registry.example.com:5000",
        "*.example.com",
        "quay.io/coreos",
        "docker.io",
        "index.docker.io",
        "https://index.docker.io/v1/",
        "registry-1.docker.io",
        "r example.com",
        "Registry.example.com",
    ];
    let images = [
        "registry.example.com/app",
        "registry.example.com:5000/app",
        "a.example.com/x",
        "quay.io/coreos/etcd",
        "docker.io/library/nginx",
        "r.example.com/app",
    ];
    for key in keys {
        let mut keyring = Keyring::new();
        keyring.add("ns/a", &config_json(&entry(key)).entries);
        for image in images {
            let explained = match_explanation(key, image).is_ok();
            let looked_up = !keyring.lookup(image).is_empty();
            assert_eq!(explained, looked_up, "key {key:?}, image {image:?}");
        }
    }
}

const CANARY: &str = "zot-canary-4d1f8b";

/// Secrets that carry the canary in every place a credential can hide,
/// including malformed ones whose problem messages describe the value.
fn canary_documents() -> Vec<(&'static str, &'static str, String)> {
    let auth = b64(&format!("user:{CANARY}"));
    let k = DOCKER_CONFIG_JSON_KEY;
    vec![
        (
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#),
        ),
        (
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"username":"user","password":"{CANARY}"}}}}}}"#
            ),
        ),
        (
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"username":"user","password":"{CANARY}-old","auth":"{auth}"}}}}}}"#
            ),
        ),
        (
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"auth":"user:{CANARY}"}}}}}}"#),
        ),
        (
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{}"}}}}}}"#,
                b64(CANARY)
            ),
        ),
        (
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"auth":"{}"}}}}}}"#,
                b64(&b64(&format!("u:{CANARY}")))
            ),
        ),
        (
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"identitytoken":"{CANARY}","registrytoken":"{CANARY}"}}}}}}"#
            ),
        ),
        (
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"password":["{CANARY}"]}}}}}}"#),
        ),
        (
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":"{CANARY}"}}}}"#),
        ),
        (
            JSON,
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"password":"{CANARY}" "x"}}}}}}"#),
        ),
        (
            JSON,
            k,
            format!("{{\"auths\":{{\"r.example.com\":{{\"password\":\"{CANARY}\u{1}\"}}}}}}"),
        ),
        (
            JSON,
            k,
            format!(
                r#"{{"auths":{{"r.example.com":{{"password":"{CANARY}"}}}},"credsStore":"desktop"}}"#
            ),
        ),
        (
            "Opaque",
            k,
            format!(r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#),
        ),
        (
            CFG,
            DOCKERCFG_KEY,
            format!(r#"{{"auths":{{"r.example.com":{{"auth":"{auth}"}}}}}}"#),
        ),
        (
            CFG,
            DOCKERCFG_KEY,
            format!(r#"{{"r.example.com":"{CANARY}"}}"#),
        ),
    ]
}

#[test]
fn formatting_never_shows_credentials() {
    let secret_texts = [CANARY.to_string(), b64(&format!("user:{CANARY}"))];
    let mut exposed = 0;
    for (type_name, key, document) in canary_documents() {
        let decoded = decode_secret(type_name, &data(&[(key, &document)]));
        let mut outputs = vec![
            format!("{decoded}"),
            format!("{decoded:?}"),
            format!("{decoded:#?}"),
            serde_json::to_string(&decoded).expect("serialise decoded secret"),
        ];
        for entry in &decoded.entries {
            outputs.push(format!("{entry}"));
            outputs.push(format!("{entry:?}"));
            for credential in [entry.credential(), entry.kubelet_credential()]
                .into_iter()
                .flatten()
            {
                outputs.push(format!("{credential}"));
                outputs.push(format!("{credential:?}"));
                outputs.push(serde_json::to_string(&credential).expect("serialise credential"));
            }
            if entry
                .password
                .as_ref()
                .is_some_and(|p| p.expose().contains(CANARY))
            {
                exposed += 1;
            }
        }
        for problem in &decoded.problems {
            outputs.push(format!("{problem}"));
            outputs.push(format!("{problem:?}"));
        }
        let mut keyring = Keyring::new();
        keyring.add("ns/canary", &decoded.entries);
        for found in keyring.lookup("r.example.com/app") {
            outputs.push(format!("{found:?}"));
            outputs.push(serde_json::to_string(&found).expect("serialise match"));
        }
        for output in &outputs {
            for secret in &secret_texts {
                assert!(
                    !output.contains(secret.as_str()),
                    "{document}: output shows a secret: {output}"
                );
            }
        }
    }
    // The canary did reach the decoded passwords, so the checks above
    // looked at real credentials.
    assert!(
        exposed >= 3,
        "only {exposed} entries carried the canary password"
    );
}
