//! Unlock latency with the shipped parameters: the number that decides whether
//! `KdfParams::RECOMMENDED` lands in the 0.3–1 s band on the build machine.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perpdesk_vault::{KdfParams, SecretString, Vault};

fn unlock(c: &mut Criterion) {
    let password = SecretString::from("correct horse battery staple");
    let mut group = c.benchmark_group("unlock");
    // Each iteration is hundreds of milliseconds; ten samples are plenty and keep the run short.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for (name, params) in [
        ("recommended", KdfParams::RECOMMENDED),
        ("owasp_minimum", KdfParams::OWASP_MINIMUM),
    ] {
        let Ok((_, header)) = Vault::create(&password, params) else {
            panic!("creating a vault with {params:?} failed");
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(Vault::unlock(black_box(&header), &password)).is_ok());
        });
    }
    group.finish();

    if let Ok(fitted) = KdfParams::calibrate(Duration::from_millis(500), 256 * 1024) {
        eprintln!("calibrate(500 ms, ≤256 MiB) on this machine: {fitted:?}");
    }
}

criterion_group!(benches, unlock);
criterion_main!(benches);
