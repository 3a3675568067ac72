//! `kubectl auth can-i` posts a SelfSubjectAccessReview (`--list`: a
//! SelfSubjectRulesReview) in Kubernetes' protobuf envelope (never JSON). This reads the few fields it needs with
//! a plain walk over protobuf's wire format; JSON bodies are read too.

/// spec.resourceAttributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    pub namespace: String,
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub name: String,
}

const MAGIC: &[u8] = b"k8s\0";

pub fn decode(body: &[u8]) -> Option<Attributes> {
    if let Some(envelope) = body.strip_prefix(MAGIC) {
        // Unknown{typeMeta=1, raw=2}; review{metadata=1, spec=2};
        // spec{resourceAttributes=1}.
        let raw = field(envelope, 2)?;
        let spec = field(raw, 2)?;
        let attrs = field(spec, 1)?;
        let text = |n| {
            field(attrs, n)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        return Some(Attributes {
            namespace: text(1),
            verb: text(2),
            group: text(3),
            resource: text(5),
            name: text(7),
        });
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let a = &v["spec"]["resourceAttributes"];
    let text = |k: &str| a[k].as_str().unwrap_or("").to_string();
    Some(Attributes {
        namespace: text("namespace"),
        verb: text("verb"),
        group: text("group"),
        resource: text("resource"),
        name: text("name"),
    })
}

/// The namespace a SelfSubjectRulesReview asks about (`spec.namespace`),
/// from kubectl's protobuf envelope or JSON.
pub fn decode_rules(body: &[u8]) -> Option<String> {
    if let Some(envelope) = body.strip_prefix(MAGIC) {
        // Unknown{raw=2}; review{spec=2}; spec{namespace=1}.
        let raw = field(envelope, 2)?;
        let spec = field(raw, 2).unwrap_or_default();
        let namespace = field(spec, 1).unwrap_or_default();
        return Some(String::from_utf8_lossy(namespace).into_owned());
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some(v["spec"]["namespace"].as_str().unwrap_or("").to_string())
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The first length-delimited field `number` of a message.
fn field(msg: &[u8], number: u64) -> Option<&[u8]> {
    let mut at = 0;
    while at < msg.len() {
        let key = varint(msg, &mut at)?;
        match key & 7 {
            0 => {
                varint(msg, &mut at)?;
            }
            1 => at += 8,
            5 => at += 4,
            2 => {
                let len = usize::try_from(varint(msg, &mut at)?).ok()?;
                let end = at.checked_add(len).filter(|e| *e <= msg.len())?;
                if key >> 3 == number {
                    return Some(&msg[at..end]);
                }
                at = end;
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(n: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![(n << 3) | 2, body.len() as u8];
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn reads_kubectls_protobuf_review() {
        let attrs = [
            ld(1, b"dev"),
            ld(2, b"create"),
            ld(3, b""),
            ld(4, b""),
            ld(5, b"pods"),
            ld(6, b""),
            ld(7, b""),
        ]
        .concat();
        let spec = ld(1, &attrs);
        let raw = [ld(1, &[]), ld(2, &spec)].concat();
        let type_meta = [
            ld(1, b"authorization.k8s.io/v1"),
            ld(2, b"SelfSubjectAccessReview"),
        ]
        .concat();
        let body = [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &raw)].concat();
        let a = decode(&body).unwrap();
        assert_eq!(a.namespace, "dev");
        assert_eq!(a.verb, "create");
        assert_eq!(a.resource, "pods");
    }

    #[test]
    fn reads_kubectls_protobuf_rules_review() {
        let spec = ld(1, b"web");
        let raw = [ld(1, &[]), ld(2, &spec)].concat();
        let body = [MAGIC.to_vec(), ld(2, &raw)].concat();
        assert_eq!(decode_rules(&body).as_deref(), Some("web"));
        let json = br#"{"spec": {"namespace": "dev"}}"#;
        assert_eq!(decode_rules(json).as_deref(), Some("dev"));
        assert_eq!(decode_rules(b"{").as_deref(), None);
    }

    #[test]
    fn damaged_protobuf_is_none_not_a_panic() {
        assert_eq!(decode(b"k8s\0\x12\xff\xff"), None);
        assert_eq!(decode(b"k8s\0"), None);
    }
}
