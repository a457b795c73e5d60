//! The VM never panics, for any script and any flag set, and answers the same way twice.

use medchain_vm::bitcoin::{TransactionChecker, crediting_transaction, spending_transaction};
use medchain_vm::verify_script;
use proptest::prelude::*;

use crate::strategies::{any_flags, script, signed_spend};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes(sig in prop::collection::vec(any::<u8>(), 0..64), pubkey in prop::collection::vec(any::<u8>(), 0..64), flags in any_flags()) {
        let crediting = crediting_transaction(&pubkey, 0);
        let spending = spending_transaction(&crediting, &sig, 0);
        let checker = TransactionChecker::new(&spending, 0).unwrap();
        let first = verify_script(&sig, &pubkey, flags, &checker);
        prop_assert_eq!(first, verify_script(&sig, &pubkey, flags, &checker));
    }

    #[test]
    fn structured_scripts(sig in script(12), pubkey in script(16), flags in any_flags()) {
        let crediting = crediting_transaction(&pubkey, 0);
        let spending = spending_transaction(&crediting, &sig, 0);
        let checker = TransactionChecker::new(&spending, 0).unwrap();
        let first = verify_script(&sig, &pubkey, flags, &checker);
        prop_assert_eq!(first, verify_script(&sig, &pubkey, flags, &checker));
    }

    #[test]
    fn signed_spends(spend in signed_spend(), flags in any_flags()) {
        let checker = TransactionChecker::new(&spend.tx, 0).unwrap();
        let _ = verify_script(&spend.script_sig, &spend.script_pubkey, flags, &checker);
    }
}
