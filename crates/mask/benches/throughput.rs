//! Masking throughput on one core: 4 MiB of ordinary text with no PII, and 4 MiB dense with it (a
//! sensitive value every ~60 bytes), both from the seeded corpus generator.
//!
//! `cargo bench -p tributary-mask`. Targets: 200 MB/s clean, 50 MB/s dense.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tributary_mask::{MaskPolicy, Masker, corpus};

const SIZE: usize = 4 * 1024 * 1024;

fn throughput(c: &mut Criterion) {
    let masker = Masker::new(MaskPolicy::default()).unwrap();
    let clean = corpus::clean_text(1, SIZE);
    let dense = corpus::dense_text(2, SIZE);
    assert!(
        masker.mask_text(&clean).1.is_empty(),
        "the clean text holds no PII"
    );
    let found = masker.mask_text(&dense).1.total();
    assert!(
        found > 50_000,
        "the dense text holds PII throughout ({found} values)"
    );

    let mut group = c.benchmark_group("mask_text");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(clean.len() as u64));
    group.bench_function("clean_text", |b| b.iter(|| masker.mask_text(&clean).1.total()));
    group.throughput(Throughput::Bytes(dense.len() as u64));
    group.bench_function("dense_pii", |b| b.iter(|| masker.mask_text(&dense).1.total()));
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
