//! Discovery: the bucket and its top-level prefixes, each named as policies name objects.
//!
//! Object stores have no schema to read, and a bucket may hold billions of keys, so discovery lists one
//! level (bounded by [`MAX_PREFIXES`]) and leaves deeper browsing to `list`.

use tributary_core::{Catalog, DataType, FieldInfo, ObjectInfo, ObjectKind, Result};

use crate::connector::ObjectStoreConnector;

/// The most top-level prefixes discovery reports.
pub(crate) const MAX_PREFIXES: usize = 1000;

/// The fields of a listed object, as `list` and `head` return them.
fn object_fields() -> Vec<FieldInfo> {
    [
        ("key", DataType::String, "string"),
        ("size", DataType::Integer, "bytes"),
        ("last_modified", DataType::TimestampTz, "timestamp"),
        ("e_tag", DataType::String, "string"),
        ("content_type", DataType::String, "string"),
    ]
    .into_iter()
    .map(|(name, data_type, native)| FieldInfo::new(name, data_type, native))
    .collect()
}

pub(crate) async fn discover(connector: &ObjectStoreConnector) -> Result<Catalog> {
    let bucket = connector.bucket_name();
    let (prefixes, truncated) = connector.top_level(MAX_PREFIXES).await?;
    let mut root = ObjectInfo::new(bucket, ObjectKind::Bucket);
    root.description = Some(format!("The whole {} bucket", connector.provider_name()));
    root.fields = object_fields();
    let mut objects = vec![root];
    objects.extend(prefixes.into_iter().map(|prefix| {
        let mut info = ObjectInfo::new(format!("{bucket}/{prefix}"), ObjectKind::Prefix);
        info.namespace = Some(bucket.to_owned());
        info.fields = object_fields();
        info
    }));
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Catalog { objects, truncated })
}
