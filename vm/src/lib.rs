//! MedChain's script VM: Bitcoin's legacy script language, byte for byte as Bitcoin Core runs
//! it, seeing the chain only through the [`Host`] trait.
//!
//! ```
//! use medchain_vm::{Flags, NoTransaction, verify_script};
//! // scriptSig `2 3`, scriptPubKey `ADD 5 EQUAL`.
//! let result = verify_script(&[0x52, 0x53], &[0x93, 0x55, 0x87], Flags::ALL_BITCOIN, &NoTransaction);
//! assert_eq!(result, Ok(()));
//! ```

#![forbid(unsafe_code)]

pub mod access;
pub mod bitcoin;
pub mod error;
pub mod flags;
pub mod host;
pub mod interpreter;
pub mod limits;
pub mod num;
pub mod opcode;
pub mod script;
pub mod signature;
pub mod trace;
pub mod verify;

pub use access::AccessHost;
pub use error::ScriptError;
pub use flags::{Flags, FlagsError};
pub use host::{EmergencyCheck, Host, ModuleVerdict, NoTransaction};
pub use interpreter::{Stack, eval_decoded, eval_script};
pub use opcode::{OPCODE_TABLE, OpClass, OpInfo, Opcode};
pub use script::{Instruction, Script};
pub use trace::{NoTrace, Phase, Step, StepObserver};
pub use verify::{verify_script, verify_script_traced};
