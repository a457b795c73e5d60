;; Research access: the grant's purpose-of-use code must be one the policy lists as arguments,
;; and the grant must carry a key deposit (the researcher gets the key through the chain).
;;
;; MedScript: module(<hash>, 21, 22)   ;; allowed purpose codes
;; Reasons:   1 = no key deposit, 2 = purpose not among the arguments
(module
  (import "medchain" "purpose" (func $purpose (result i64)))
  (import "medchain" "has_deposit" (func $has_deposit (result i32)))
  (import "medchain" "arg_count" (func $arg_count (result i32)))
  (import "medchain" "arg_number" (func $arg_number (param i32) (result i64)))
  (global (export "medchain_abi_version") i32 (i32.const 1))

  (func (export "evaluate") (result i32)
    (local $i i32)
    (local $count i32)
    (local $purpose i64)
    (if (i32.eqz (call $has_deposit))
      (then (return (i32.const 1))))
    (local.set $purpose (call $purpose))
    (local.set $count (call $arg_count))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (if (i64.eq (call $arg_number (local.get $i)) (local.get $purpose))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 2)))
