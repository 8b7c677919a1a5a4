mod common;

use scanner_core::{Origin, Scanner};

#[test]
fn legacy_token_in_plain_text() {
    let tok = common::legacy_token("kube-system", "admin", "admin-token-x7k2p");
    let text = format!("export TOKEN={tok}\n");
    let f = Scanner::new().scan_bytes(text.as_bytes(), &Origin::path("a.sh"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "k8s-sa-token-legacy");
    assert_eq!((f[0].line, f[0].column), (1, 14));
}
