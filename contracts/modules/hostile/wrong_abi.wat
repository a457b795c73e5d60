;; Hostile: imports nothing, but its entry point has the wrong type (it takes an argument and
;; answers an i64). Refused at deployment (MODULE_NO_ENTRY_POINT).
(module
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func (export "evaluate") (param i32) (result i64)
    (i64.const 0)))
