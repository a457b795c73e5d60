;; Hostile: recurses without a base case. The bounded wasm stack ends it
;; (MODULE_STACK_OVERFLOW).
(module
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func $down (param $depth i32) (result i32)
    (i32.add (call $down (i32.add (local.get $depth) (i32.const 1))) (i32.const 1)))
  (func (export "evaluate") (result i32)
    (call $down (i32.const 0))))
