//! Reading the relay's lists (`{"pending":[…]}`, `{"envelopes":[…]}`)
//! without trusting their length: the count is checked while parsing, so a
//! list longer than an honest relay ever sends is refused whole, before any
//! item is kept or acted on. Items stay raw JSON borrowed from the body, so
//! one the agent cannot read does not stall the others.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use sealpass::error::{Code, Error, Result};

/// The items of `{"<key>": [ … ]}` in `body` (other keys ignored), at most
/// `max` of them. 8612 for a malformed answer or a longer list.
pub fn items<'a>(body: &'a [u8], key: &'static str, max: usize) -> Result<Vec<&'a RawValue>> {
    let too_long = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = ListSeed {
        key,
        max,
        too_long: &too_long,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    parsed.map_err(|_| {
        if too_long.get() {
            Error::with_detail(
                Code::RelayProtocol,
                format!("relay's {key} list has more than {max} items: refused whole"),
            )
        } else {
            Error::with_detail(
                Code::RelayProtocol,
                format!("relay sent a malformed {key} list answer"),
            )
        }
    })
}

struct ListSeed<'c> {
    key: &'static str,
    max: usize,
    too_long: &'c Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<&'de RawValue>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<&'de RawValue>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with a {} array", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = None;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if k != self.key {
                map.next_value::<IgnoredAny>()?;
            } else if out.is_some() {
                return Err(de::Error::duplicate_field(self.key));
            } else {
                out = Some(map.next_value_seed(Items {
                    max: self.max,
                    too_long: self.too_long,
                })?);
            }
        }
        out.ok_or_else(|| de::Error::missing_field(self.key))
    }
}

struct Items<'c> {
    max: usize,
    too_long: &'c Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = Vec<&'de RawValue>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = Vec<&'de RawValue>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of at most {} items", self.max)
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            if out.len() == self.max {
                self.too_long.set(true);
                return Err(de::Error::invalid_length(self.max + 1, &self));
            }
            out.push(item);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_bounded_while_parsing() {
        let got = items(br#"{"x":1,"pending":[{"a":1},{"b":[2]}]}"#, "pending", 2).unwrap();
        let raw: Vec<&str> = got.iter().map(|r| r.get()).collect();
        assert_eq!(raw, [r#"{"a":1}"#, r#"{"b":[2]}"#]);
        assert!(items(br#"{"pending":[]}"#, "pending", 0)
            .unwrap()
            .is_empty());
        let e = items(br#"{"pending":[1,2,3]}"#, "pending", 2).unwrap_err();
        assert_eq!(e.code(), Code::RelayProtocol);
        assert!(e.detail().contains("more than 2 items"), "{}", e.detail());
        for bad in [
            &br#"{"pending":[1],"pending":[]}"#[..],
            br#"{"other":[]}"#,
            br#"{"pending":{}}"#,
            br#"{"pending":[1]} x"#,
            br#"[1]"#,
            b"",
        ] {
            let e = items(bad, "pending", 5).unwrap_err();
            assert_eq!(e.code(), Code::RelayProtocol);
            assert!(e.detail().contains("malformed"), "{}", e.detail());
        }
    }
}
