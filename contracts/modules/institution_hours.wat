;; An institution's emergency procedure: break-glass access only while the institution is
;; staffed, from the opening hour (inclusive) to the closing hour (exclusive), in UTC, read
;; from the block time. A closing hour before the opening hour means a night shift that
;; wraps past midnight; equal hours mean around the clock.
;;
;; MedScript: module(<hash>, 7, 19)   ;; staffed 07:00-19:00 UTC
;; Reasons:   1 = not an emergency access, 2 = outside staffed hours, 3 = bad arguments
(module
  (import "medchain" "is_emergency" (func $is_emergency (result i32)))
  (import "medchain" "block_time" (func $block_time (result i64)))
  (import "medchain" "arg_count" (func $arg_count (result i32)))
  (import "medchain" "arg_number" (func $arg_number (param i32) (result i64)))
  (global (export "medchain_abi_version") i32 (i32.const 1))

  ;; Whether $hour is a valid hour of the day.
  (func $is_hour (param $hour i64) (result i32)
    (i32.and (i64.ge_s (local.get $hour) (i64.const 0))
             (i64.lt_s (local.get $hour) (i64.const 24))))

  (func (export "evaluate") (result i32)
    (local $open i64)
    (local $close i64)
    (local $hour i64)
    (if (i32.eqz (call $is_emergency))
      (then (return (i32.const 1))))
    (if (i32.ne (call $arg_count) (i32.const 2))
      (then (return (i32.const 3))))
    (local.set $open (call $arg_number (i32.const 0)))
    (local.set $close (call $arg_number (i32.const 1)))
    (if (i32.eqz (i32.and (call $is_hour (local.get $open)) (call $is_hour (local.get $close))))
      (then (return (i32.const 3))))
    (local.set $hour (i64.rem_u (i64.div_u (call $block_time) (i64.const 3600)) (i64.const 24)))
    (if (i64.eq (local.get $open) (local.get $close))
      (then (return (i32.const 0))))
    (if (i64.lt_s (local.get $open) (local.get $close))
      (then
        (return (select (i32.const 0) (i32.const 2)
          (i32.and (i64.ge_s (local.get $hour) (local.get $open))
                   (i64.lt_s (local.get $hour) (local.get $close)))))))
    ;; Night shift: staffed from $open to midnight and from midnight to $close.
    (select (i32.const 0) (i32.const 2)
      (i32.or (i64.ge_s (local.get $hour) (local.get $open))
              (i64.lt_s (local.get $hour) (local.get $close)))))
)
