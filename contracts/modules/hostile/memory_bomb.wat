;; Hostile: grows its memory a page at a time without end. The store's limiter stops it at the
;; cap (MODULE_MEMORY_LIMIT).
(module
  (memory (export "memory") 1)
  (global (export "medchain_abi_version") i32 (i32.const 1))
  (func (export "evaluate") (result i32)
    (loop $grow
      (drop (memory.grow (i32.const 1)))
      (br $grow))
    (i32.const 0)))
