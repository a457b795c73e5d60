//! A payload's rules, dispatched by kind: each kind's rules live in a file of their own, and
//! every rule sees the transaction through a [`Step`].

use medchain_primitives::{Hash32, PubKey, Sig};

use super::{
    Chain, Context, Scope, TxError, access, deploy, records, revocation, roles, share_release, veto,
};
use crate::scripts::ScriptCheck;
use crate::state::StateRead;
use crate::store::{Overlay, Store};
use crate::transaction::{Payload, Transaction};
use crate::verdict::Rejection;

/// A transaction's payload being applied: the chain, the state before the block (roles are
/// read there) and so far in it, the transaction, where it stands, and the script checks it
/// adds.
pub(super) struct Step<'a, 'o, S: Store + ?Sized> {
    /// The chain's parameters.
    pub chain: &'a Chain,
    /// The state as of the parent block.
    pub parent: &'a S,
    /// The state so far, this block's earlier changes included; the payload writes here.
    pub overlay: &'a mut Overlay<'o, S>,
    /// The transaction.
    pub tx: &'a Transaction,
    /// Its id, position and digest.
    pub scope: Scope,
    /// The block it is in.
    pub context: &'a Context,
    /// The script checks the payload adds (record policies).
    pub checks: &'a mut Vec<ScriptCheck>,
}

impl<S: Store + ?Sized> Step<'_, '_, S> {
    /// The transaction's id.
    pub fn txid(&self) -> Hash32 {
        self.scope.txid
    }

    /// `sig` is `who`'s (`key`'s) signature over the transaction.
    pub fn signed(&self, sig: &Sig, key: &PubKey, who: &'static str) -> Result<(), TxError> {
        if sig.verify(key, &self.scope.digest) { Ok(()) } else { Err(TxError::BadSignature(who)) }
    }

    /// `key` held the medical-institution role as of the parent block.
    pub fn require_institution(&self, key: &PubKey, who: &'static str) -> Result<(), Rejection<TxError>> {
        if self.parent.has_role(key, self.chain.medical_institution)? {
            Ok(())
        } else {
            Err(TxError::NotInstitution(who).into())
        }
    }
}

/// Applies the payload's rules and records what it changes.
pub(super) fn apply<S: Store + ?Sized>(step: &mut Step<'_, '_, S>) -> Result<(), Rejection<TxError>> {
    let tx = step.tx;
    match &tx.payload {
        Payload::Transfer | Payload::Coinbase { .. } => Ok(()),
        Payload::RegisterRole { subject, role, governor, signature } => {
            roles::apply(step, (subject, *role), governor, signature, true)
        }
        Payload::WithdrawRole { subject, role, governor, signature } => {
            roles::apply(step, (subject, *role), governor, signature, false)
        }
        Payload::Release { patient, institution, commitment, signature } => {
            records::release(step, patient, institution, commitment, signature)
        }
        Payload::Storage { release, patient, ciphertext, policy, emergency, signature } => {
            records::storage(step, (release, patient), ciphertext, policy, emergency.as_ref(), signature)
        }
        Payload::AccessGrant { grantee, purpose, records } => access::grant(step, grantee, *purpose, records),
        Payload::EmergencyAccess { requester, justification, records, signature } => {
            access::emergency(step, requester, justification, records, signature)
        }
        Payload::ShareRelease { emergency, record, holder, envelope, signature } => {
            share_release::apply(step, (emergency, record), holder, envelope, signature)
        }
        Payload::DeployModule { code } => deploy::apply(step, code),
        Payload::Revocation { grant, owner, signature } => revocation::apply(step, grant, owner, signature),
        Payload::Veto { access, voter, signature } => veto::apply(step, access, voter, signature),
    }
}
