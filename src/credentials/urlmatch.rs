//! The URL and glob rules of the kubelet's credential keyring.
//!
//! The kubelet keys pull-secret entries and matches images with Go's
//! `net/url.Parse`, `net.SplitHostPort` and `path/filepath.Match`
//! (k8s.io/kubernetes pkg/credentialprovider/keyring.go: `Add`,
//! `ParseSchemelessURL`, `SplitURL`, `URLsMatch`). This module ports the
//! parts of those functions that decide whether a key matches an image,
//! including their odd corners, because a diagnosis must agree with the
//! kubelet rather than with what a user expects.

/// The parts of a parsed URL that the keyring uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GoUrl {
    /// Host with its port, as Go's `URL.Host` (for example `registry.example.com:5000`).
    pub(crate) host: String,
    /// Path after percent-decoding, as Go's `URL.Path`.
    pub(crate) path: String,
}

/// Parses `raw`, which must start with `http://` or `https://`, as Go's
/// `url.Parse` does. The error text follows Go's wording.
pub(crate) fn parse_url(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|byte| byte < 0x20 || byte == 0x7f) {
        return Err("invalid control character in URL".to_string());
    }
    let (without_fragment, fragment) = match raw.split_once('#') {
        Some((before, after)) => (before, Some(after)),
        None => (raw, None),
    };
    if let Some(fragment) = fragment {
        unescape(fragment, Part::Other)?;
    }

    let rest = match without_fragment.split_once("://") {
        Some((_scheme, rest)) => rest,
        None => return Err("missing scheme".to_string()),
    };
    // Go drops the query. A lone trailing "?" marks an empty query.
    let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        &rest[..rest.len() - 1]
    } else {
        rest.split_once('?').map_or(rest, |(before, _)| before)
    };
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, ""),
    };

    let host = parse_authority(authority)?;
    let path = unescape(path, Part::Other)?;
    Ok(GoUrl { host, path })
}

/// Parses `schemeless` as the kubelet's `ParseSchemelessURL` does: with
/// `https://` put in front.
pub(crate) fn parse_schemeless(schemeless: &str) -> Result<GoUrl, String> {
    parse_url(&format!("https://{schemeless}"))
}

/// Returns the key under which the kubelet files a pull-secret entry written
/// as `location`, or Go's parse error when the kubelet skips the entry.
///
/// As `BasicDockerKeyring.Add` does: a missing scheme means `https://`, the
/// scheme is dropped, and a leading `/v1/` or `/v2/` path component is
/// removed, so `https://index.docker.io/v1/` becomes `index.docker.io`.
/// Only the exact lowercase prefixes `http://` and `https://` count as a
/// scheme, and a trailing slash after a longer path is kept.
pub(crate) fn kubelet_key(location: &str) -> Result<String, String> {
    let value = if location.starts_with("https://") || location.starts_with("http://") {
        location.to_string()
    } else {
        format!("https://{location}")
    };
    let parsed = parse_url(&value)?;

    let mut effective_path = parsed.path.as_str();
    if effective_path.starts_with("/v2/") || effective_path.starts_with("/v1/") {
        effective_path = &effective_path[3..];
    }
    if effective_path.is_empty() || effective_path == "/" {
        Ok(parsed.host)
    } else {
        Ok(format!("{}{}", parsed.host, effective_path))
    }
}

/// Splits a URL host into dot-separated labels and a port, as the kubelet's
/// `SplitURL` does: a host that `net.SplitHostPort` rejects (no port, or
/// several colons without brackets) is used whole with an empty port.
pub(crate) fn split_host(host: &str) -> (Vec<String>, String) {
    let (name, port) = split_host_port(host).unwrap_or_else(|| (host.to_string(), String::new()));
    (name.split('.').map(str::to_string).collect(), port)
}

/// Reports whether the key `glob` matches the repository name `target`, as
/// the kubelet's `URLsMatchStr` does. A parse error or a malformed glob is
/// no match, because the kubelet drops the error.
pub(crate) fn urls_match(glob: &str, target: &str) -> bool {
    let (Ok(glob_url), Ok(target_url)) = (parse_schemeless(glob), parse_schemeless(target)) else {
        return false;
    };
    let (glob_labels, glob_port) = split_host(&glob_url.host);
    let (target_labels, target_port) = split_host(&target_url.host);
    if glob_port != target_port || glob_labels.len() != target_labels.len() {
        return false;
    }
    if !target_url.path.starts_with(&glob_url.path) {
        return false;
    }
    glob_labels
        .iter()
        .zip(&target_labels)
        .all(|(pattern, label)| glob_match(pattern, label) == Ok(true))
}

/// Reports whether `image` is a Docker Hub name, as the kubelet's
/// `isDefaultRegistryMatch` does. For such images the kubelet falls back to
/// the `index.docker.io` entry when no key matched.
///
/// Besides `docker.io/...`, this is true for a first component without a dot
/// or colon, so `localhost/app` counts as Docker Hub here even though Docker
/// pulls it from localhost.
pub(crate) fn is_default_registry_match(image: &str) -> bool {
    let first = image.split('/').next().unwrap_or("");
    if first.is_empty() {
        return false;
    }
    if !image.contains('/') {
        return true;
    }
    if first == "docker.io" || first == "index.docker.io" {
        return true;
    }
    !first.contains(['.', ':'])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Host,
    Other,
}

fn parse_authority(authority: &str) -> Result<String, String> {
    let host = match authority.rfind('@') {
        Some(index) => {
            let userinfo = &authority[..index];
            if !userinfo.bytes().all(is_userinfo_byte) {
                return Err("invalid userinfo".to_string());
            }
            unescape(userinfo, Part::Other)?;
            &authority[index + 1..]
        }
        None => authority,
    };
    parse_host(host)
}

fn is_userinfo_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&byte)
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(close) = host.rfind(']') else {
            return Err("missing ']' in host".to_string());
        };
        let colon_port = &host[close + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
    } else if let Some(colon) = host.rfind(':') {
        let colon_port = &host[colon..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {colon_port:?} after host"));
        }
    }
    unescape(host, Part::Host)
}

fn valid_optional_port(colon_port: &str) -> bool {
    match colon_port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|byte| byte.is_ascii_digit()),
        None => colon_port.is_empty(),
    }
}

/// Percent-decodes `text` as Go's `url.unescape`. In a host, ASCII other
/// than letters, digits and ``!$&'()*+,;=:[]<>"-_.~`` is rejected, and only
/// `%25` or an escape of a non-ASCII byte is allowed.
fn unescape(text: &str, part: Part) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let end = bytes.len().min(index + 3);
            let escape = String::from_utf8_lossy(&bytes[index..end]);
            let (Some(high), Some(low)) = (
                bytes.get(index + 1).and_then(|b| hex_value(*b)),
                bytes.get(index + 2).and_then(|b| hex_value(*b)),
            ) else {
                return Err(format!("invalid URL escape {escape:?}"));
            };
            if part == Part::Host && high < 8 && escape != "%25" {
                return Err(format!("invalid URL escape {escape:?}"));
            }
            decoded.push(high * 16 + low);
            index += 3;
            continue;
        }
        if part == Part::Host && byte < 0x80 && !is_host_byte(byte) {
            return Err(format!(
                "invalid character {:?} in host name",
                char::from(byte).to_string()
            ));
        }
        decoded.push(byte);
        index += 1;
    }
    Ok(String::from_utf8_lossy(&decoded).into_owned())
}

fn is_host_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!$&'()*+,;=:[]<>\"-_.~".contains(&byte)
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|digit| digit as u8)
}

/// Splits `host:port` as Go's `net.SplitHostPort`, or returns `None` where
/// Go returns an error.
fn split_host_port(hostport: &str) -> Option<(String, String)> {
    let last_colon = hostport.rfind(':')?;
    let (host, host_start, host_end) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        if close + 1 != last_colon {
            return None;
        }
        (&hostport[1..close], 1, close + 1)
    } else {
        let host = &hostport[..last_colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[host_start..].contains('[') || hostport[host_end..].contains(']') {
        return None;
    }
    Some((host.to_string(), hostport[last_colon + 1..].to_string()))
}

/// A glob pattern that Go's `filepath.Match` rejects with `ErrBadPattern`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadPattern;

/// Matches `name` against the shell pattern `pattern` with the semantics of
/// Go's `filepath.Match` on Unix: `*` is any run of characters except `/`,
/// `?` is one character except `/`, `[a-z]` and `[^a-z]` are classes, and
/// `\` escapes the next character.
pub(crate) fn glob_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'chunks: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing * matches the rest of the name unless it has a /.
            return Ok(!name.contains(&b'/'));
        }
        let attempt = match_chunk(chunk, name);
        if let Ok(Some(remaining)) = attempt
            && (remaining.is_empty() || !pattern.is_empty())
        {
            name = remaining;
            continue;
        }
        attempt?;
        if star {
            let mut skip = 0;
            while skip < name.len() && name[skip] != b'/' {
                if let Some(remaining) = match_chunk(chunk, &name[skip + 1..])? {
                    // The last chunk must use up the name.
                    if !pattern.is_empty() || remaining.is_empty() {
                        name = remaining;
                        continue 'chunks;
                    }
                }
                skip += 1;
            }
        }
        // Go releases after 1.19 also reject a malformed rest of the pattern
        // after a mismatch. To the kubelet both mean no match.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Splits off leading stars and the literal chunk up to the next star
/// outside a class.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut pattern = pattern;
    let mut star = false;
    while let Some((b'*', rest)) = pattern.split_first() {
        pattern = rest;
        star = true;
    }
    let mut in_class = false;
    let mut index = 0;
    while index < pattern.len() {
        match pattern[index] {
            b'\\' if index + 1 < pattern.len() => index += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'*' if !in_class => break,
            _ => {}
        }
        index += 1;
    }
    (star, &pattern[..index], &pattern[index..])
}

/// Matches one chunk at the start of `name` and returns what is left of the
/// name, `None` for a mismatch, or `BadPattern`. Like Go, it keeps checking
/// the chunk's syntax after a mismatch.
fn match_chunk<'a>(chunk: &[u8], name: &'a [u8]) -> Result<Option<&'a [u8]>, BadPattern> {
    let mut chunk = chunk;
    let mut name = name;
    let mut failed = false;
    while let Some(&first) = chunk.first() {
        if !failed && name.is_empty() {
            failed = true;
        }
        match first {
            b'[' => {
                let mut current = '\0';
                if !failed {
                    let (decoded, width) = decode_char(name);
                    current = decoded;
                    name = &name[width..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (low, rest) = class_char(chunk)?;
                    chunk = rest;
                    let mut high = low;
                    if chunk[0] == b'-' {
                        let (upper, rest) = class_char(&chunk[1..])?;
                        high = upper;
                        chunk = rest;
                    }
                    if low <= current && current <= high {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if name[0] == b'/' {
                        failed = true;
                    }
                    let (_, width) = decode_char(name);
                    name = &name[width..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if first == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                if !failed {
                    if chunk[0] != name[0] {
                        failed = true;
                    }
                    name = &name[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(name) })
}

/// Reads one possibly escaped character of a class, as Go's `getEsc`.
fn class_char(chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(BadPattern),
        Some(b'\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(BadPattern);
            }
        }
        Some(_) => {}
    }
    let (decoded, width) = decode_char(chunk);
    if decoded == char::REPLACEMENT_CHARACTER && width == 1 {
        return Err(BadPattern);
    }
    let rest = &chunk[width..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((decoded, rest))
}

/// Decodes the first UTF-8 character of `bytes`, or U+FFFD with width 1 for
/// an invalid byte, as Go's `utf8.DecodeRune`.
fn decode_char(bytes: &[u8]) -> (char, usize) {
    let width = match bytes.first() {
        None => return (char::REPLACEMENT_CHARACTER, 0),
        Some(byte) if *byte < 0x80 => 1,
        Some(byte) if *byte >= 0xF0 => 4,
        Some(byte) if *byte >= 0xE0 => 3,
        Some(_) => 2,
    };
    match bytes
        .get(..width)
        .and_then(|prefix| std::str::from_utf8(prefix).ok())
    {
        Some(text) => (
            text.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER),
            width,
        ),
        None => (char::REPLACEMENT_CHARACTER, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_key_normalisation() {
        // (name, location as written, key or error start)
        let cases: [(&str, &str, Result<&str, &str>); 19] = [
            (
                "bare host",
                "registry.example.com",
                Ok("registry.example.com"),
            ),
            (
                "host and port",
                "registry.example.com:5000",
                Ok("registry.example.com:5000"),
            ),
            (
                "https scheme",
                "https://registry.example.com",
                Ok("registry.example.com"),
            ),
            (
                "http scheme",
                "http://registry.example.com:5000",
                Ok("registry.example.com:5000"),
            ),
            (
                "trailing slash",
                "https://registry.example.com/",
                Ok("registry.example.com"),
            ),
            (
                "docker hub legacy",
                "https://index.docker.io/v1/",
                Ok("index.docker.io"),
            ),
            (
                "v2 path",
                "registry.example.com/v2/",
                Ok("registry.example.com"),
            ),
            (
                "v1 with project",
                "registry.example.com/v1/team",
                Ok("registry.example.com/team"),
            ),
            (
                "v2 without slash",
                "registry.example.com/v2",
                Ok("registry.example.com/v2"),
            ),
            ("project path", "quay.io/coreos", Ok("quay.io/coreos")),
            (
                "path trailing slash",
                "quay.io/coreos/",
                Ok("quay.io/coreos/"),
            ),
            (
                "query dropped",
                "registry.example.com/team?x=1",
                Ok("registry.example.com/team"),
            ),
            (
                "userinfo dropped",
                "https://user@registry.example.com",
                Ok("registry.example.com"),
            ),
            ("ipv6", "[::1]:5000", Ok("[::1]:5000")),
            (
                "upper-case scheme",
                "HTTPS://registry.example.com",
                Ok("HTTPS://registry.example.com"),
            ),
            (
                "bad port",
                "registry.example.com:port",
                Err("invalid port \":port\""),
            ),
            (
                "space in host",
                "registry example.com",
                Err("invalid character \" \""),
            ),
            (
                "trailing newline",
                "registry.example.com\n",
                Err("invalid control character"),
            ),
            (
                "bad escape",
                "registry.example.com/%zz",
                Err("invalid URL escape"),
            ),
        ];
        for (name, location, expected) in cases {
            match (kubelet_key(location), expected) {
                (Ok(key), Ok(want)) => assert_eq!(key, want, "{name}"),
                (Err(error), Err(want)) => assert!(error.starts_with(want), "{name}: {error}"),
                (got, want) => panic!("{name}: got {got:?}, expected {want:?}"),
            }
        }
    }

    #[test]
    fn split_host_labels_and_port() {
        // (name, host, labels, port)
        let cases: [(&str, &str, &[&str], &str); 6] = [
            (
                "no port",
                "registry.example.com",
                &["registry", "example", "com"],
                "",
            ),
            (
                "port",
                "registry.example.com:5000",
                &["registry", "example", "com"],
                "5000",
            ),
            (
                "empty port",
                "registry.example.com:",
                &["registry", "example", "com"],
                "",
            ),
            ("ipv6 with port", "[::1]:5000", &["::1"], "5000"),
            ("ipv6 without port", "[::1]", &["[::1]"], ""),
            ("single label", "localhost:5000", &["localhost"], "5000"),
        ];
        for (name, host, labels, port) in cases {
            let (got_labels, got_port) = split_host(host);
            assert_eq!(got_labels, labels, "{name}: labels");
            assert_eq!(got_port, port, "{name}: port");
        }
    }

    #[test]
    fn glob_match_go_semantics() {
        // (name, pattern, text, expected)
        let cases: [(&str, &str, &str, Result<bool, BadPattern>); 18] = [
            ("literal", "registry", "registry", Ok(true)),
            ("literal differs", "registry", "registri", Ok(false)),
            ("case sensitive", "Registry", "registry", Ok(false)),
            ("star alone", "*", "anything", Ok(true)),
            ("star empty", "*", "", Ok(true)),
            ("star prefix", "*-eu", "team-eu", Ok(true)),
            ("star middle", "a*c", "abbbc", Ok(true)),
            ("star middle miss", "a*c", "abbbd", Ok(false)),
            ("question", "reg?", "reg1", Ok(true)),
            ("question needs one", "reg?", "reg", Ok(false)),
            ("class", "[a-c]x", "bx", Ok(true)),
            ("negated class", "[^a-c]x", "bx", Ok(false)),
            ("escaped star", "a\\*", "a*", Ok(true)),
            ("escaped star literal", "a\\*", "ab", Ok(false)),
            ("star skips no slash", "*", "a/b", Ok(false)),
            ("unclosed class", "[a-", "a", Err(BadPattern)),
            ("trailing backslash", "a\\", "a", Err(BadPattern)),
            ("bad tail after mismatch", "x[", "a", Err(BadPattern)),
        ];
        for (name, pattern, text, expected) in cases {
            assert_eq!(glob_match(pattern, text), expected, "{name}");
        }
    }

    #[test]
    fn urls_match_kubelet_rules() {
        // (name, key, repository name, expected)
        let cases = [
            (
                "same host",
                "registry.example.com",
                "registry.example.com/app",
                true,
            ),
            (
                "other host",
                "registry.example.com",
                "other.example.com/app",
                false,
            ),
            (
                "wildcard one label",
                "*.example.com",
                "a.example.com/app",
                true,
            ),
            (
                "wildcard not apex",
                "*.example.com",
                "example.com/app",
                false,
            ),
            (
                "wildcard not two labels",
                "*.example.com",
                "a.b.example.com/app",
                false,
            ),
            (
                "partial label glob",
                "reg-*.example.com",
                "reg-eu.example.com/app",
                true,
            ),
            (
                "port equal",
                "registry.example.com:5000",
                "registry.example.com:5000/app",
                true,
            ),
            (
                "key port, image none",
                "registry.example.com:5000",
                "registry.example.com/app",
                false,
            ),
            (
                "key none, image port",
                "registry.example.com",
                "registry.example.com:5000/app",
                false,
            ),
            (
                "443 not implied",
                "registry.example.com",
                "registry.example.com:443/app",
                false,
            ),
            ("path prefix", "quay.io/coreos", "quay.io/coreos/etcd", true),
            (
                "path not prefix",
                "quay.io/coreos",
                "quay.io/other/etcd",
                false,
            ),
            (
                "path prefix is textual",
                "quay.io/core",
                "quay.io/coreos/etcd",
                true,
            ),
            (
                "trailing slash path",
                "quay.io/coreos/",
                "quay.io/coreos/etcd",
                true,
            ),
            (
                "host case differs",
                "Registry.example.com",
                "registry.example.com/app",
                false,
            ),
            (
                "docker.io key",
                "docker.io",
                "docker.io/library/nginx",
                true,
            ),
            (
                "index key not direct",
                "index.docker.io",
                "docker.io/library/nginx",
                false,
            ),
            ("ipv6", "[::1]:5000", "[::1]:5000/app", true),
            ("bad glob", "[.example.com", "a.example.com/app", false),
        ];
        for (name, key, image, expected) in cases {
            assert_eq!(urls_match(key, image), expected, "{name}");
        }
    }

    #[test]
    fn default_registry_match_rules() {
        // (name, repository name, expected)
        let cases = [
            ("docker.io", "docker.io/library/nginx", true),
            ("index.docker.io", "index.docker.io/library/nginx", true),
            ("bare name", "nginx", true),
            ("user namespace", "team/app", true),
            ("localhost quirk", "localhost/app", true),
            ("dotted host", "registry.example.com/app", false),
            ("host with port", "localhost:5000/app", false),
            (
                "registry-1 host",
                "registry-1.docker.io/library/nginx",
                false,
            ),
            ("empty first part", "/app", false),
        ];
        for (name, image, expected) in cases {
            assert_eq!(is_default_registry_match(image), expected, "{name}");
        }
    }
}
