//! The `audit.k8s.io/v1` Event shape, as far as matching a leaked credential needs it.
//! Strings borrow from the line when it holds no JSON escapes; everything not named here
//! (`requestObject`, `responseObject` — which may hold a minted token) is skipped unread.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl Str<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
            // `null` where a string is expected: the field is absent, not the line malformed.
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Str::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A string-keyed map kept as pairs: audit maps hold a handful of entries.
#[derive(Debug, Clone, Default)]
pub struct Pairs<'a, T>(pub Vec<(Str<'a>, T)>);

impl<'a, T> Pairs<'a, T> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Pairs<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Pairs<'de, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<Str<'de>, T>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `user` and `impersonatedUser`: who made the request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserInfo<'a> {
    /// `system:serviceaccount:NS:SA`, `system:bootstrap:ID`, a certificate's CN ...
    #[serde(borrow)]
    pub username: Str<'a>,
    /// Authenticator-provided extras, e.g. `authentication.kubernetes.io/credential-id`.
    #[serde(borrow)]
    pub extra: Pairs<'a, Vec<Str<'a>>>,
}

/// `objectRef`: what the request was about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    /// Resource, e.g. `secrets` (no API group).
    #[serde(borrow)]
    pub resource: Str<'a>,
    /// Namespace of the object, empty for cluster-scoped ones.
    #[serde(borrow)]
    pub namespace: Str<'a>,
    /// Name of the object, empty for lists.
    #[serde(borrow)]
    pub name: Str<'a>,
    /// Subresource, e.g. `exec`, `token`.
    #[serde(borrow)]
    pub subresource: Str<'a>,
    /// API group, empty for the core group.
    #[serde(borrow)]
    pub api_group: Str<'a>,
}

/// `responseStatus`: only the HTTP code matters here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResponseStatus {
    /// HTTP status code of the response.
    pub code: Option<u16>,
}

/// One `audit.k8s.io/v1` Event (or, when `kind` is `EventList`, a list of them in `items`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event<'a> {
    /// `Event`, or `EventList` for a webhook backend's batch.
    #[serde(borrow)]
    pub kind: Str<'a>,
    /// One id per request, shared by its stages.
    #[serde(rename = "auditID", borrow)]
    pub audit_id: Str<'a>,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    #[serde(borrow)]
    pub stage: Str<'a>,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete` ...
    #[serde(borrow)]
    pub verb: Str<'a>,
    /// The request path (for non-resource requests, the only thing said about them).
    #[serde(rename = "requestURI", borrow)]
    pub request_uri: Str<'a>,
    /// The authenticated user.
    #[serde(borrow)]
    pub user: UserInfo<'a>,
    /// The user acted as (`kubectl --as`), if any.
    #[serde(borrow)]
    pub impersonated_user: Option<UserInfo<'a>>,
    /// X-Forwarded-For entries, X-Real-Ip, then the connection's address.
    #[serde(rename = "sourceIPs", borrow)]
    pub source_ips: Vec<Str<'a>>,
    /// The client's User-Agent header.
    #[serde(borrow)]
    pub user_agent: Str<'a>,
    /// The object the request was about.
    #[serde(borrow)]
    pub object_ref: Option<ObjectRef<'a>>,
    /// The response's status.
    pub response_status: Option<ResponseStatus>,
    /// When the request reached the API server (the same in every stage).
    #[serde(borrow)]
    pub request_received_timestamp: Str<'a>,
    /// When this stage was written.
    #[serde(borrow)]
    pub stage_timestamp: Str<'a>,
    /// Annotations set while serving the request (authentication, authorization ...).
    #[serde(borrow)]
    pub annotations: Pairs<'a, Str<'a>>,
    /// The events of an `EventList`.
    #[serde(borrow)]
    pub items: Vec<Event<'a>>,
}

impl Event<'_> {
    /// The first `authentication.kubernetes.io/credential-id` of the user, e.g. `JTI=…`.
    pub fn credential_ids(&self) -> impl Iterator<Item = &str> {
        self.user
            .extra
            .get(CREDENTIAL_ID)
            .into_iter()
            .flatten()
            .map(Str::as_str)
    }

    /// The value of annotation `key`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(Str::as_str)
    }

    /// Whether this stage ends the request: its last event.
    pub fn is_final(&self) -> bool {
        !matches!(self.stage.as_str(), "RequestReceived" | "ResponseStarted")
    }
}

/// The user extra naming the credential that authenticated the request.
pub const CREDENTIAL_ID: &str = "authentication.kubernetes.io/credential-id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_unless_escaped() {
        let line = br#"{"kind":"Event","auditID":"a1","stage":"ResponseComplete","verb":"get","user":{"username":"system:serviceaccount:ci:deployer","extra":{"authentication.kubernetes.io/credential-id":["JTI=x"]}},"userAgent":"curl\u002f8","requestObject":{"status":{"token":"eyJ"}},"annotations":{"authentication.k8s.io/stale-token":"subject: x"}}"#;
        let ev: Event<'_> = serde_json::from_slice(line).unwrap();
        assert!(matches!(ev.user.username.0, Cow::Borrowed(_)));
        assert_eq!(ev.user_agent.as_str(), "curl/8");
        assert!(matches!(ev.user_agent.0, Cow::Owned(_)));
        assert_eq!(ev.credential_ids().collect::<Vec<_>>(), ["JTI=x"]);
        assert_eq!(
            ev.annotation("authentication.k8s.io/stale-token"),
            Some("subject: x")
        );
        assert!(ev.is_final());
    }

    #[test]
    fn nulls_and_missing_fields_are_empty() {
        let ev: Event<'_> =
            serde_json::from_slice(br#"{"auditID":null,"user":{"extra":null},"objectRef":null}"#)
                .unwrap();
        assert_eq!(ev.audit_id.as_str(), "");
        assert_eq!(ev.credential_ids().count(), 0);
        assert!(ev.object_ref.is_none());
    }
}
