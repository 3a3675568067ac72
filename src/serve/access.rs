//! Who may connect: bearer tokens (kube-apiserver's `--token-auth-file`
//! format, or generated), the self-signed CA and server certificate, and a
//! kubeconfig per user. Tokens live only in the token file and the
//! kubeconfigs (mode 0600); the journal and the logs hold user names.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Token -> user name.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    by_token: BTreeMap<String, String>,
}

impl Tokens {
    pub fn user(&self, token: &str) -> Option<&str> {
        self.by_token.get(token).map(String::as_str)
    }

    /// One token of `user` (for its kubeconfig).
    pub fn of(&self, user: &str) -> Option<&str> {
        self.by_token
            .iter()
            .find(|(_, u)| u.as_str() == user)
            .map(|(t, _)| t.as_str())
    }

    /// Parses `token,user,uid,"group1,group2"` lines (groups and uid are
    /// read and not needed: groups come from the scenario's users). Every
    /// user must be one the scenario knows.
    pub fn parse(text: &str, file: &str, known: &[String]) -> Result<Tokens, String> {
        let mut by_token = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{file}:{}", i + 1);
            let mut fields = line.splitn(3, ',');
            let token = fields.next().unwrap_or("").trim();
            let user = fields.next().map(str::trim).unwrap_or("");
            if token.is_empty() || user.is_empty() {
                return Err(format!(
                    "{at}: expected `token,user,uid[,\"groups\"]` (kube-apiserver's --token-auth-file format)"
                ));
            }
            if !known.iter().any(|k| k == user) {
                return Err(format!(
                    "{at}: user `{user}` is not one of the scenario's users ({})",
                    known.join(", ")
                ));
            }
            if by_token
                .insert(token.to_string(), user.to_string())
                .is_some()
            {
                return Err(format!("{at}: this token is given twice"));
            }
        }
        Ok(Tokens { by_token })
    }

    /// A random token for each user (256 bits from the OS).
    pub fn generate(users: &[String]) -> io::Result<Tokens> {
        let mut by_token = BTreeMap::new();
        for user in users {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            by_token.insert(token, user.clone());
        }
        Ok(Tokens { by_token })
    }

    /// The token file format, one line per user.
    pub fn to_file(&self) -> String {
        let mut out = String::new();
        for (token, user) in &self.by_token {
            out.push_str(&format!("{token},{user},{user}\n"));
        }
        out
    }
}

/// Writes `text` readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    io::Write::write_all(&mut f, text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

/// The CA and server certificate of a data folder.
pub struct Tls {
    pub ca_pem: String,
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

/// Loads `dir/tls`, or makes a CA and a server certificate for `hosts`
/// (names and IP addresses) when there are none or they do not cover
/// `hosts`.
pub fn tls(dir: &Path, hosts: &[String]) -> Result<Tls, String> {
    let tls_dir = dir.join("tls");
    let path = |name: &str| tls_dir.join(name);
    let sans = hosts.join("\n");
    let same = fs::read_to_string(path("hosts")).is_ok_and(|h| h == sans);
    if same
        && let (Ok(ca_pem), Ok(cert_der), Ok(key_der)) = (
            fs::read_to_string(path("ca.crt")),
            fs::read(path("server.der")),
            fs::read(path("server.key.der")),
        )
    {
        return Ok(Tls {
            ca_pem,
            cert_der,
            key_der,
        });
    }
    let made = make_tls(hosts).map_err(|e| format!("making the TLS certificates: {e}"))?;
    let io = |e: io::Error| format!("{}: {e}", tls_dir.display());
    fs::create_dir_all(&tls_dir).map_err(io)?;
    fs::write(path("ca.crt"), &made.ca_pem).map_err(io)?;
    fs::write(path("server.der"), &made.cert_der).map_err(io)?;
    use std::os::unix::fs::PermissionsExt;
    fs::write(path("server.key.der"), &made.key_der).map_err(io)?;
    fs::set_permissions(path("server.key.der"), fs::Permissions::from_mode(0o600)).map_err(io)?;
    fs::write(path("hosts"), &sans).map_err(io)?;
    Ok(made)
}

fn make_tls(hosts: &[String]) -> Result<Tls, rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "pacsim serve CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let mut server = CertificateParams::new(hosts.to_vec())?;
    server
        .distinguished_name
        .push(DnType::CommonName, "pacsim serve");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = server.signed_by(&key, &ca_cert, &ca_key)?;
    Ok(Tls {
        ca_pem: ca_cert.pem(),
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    })
}

/// A kubeconfig that reaches `server` as `user`, in `namespace`.
pub fn kubeconfig(
    server: &str,
    ca_pem: &str,
    user: &str,
    token: &str,
    namespace: Option<&str>,
) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    kubeconfig_named("pacsim", server, &ca, user, token, namespace)
}

/// [`kubeconfig`] with cluster and context called `name`, and the CA
/// already base64-encoded (`ca_data`).
pub fn kubeconfig_named(
    name: &str,
    server: &str,
    ca_data: &str,
    user: &str,
    token: &str,
    namespace: Option<&str>,
) -> String {
    let ns = namespace.map_or(String::new(), |n| format!("    namespace: {n}\n"));
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca_data}\nusers:\n- name: \"{user}\"\n  user:\n    token: {token}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: \"{user}\"\n{ns}current-context: {name}\n"
    )
}

/// `dir/kubeconfig-<user>.yaml`, with the user's name made file-safe.
pub fn kubeconfig_path(dir: &Path, user: &str) -> PathBuf {
    let safe: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("kubeconfig-{safe}.yaml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_read_as_kube_apiserver_writes_them() {
        let known = vec!["alice".to_string(), "bob".to_string()];
        let t =
            Tokens::parse("# tokens\nt1,alice,1,\"devs,ops\"\nt2,bob,2\n", "f", &known).unwrap();
        assert_eq!(t.user("t1"), Some("alice"));
        assert_eq!(t.of("bob"), Some("t2"));
        assert_eq!(t.user("t3"), None);
        let e = Tokens::parse("t1,carol,3\n", "f", &known).unwrap_err();
        assert!(e.contains("f:1: user `carol` is not one of"), "{e}");
        let e = Tokens::parse("t1\n", "f", &known).unwrap_err();
        assert!(e.contains("f:1: expected `token,user"), "{e}");
    }

    #[test]
    fn generated_tokens_differ_and_round_trip_through_the_file() {
        let users = vec!["alice".to_string(), "bob".to_string()];
        let t = Tokens::generate(&users).unwrap();
        let (a, b) = (t.of("alice").unwrap(), t.of("bob").unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let back = Tokens::parse(&t.to_file(), "f", &users).unwrap();
        assert_eq!(back.user(a), Some("alice"));
    }
}
