;; Float-heavy: square roots, divisions and NaN-producing operations (0/0, sqrt of a negative,
;; NaN through f32 and back) in a loop, folding every result's bits into the answer. With NaN
;; canonicalization the answer and the fuel are the same on every machine and every run. It
;; denies with the folded bits as its reason (never 0).
(module
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func (export "evaluate") (result i32)
    (local $i i32)
    (local $x f64)
    (local $nan f64)
    (local $acc i64)
    (local.set $x (f64.const 1.5))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 2000)))
        (local.set $x
          (f64.add
            (f64.mul (local.get $x) (f64.const 1.0000001))
            (f64.sqrt (f64.convert_i32_u (local.get $i)))))
        (local.set $nan
          (f64.promote_f32
            (f32.demote_f64
              (f64.add
                (f64.div (f64.const 0) (f64.convert_i32_u (i32.and (local.get $i) (i32.const 1))))
                (f64.sqrt (f64.neg (local.get $x)))))))
        (local.set $acc
          (i64.xor
            (i64.rotl (local.get $acc) (i64.const 7))
            (i64.xor (i64.reinterpret_f64 (local.get $x)) (i64.reinterpret_f64 (local.get $nan)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.or
      (i32.wrap_i64 (i64.xor (local.get $acc) (i64.shr_u (local.get $acc) (i64.const 32))))
      (i32.const 1))))
