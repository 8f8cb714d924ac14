//! Pieces shared by the resource kinds: metadata, AS numbers, durations,
//! secret references, and the field errors of validation.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `metadata` of a resource (the fields BGP uses; the others are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The namespace (Kubernetes objects only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, deserialize_with = "nullable")]
    pub annotations: BTreeMap<String, String>,
}

/// A field that may be given as `null`: read as its default.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An AS number: `64512`, `"64512"` or the dotted `"1.10"` form
/// (1 × 65536 + 10), as Calico's `numorstring.ASNumber` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AsNumber(pub u32);

impl AsNumber {
    /// Parses the text forms.
    pub fn parse(s: &str) -> Option<AsNumber> {
        let s = s.trim();
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if let Some((hi, lo)) = s.split_once('.') {
            if !digits(hi) || !digits(lo) {
                return None;
            }
            let hi: u16 = hi.parse().ok()?;
            let lo: u16 = lo.parse().ok()?;
            return Some(AsNumber((u32::from(hi) << 16) | u32::from(lo)));
        }
        if !digits(s) {
            return None;
        }
        s.parse().ok().map(AsNumber)
    }
}

impl fmt::Display for AsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for AsNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for AsNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AsNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AS number (0 to 4294967295, or the dotted form 1.10)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AsNumber, E> {
                u32::try_from(v)
                    .map(AsNumber)
                    .map_err(|_| E::custom(format!("AS number {v} is over 4294967295")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AsNumber, E> {
                u32::try_from(v)
                    .map(AsNumber)
                    .map_err(|_| E::custom(format!("invalid AS number {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AsNumber, E> {
                // YAML reads 1.10 as a float; the dotted form is text.
                Err(E::custom(format!(
                    "AS number {v} is not an integer (quote the dotted form: \"1.10\")"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AsNumber, E> {
                AsNumber::parse(v).ok_or_else(|| E::custom(format!("invalid AS number {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A Kubernetes duration (`"120s"`, `"1m30s"`, `"1.5h"`, `"500ms"`), as
/// Go's `time.ParseDuration` reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duration {
    /// The text.
    pub text: String,
    /// Its length in seconds.
    #[serde(skip)]
    pub seconds: f64,
}

impl Duration {
    /// Parses the text.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let text = s.to_string();
        let mut rest = s.trim();
        let mut negative = false;
        if let Some(r) = rest.strip_prefix('-') {
            negative = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix('+') {
            rest = r;
        }
        if rest == "0" {
            return Ok(Duration { text, seconds: 0.0 });
        }
        if rest.is_empty() {
            return Err(format!("invalid duration {s:?}"));
        }
        let mut total = 0.0;
        while !rest.is_empty() {
            let num_len = rest
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            let (num, after) = rest.split_at(num_len);
            let value: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
            let unit_len = after
                .bytes()
                .take_while(|b| !b.is_ascii_digit() && *b != b'.')
                .count();
            let (unit, after) = after.split_at(unit_len);
            let scale = match unit {
                "ns" => 1e-9,
                "us" | "µs" | "μs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                "" => return Err(format!("missing unit in duration {s:?}")),
                u => return Err(format!("unknown unit {u:?} in duration {s:?}")),
            };
            total += value * scale;
            rest = after;
        }
        Ok(Duration {
            text,
            seconds: if negative { -total } else { total },
        })
    }

    /// Whole seconds, rounded half away from zero (Go's `math.Round`), as
    /// confd writes `graceful restart time`; negative durations give 0.
    pub fn rounded_seconds(&self) -> u32 {
        let r = self.seconds.round();
        if r <= 0.0 {
            0
        } else if r >= f64::from(u32::MAX) {
            u32::MAX
        } else {
            // In range and integral: the conversion is exact.
            r as u32
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(de::Error::custom)
    }
}

/// `{secretKeyRef: {name, key}}`: a key of a Secret in calico-node's
/// namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordSource {
    /// The Secret and key.
    pub secret_key_ref: Option<SecretKeyRef>,
}

/// A key of a Secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyRef {
    /// The Secret's name.
    pub name: String,
    /// The key in it.
    pub key: String,
    /// Kubernetes' `optional` flag (accepted, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// A field that fails validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path (`spec.peerIP`, `spec.exportV4[2].cidr`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// An error in a field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_numbers() {
        assert_eq!(AsNumber::parse("64512"), Some(AsNumber(64512)));
        assert_eq!(AsNumber::parse("1.10"), Some(AsNumber(65546)));
        assert_eq!(AsNumber::parse("4294967295"), Some(AsNumber(u32::MAX)));
        assert_eq!(AsNumber::parse("4294967296"), None);
        assert_eq!(AsNumber::parse("1.65536"), None);
        assert_eq!(AsNumber::parse("-1"), None);
        assert_eq!(AsNumber::parse("a"), None);
        let v: AsNumber = serde_norway::from_str("64513").unwrap();
        assert_eq!(v, AsNumber(64513));
        let v: AsNumber = serde_norway::from_str("'2.1'").unwrap();
        assert_eq!(v, AsNumber(131073));
        assert!(serde_norway::from_str::<AsNumber>("1.10").is_err());
    }

    #[test]
    fn durations() {
        let d = |s| Duration::parse(s).unwrap().rounded_seconds();
        assert_eq!(d("120s"), 120);
        assert_eq!(d("1m30s"), 90);
        assert_eq!(d("1.5h"), 5400);
        assert_eq!(d("2.5s"), 3);
        assert_eq!(d("2.4s"), 2);
        assert_eq!(d("500ms"), 1);
        assert_eq!(d("0"), 0);
        assert!(Duration::parse("10").is_err());
        assert!(Duration::parse("10x").is_err());
        assert!(Duration::parse("").is_err());
    }
}
