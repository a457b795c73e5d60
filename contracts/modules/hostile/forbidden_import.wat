;; Hostile: asks for the clock through WASI. Refused at deployment (MODULE_FORBIDDEN_IMPORT).
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func (export "evaluate") (result i32)
    (call $clock (i32.const 0) (i64.const 0) (i32.const 0))))
