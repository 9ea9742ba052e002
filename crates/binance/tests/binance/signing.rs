//! HMAC signing against the vectors printed in Binance's General Info page.

use perpdesk_binance::Signer;
use perpdesk_binance::signing::{HmacSigner, total_params};
use serde_json::Value;

#[test]
fn matches_every_documented_vector() {
    let path =
        crate::support::shared_dir().join("binance/fixtures/binance-docs.signing-vectors.json");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("signing vectors")).expect("json");
    let signer = HmacSigner::new(
        doc["apiKey"].as_str().expect("apiKey"),
        doc["secretKey"].as_str().expect("secretKey"),
    );
    let vectors = doc["vectors"].as_array().expect("vectors");
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let query = v["queryString"].as_str().expect("queryString");
        let body = v["requestBody"].as_str().expect("requestBody");
        let total = total_params(query, body);
        assert_eq!(
            total,
            v["totalParams"].as_str().expect("totalParams"),
            "{}",
            v["name"]
        );
        assert_eq!(
            signer.sign(&total),
            v["signature"].as_str().expect("signature"),
            "{}",
            v["name"]
        );
    }
}
