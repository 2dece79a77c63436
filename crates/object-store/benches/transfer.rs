//! Getting and putting a 64 MiB object through the connector (key normalization, byte cap, error mapping)
//! against the same calls on the bare object_store client, both against the in-process S3 test server
//! (s3s-fs with signature checks) on loopback.
//!
//! `cargo bench -p tributary-object-store`. The like-for-like pairs are `get/*` and `put_single/*` (one
//! PUT request each); `put_multipart/connector` shows the connector's default for bodies over one part
//! (8 MiB parts, four in flight) next to the bare client's own multipart writer with the same part size.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, WriteMultipart};
use serde_json::json;
use tributary_object_store::types::ByteRange;
use tributary_object_store::{ObjectStoreConfig, ObjectStoreConnector, config};
use tributary_testkit::S3Server;

const SIZE: usize = 64 * 1024 * 1024;
const PART: usize = 8 * 1024 * 1024;

fn connector(server: &S3Server, bucket: &str, part: usize) -> ObjectStoreConnector {
    let values = config::spec()
        .validate(&json!({
            "provider": "s3", "bucket": bucket, "endpoint": server.endpoint(), "region": server.region(),
            "allow_http": true, "access_key_id": server.access_key(), "secret_access_key": server.secret_key(),
            "read_only": false, "max_read_bytes": 128 * 1024 * 1024, "max_write_bytes": 128 * 1024 * 1024,
            "multipart_part_bytes": part,
        }))
        .unwrap();
    ObjectStoreConnector::new(ObjectStoreConfig::from_values(&values).unwrap()).unwrap()
}

fn bare(server: &S3Server, bucket: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(server.endpoint())
            .with_region(server.region())
            .with_bucket_name(bucket)
            .with_access_key_id(server.access_key())
            .with_secret_access_key(server.secret_key())
            .with_client_options(ClientOptions::new().with_allow_http(true))
            .build()
            .unwrap(),
    )
}

fn transfer(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = S3Server::start().unwrap();
    let bucket = server.create_bucket().unwrap();
    let single = connector(&server, &bucket, 512 * 1024 * 1024);
    let multipart = connector(&server, &bucket, PART);
    let plain = bare(&server, &bucket);
    let body = Bytes::from((0..SIZE).map(|i| (i % 253) as u8).collect::<Vec<u8>>());
    let path = Path::from("bench/object.bin");
    runtime.block_on(plain.put(&path, body.clone().into())).unwrap();

    let mut group = c.benchmark_group("object_64MiB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.bench_function("get/bare_object_store", |b| {
        b.to_async(&runtime).iter(|| async {
            let bytes = plain.get(&path).await.unwrap().bytes().await.unwrap();
            assert_eq!(bytes.len(), SIZE);
        })
    });
    group.bench_function("get/connector", |b| {
        b.to_async(&runtime).iter(|| async {
            let content = single.get("bench/object.bin", ByteRange::whole()).await.unwrap();
            assert_eq!(content.bytes.len(), SIZE);
        })
    });
    group.bench_function("put_single/bare_object_store", |b| {
        b.to_async(&runtime).iter(|| async {
            plain
                .put(&Path::from("bench/bare.bin"), body.clone().into())
                .await
                .unwrap();
        })
    });
    group.bench_function("put_single/connector", |b| {
        b.to_async(&runtime).iter(|| async {
            let outcome = single
                .put("bench/connector.bin", body.clone(), None)
                .await
                .unwrap();
            assert_eq!(outcome.parts, 1);
        })
    });
    group.bench_function("put_multipart/bare_object_store", |b| {
        b.to_async(&runtime).iter(|| async {
            let upload = plain
                .put_multipart(&Path::from("bench/bare-mp.bin"))
                .await
                .unwrap();
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
            writer.put(body.clone());
            writer.finish().await.unwrap();
        })
    });
    group.bench_function("put_multipart/connector", |b| {
        b.to_async(&runtime).iter(|| async {
            let outcome = multipart
                .put("bench/connector-mp.bin", body.clone(), None)
                .await
                .unwrap();
            assert_eq!(outcome.parts, 8);
        })
    });
    group.finish();
}

criterion_group!(benches, transfer);
criterion_main!(benches);
