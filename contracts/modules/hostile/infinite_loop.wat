;; Hostile: never returns. Fuel ends it (MODULE_OUT_OF_FUEL).
(module
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func (export "evaluate") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
